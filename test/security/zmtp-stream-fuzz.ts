/**
Byte-stream fuzzing of the ZMTP engine's receive side: the greeting reader, the READY exchange, the
frame decoder and the connection's limits (parts, control budget, PONG backlog), fed in process
through a stand-in socket. Each session is one connection, as a subscriber (the peer is a PUB) or a
publisher (the peer is a SUB), fed a stream built from valid pieces (greeting, READY, messages,
commands), mutated, or random bytes, cut into chunks of random sizes. Seeded: a failure replays.
*/

import {EventEmitter} from 'node:events';
import type net from 'node:net';
import {MAX_PONG_BACKLOG_BYTES, ZmtpConnection, type ZmtpFailure} from '../../packages/zmtp/src/connection.js';
import {encodeCommand, encodeFrame, encodeReady, OUR_GREETING} from '../../packages/zmtp/src/protocol.js';
import {seededUniform} from '../../source/mesh/model/random.js';

/** What a socket is to a ZmtpConnection, and no more: writes are counted, never sent. */
// eslint-disable-next-line unicorn/prefer-event-target -- it stands in for a net.Socket, which is an EventEmitter.
class StandInSocket extends EventEmitter {
	destroyed = false;
	written: number;
	/** `holdsWrites`: a peer that never reads, its send buffer already at the PONG bound. */
	constructor(readonly holdsWrites: boolean) {
		super();
		this.written = holdsWrites ? MAX_PONG_BACKLOG_BYTES : 0;
	}

	/** A peer that never reads: everything written stays queued (the PONG bound's case). */
	get writableLength(): number {
		return this.holdsWrites ? this.written : 0;
	}

	setNoDelay(): void {}
	pause(): void {}
	resume(): void {}

	write(data: Buffer): boolean {
		this.written += data.length;
		return true;
	}

	destroy(): void {
		if (!this.destroyed) {
			this.destroyed = true;
			this.emit('close');
		}
	}
}

export type FuzzTally = {
	chunks: number;
	bytes: number;
	sessions: number;
	ready: number;
	frames: number;
	commands: number;
	pingsDropped: number;
	failures: Partial<Record<ZmtpFailure, number>>;
};

