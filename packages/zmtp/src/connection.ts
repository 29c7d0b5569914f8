/**
One ZMTP 3 connection over a node:net socket: greeting, NULL-mechanism READY exchange, PING/PONG,
then message frames to its owner. Shared by the subscriber (client side) and the publisher (server side).
*/

import type net from 'node:net';
import {encodePong, encodeReady, errorReason, parseCommand, parseProperties} from './commands.js';
import {FLAG_COMMAND} from './frame.js';
import {FrameDecoder, ZmtpStreamError} from './frame-decoder.js';
import {GreetingReader, OUR_GREETING, SIGNATURE_BYTES} from './greeting.js';

export type ZmtpFailure = 'handshake' | 'oversize' | 'protocol';

export type ZmtpConnectionHandler = {
	/** Greetings and READYs exchanged: messages may flow. */
	onReady(): void;
	/** A message frame (flags: MORE or 0) after the handshake. */
	onData(flags: number, body: Buffer): void;
	/** A command after the handshake other than PING/PONG (SUBSCRIBE, CANCEL, unknown ones). */
	onCommand(name: string, data: Buffer): void;
	/** We closed the connection for a fault of the peer's; nothing more is reported for it. */
	onFailure(kind: ZmtpFailure, detail: string): void;
	/** The socket closed (peer closed, reset, connect failed); `code` from its last error if any. */
	onClose(code: string | undefined, wasEstablished: boolean): void;
};

export type ZmtpConnectionOptions = {
	socketType: 'PUB' | 'SUB';
	/** Socket types the peer's READY may carry. */
	peerTypes: readonly string[];
	maxFrameBytes: number;
	maxCommandBytes: number;
	/** Sent right after our READY, in the same write (the subscriber's subscription). */
	afterReady?: Buffer;
	/**
	The owner reads the socket itself (net's `onread`, see subscriber.ts) and hands each chunk to
	`feed()`; otherwise the connection listens to 'data'.
	*/
	ownerReads?: boolean;
};

const enum Phase {
	Greeting,
	AwaitReady,
	Established,
	Done,
}

export class ZmtpConnection {
	readonly socket: net.Socket;
	readonly #options: ZmtpConnectionOptions;
	readonly #handler: ZmtpConnectionHandler;
	readonly #greeting = new GreetingReader();
	readonly #decoder: FrameDecoder;
	#phase = Phase.Greeting;
	/** The rest of our greeting (after the signature) has been written. */
	#greetingSent = false;
	#errorCode: string | undefined;

