/**
The ZMTP 3 greeting (RFC 23): 64 bytes, read incrementally from the peer.

libzmq sends its greeting in pieces (the 10-byte signature, then the rest once it has seen ours),
and a peer speaking an older ZMTP sends fewer than 64 bytes, so the reader judges each field as
soon as it arrives rather than waiting for all 64.

We send ours in two pieces as well: the signature at once, the other 54 bytes as soon as the peer's
signature has arrived. Sent whole, it let a libzmq server that refuses our mechanism (a CURVE
server) read all of it and close before its own signature had left its buffer (measured: about
one dial in three), which looked like any dead connection; now a refusal always follows a
signature we have seen, so it is reported as a refusal. The cost is one round trip per handshake,
and no peer can be left waiting: every ZMTP peer sends its signature without waiting for ours.
*/

export const GREETING_BYTES = 64;
export const SIGNATURE_BYTES = 10;
export const MECHANISM_NULL = 'NULL';

/**
Our greeting: signature 0xFF, 8 padding bytes, 0x7F; version 3.0 (so that libzmq sends
subscriptions as messages whose first byte is 1 or 0); mechanism NULL; as-server 0; filler.
*/
export const OUR_GREETING: Buffer = (() => {
	const greeting = Buffer.alloc(GREETING_BYTES);
	greeting[0] = 0xff;
	greeting[9] = 0x7f;
	greeting[10] = 3;
	greeting[11] = 0;
	greeting.write(MECHANISM_NULL, 12, 'latin1');
	return greeting;
})();

export type PeerGreeting = {major: number; minor: number; mechanism: string};

export class GreetingReader {
	readonly #bytes = Buffer.alloc(GREETING_BYTES);
	#have = 0;
	/** Why the greeting is unacceptable, as soon as that is known. */
	failure: string | undefined;
	greeting: PeerGreeting | undefined;

	/** Take greeting bytes from `chunk`; returns how many it took. */
	feed(chunk: Buffer): number {
		const take = Math.min(GREETING_BYTES - this.#have, chunk.length);
		chunk.copy(this.#bytes, this.#have, 0, take);
		const before = this.#have;
		this.#have += take;
		this.#judge(before);
		return take;
	}

	/** A valid 10-byte ZMTP 3 signature has arrived: the peer speaks ZMTP. */
	get signatureSeen(): boolean {
		return this.#have >= SIGNATURE_BYTES && this.failure === undefined;
	}

	get done(): boolean {
		return this.greeting !== undefined || this.failure !== undefined;
	}

	#judge(before: number): void {
		const bytes = this.#bytes;
		const have = this.#have;
		if (before < 1 && have >= 1 && bytes[0] !== 0xff) {
			this.failure = 'not a ZMTP 3 greeting (a ZMTP 1.0 peer, or not ZeroMQ at all)';
			return;
		}

		// Bit 0 of the signature's last byte is clear in a ZMTP 1.0 identity frame.
		if (before < 10 && have >= 10 && (bytes[9]! & 1) === 0) {
			this.failure = 'not a ZMTP 3 greeting (a ZMTP 1.0 peer)';
			return;
		}

		if (before < 11 && have >= 11 && bytes[10]! < 3) {
			this.failure = `the peer speaks ZMTP ${bytes[10]}.x; 3.0 or later is needed`;
			return;
		}

		if (have === GREETING_BYTES) {
			const mechanismField = bytes.subarray(12, 32);
			const end = mechanismField.indexOf(0);
			const mechanism = mechanismField.toString('latin1', 0, end === -1 ? 20 : end);
			if (mechanism !== MECHANISM_NULL) {
				this.failure = `the peer uses the ${JSON.stringify(mechanism)} mechanism; only NULL is spoken here`;
				return;
			}

			this.greeting = {major: bytes[10]!, minor: bytes[11]!, mechanism};
		}
	}
}