export function fuzzZmtpStreams(totalChunks: number, seed: number, onProgress?: (tally: FuzzTally) => void): FuzzTally {
	const random = seededUniform(seed);
	const int = (below: number) => Math.floor(random() * below);
	const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
	// Random bytes are views of one seeded block, and the pieces come from a pool built once: making
	// the input must cost less than reading it, or a million chunks take minutes.
	const noise = Buffer.allocUnsafe(1 << 20);
	for (let index = 0; index < noise.length; index++) {
		noise[index] = int(256);
	}

	const bytes = (length: number) => {
		const at = int(noise.length - length);
		return noise.subarray(at, at + length);
	};

	const greeting = () => {
		const copy = Buffer.from(OUR_GREETING);
		if (random() < 0.2) {
			copy[11] = int(3); // minor version
		}

		if (random() < 0.1) {
			copy.fill(0, 12, 32);
			copy.write(pick(['CURVE', 'PLAIN', 'NUL', 'NULLX', '']), 12, 'latin1');
		}

		if (random() < 0.05) {
			copy[10] = pick([1, 2, 4, 255]); // major version
		}

		return copy;
	};

	const piece = (peerType: string): Buffer => {
		switch (int(12)) {
			case 0: {
				return encodeReady(pick([peerType, peerType, 'REQ', 'XPUB', 'XSUB', '']));
			}

			case 1: {
				return encodeCommand('PING', bytes(int(20)));
			}

			case 2: {
				return encodeCommand(pick(['PONG', 'SUBSCRIBE', 'CANCEL', 'ERROR', 'X', 'READY']), bytes(int(40)));
			}

			case 3: {
				// A run of empty frames with MORE, long enough at times to pass the part limit.
				return Buffer.concat(Array.from({length: 1 + int(100)}, () => encodeFrame(Buffer.alloc(0), 1)));
			}

			case 4: {
				// A run of tiny unknown commands.
				// A run of tiny unknown commands, now and then longer than the control budget.
				return Buffer.concat(Array.from({length: 1 + int(random() < 0.1 ? 3000 : 300)}, () => encodeCommand('Z')));
			}

			case 5: {
				// A frame header that declares a size it never sends, or a huge one.
				const header = Buffer.alloc(9);
				header[0] = pick([0x02, 0x03, 0x06, 0x07]);
				header.writeUInt32BE(pick([0, 0, 1, 0x7f_ff_ff_ff, 0xff_ff_ff_ff]), 1);
				header.writeUInt32BE(int(2 ** 32), 5);
				return header;
			}

			case 6: {
				return bytes(int(64));
			}

			default: {
				const body = random() < 0.5 ? Buffer.from(`{"node_id":"f${int(99)}","phase":0.5,"lamport_time":${int(1e6)}}`) : bytes(int(300));
				return encodeFrame(random() < 0.5 && body.length > 0 ? Buffer.concat([Buffer.from([int(2)]), body]) : body, random() < 0.2 ? 1 : 0);
			}
		}
	};

	const mutate = (stream: Buffer): Buffer => {
		if (stream.length === 0) {
			return stream;
		}

		const at = int(stream.length);
		switch (int(6)) {
			case 0: {
				const copy = Buffer.from(stream);
				copy[at] = copy[at]! ^ (1 << int(8));
				return copy;
			}

			case 1: {
				return Buffer.concat([stream.subarray(0, at), bytes(1 + int(8)), stream.subarray(at)]);
			}

			case 2: {
				return Buffer.concat([stream.subarray(0, at), stream.subarray(Math.min(stream.length, at + 1 + int(16)))]);
			}

			case 3: {
				return stream.subarray(0, at);
			}

			case 4: {
				const end = Math.min(stream.length, at + 1 + int(64));
				return Buffer.concat([stream.subarray(0, end), stream.subarray(at, end), stream.subarray(end)]);
			}

			default: {
				const copy = Buffer.from(stream);
				copy[at] = pick([0x00, 0x01, 0x02, 0x04, 0x07, 0xff]);
				return copy;
			}
		}
	};

	const pools = new Map<string, Buffer[]>();
	for (const peerType of ['PUB', 'SUB']) {
		pools.set(peerType, Array.from({length: 4096}, () => Buffer.from(piece(peerType))));
	}

	const tally: FuzzTally = {chunks: 0, bytes: 0, sessions: 0, ready: 0, frames: 0, commands: 0, pingsDropped: 0, failures: {}};
	while (tally.chunks < totalChunks) {
		tally.sessions++;
		const asSubscriber = random() < 0.5;
		const peerType = asSubscriber ? 'PUB' : 'SUB';
		const socket = new StandInSocket(random() < 0.5);
		const connection = new ZmtpConnection(
			socket as unknown as net.Socket,
			{
				socketType: asSubscriber ? 'SUB' : 'PUB',
				peerTypes: asSubscriber ? ['PUB', 'XPUB'] : ['SUB', 'XSUB'],
				maxFrameBytes: 64 * 1024,
				maxCommandBytes: 64 * 1024,
				ownerReads: true,
			},
			{
				onReady() {
					tally.ready++;
				},
				onData() {
					tally.frames++;
				},
				onCommand() {
					tally.commands++;
				},
				onPingDropped() {
					tally.pingsDropped++;
				},
				onFailure(kind) {
					tally.failures[kind] = (tally.failures[kind] ?? 0) + 1;
				},
				onClose() {},
			},
		);

		// Mostly a proper start (so that the fuzzing reaches past the handshake), sometimes not.
		const parts: Buffer[] = [];
		const start = random();
		if (start < 0.85) {
			parts.push(greeting(), encodeReady(random() < 0.9 ? peerType : pick(['REQ', 'PAIR'])));
		} else if (start < 0.95) {
			parts.push(greeting());
		}

		const pool = pools.get(peerType)!;
		for (let count = int(40); count > 0; count--) {
			parts.push(pick(pool));
		}

		let stream: Buffer = Buffer.concat(parts);
		const style = random();
		if (style < 0.1) {
			stream = bytes(int(2000));
		} else if (style < 0.6) {
			for (let count = 1 + int(3); count > 0; count--) {
				stream = mutate(stream);
			}
		}

		// Cut into chunks of 1–300 bytes (a few of up to 4 KiB), fed one by one as reads would be.
		let offset = 0;
		while (offset < stream.length && tally.chunks < totalChunks && !socket.destroyed) {
			const size = random() < 0.05 ? 1 + int(4096) : 1 + int(300);
			const chunk = Buffer.from(stream.subarray(offset, offset + size));
			offset += size;
			tally.chunks++;
			tally.bytes += chunk.length;
			connection.feed(chunk);
			if (onProgress !== undefined && tally.chunks % 100_000 === 0) {
				onProgress(tally);
			}
		}

		connection.destroy();
	}

	return tally;
}