	constructor(socket: net.Socket, options: ZmtpConnectionOptions, handler: ZmtpConnectionHandler) {
		this.socket = socket;
		this.#options = options;
		this.#handler = handler;
		this.#decoder = new FrameDecoder(options, (flags, body) => {
			if (this.#phase === Phase.Established && (flags & FLAG_COMMAND) === 0) {
				this.#handler.onData(flags, body);
			} else {
				this.#onOtherFrame(flags, body);
			}
		});
		// Small frames must leave at once, not wait for Nagle.
		socket.setNoDelay(true);
		if (options.ownerReads !== true) {
			socket.on('data', (chunk: Buffer) => {
				this.#onChunk(chunk);
			});
		}

		socket.on('error', (error: NodeJS.ErrnoException) => {
			this.#errorCode = error.code ?? 'EUNKNOWN';
		});
		socket.on('close', () => {
			if (this.#phase === Phase.Done) {
				return;
			}

			const phase = this.#phase;
			this.#phase = Phase.Done;
			this.#decoder.stop();
			// libzmq closes without a word when it refuses our greeting or READY (another mechanism such
			// as CURVE, an incompatible socket type), often before the rest of its own greeting has left
			// its buffer. A ZMTP peer (its signature seen) that hangs up mid-handshake has refused us.
			if (phase === Phase.AwaitReady || (phase === Phase.Greeting && this.#greeting.signatureSeen)) {
				this.#handler.onFailure(
					'handshake',
					phase === Phase.Greeting
						? 'the peer closed the connection on our greeting (does it want CURVE or another mechanism?)'
						: 'the peer closed the connection before READY (an incompatible socket type, or refused by its ZAP handler?)',
				);
				return;
			}

			this.#handler.onClose(this.#errorCode, phase === Phase.Established);
		});
		// The signature now, the rest of the greeting once the peer's signature is here (see greeting.ts).
		// A client's socket holds the write until TCP connects.
		socket.write(OUR_GREETING.subarray(0, SIGNATURE_BYTES));
	}

	get established(): boolean {
		return this.#phase === Phase.Established;
	}

	/** A chunk the owner read from the socket (with `ownerReads`); it must not be reused afterwards. */
	feed(chunk: Buffer): void {
		this.#onChunk(chunk);
	}

	/** Close without reporting anything more. */
	destroy(): void {
		this.#phase = Phase.Done;
		this.#decoder.stop();
		this.socket.destroy();
	}

	#onChunk(chunk: Buffer): void {
		if (this.#phase === Phase.Greeting) {
			const taken = this.#greeting.feed(chunk);
			if (this.#greeting.failure !== undefined) {
				this.#fail('handshake', this.#greeting.failure);
				return;
			}

			if (!this.#greetingSent && this.#greeting.signatureSeen) {
				this.#greetingSent = true;
				this.socket.write(OUR_GREETING.subarray(SIGNATURE_BYTES));
			}

			if (this.#greeting.greeting === undefined) {
				return;
			}

			// NULL mechanism: READY goes out once the greetings agree. A peer announcing 3.1 gets 3.0
			// behaviour from us, which the spec requires of the higher version.
			this.#phase = Phase.AwaitReady;
			const ready = encodeReady(this.#options.socketType);
			const {afterReady} = this.#options;
			this.socket.write(afterReady === undefined ? ready : Buffer.concat([ready, afterReady]));
			chunk = chunk.subarray(taken);
			if (chunk.length === 0) {
				return;
			}
		}

		if (this.#phase === Phase.Done) {
			return;
		}

		try {
			this.#decoder.push(chunk);
		} catch (error) {
			this.#onStreamError(error);
		}
	}

	#onStreamError(error: unknown): void {
		if (!(error instanceof ZmtpStreamError)) {
			throw error;
		}

		this.#fail(this.#phase === Phase.Established ? error.reason : 'handshake', error.detail);
	}

	/** Commands, and message frames that arrive before the handshake is done. */
	#onOtherFrame(flags: number, body: Buffer): void {
		if (this.#phase === Phase.Done) {
			return;
		}

		if ((flags & FLAG_COMMAND) === 0) {
			this.#fail('handshake', 'a message frame before READY');
			return;
		}

		const command = parseCommand(body);
		if (command === undefined) {
			this.#fail(this.#phase === Phase.Established ? 'protocol' : 'handshake', 'a malformed command frame');
			return;
		}

		if (this.#phase === Phase.AwaitReady) {
			this.#onHandshakeCommand(command.name, command.data);
			return;
		}

		switch (command.name) {
			case 'PING': {
				this.socket.write(encodePong(command.data));
				break;
			}

			case 'PONG': {
				break;
			}

			default: {
				this.#handler.onCommand(command.name, command.data);
			}
		}
	}

	#onHandshakeCommand(name: string, data: Buffer): void {
		if (name === 'ERROR') {
			this.#fail('handshake', `the peer refused us: ${errorReason(data)}`);
			return;
		}

		if (name !== 'READY') {
			this.#fail('handshake', `expected READY, got ${JSON.stringify(name)}`);
			return;
		}

		const properties = parseProperties(data);
		if (properties === undefined) {
			this.#fail('handshake', 'malformed READY properties');
			return;
		}

		const socketType = properties.get('socket-type')?.toString('latin1');
		if (socketType === undefined || !this.#options.peerTypes.includes(socketType)) {
			this.#fail(
				'handshake',
				`the peer is a ${socketType ?? 'socket of no type'}; a ${this.#options.socketType} needs ${this.#options.peerTypes.join(' or ')}`,
			);
			return;
		}

		this.#phase = Phase.Established;
		this.#handler.onReady();
	}

	#fail(kind: ZmtpFailure, detail: string): void {
		this.destroy();
		this.#handler.onFailure(kind, detail);
	}
}
