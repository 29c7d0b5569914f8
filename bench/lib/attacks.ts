/**
The attacks of issue 12, each a function that starts one against a node and returns a handle to stop
it: raw ZMTP 3 over node:net (no ZeroMQ library would send what these send), for the soak's
`--attack` mode and for any test that wants a hostile peer.

Two sides: a hostile *publisher* is an endpoint the node dials (`--peer`), which answers its
handshake and then misbehaves; a hostile *subscriber* dials the node's own publisher. Writes follow
the socket's back-pressure, so an attacker floods as fast as the node reads and no faster; each
counts what it sent.
*/

import net from 'node:net';

export type Attack = {
	readonly name: string;
	/** What it did so far: frames, commands, messages, connections. */
	readonly counts: Record<string, number>;
	/** The endpoint of a hostile publisher (give it to the node as `--peer`); empty for the others. */
	readonly endpoint: string;
	stop(): Promise<void>;
};

const SIGNATURE = Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f]);

/** A ZMTP 3.1 greeting, NULL mechanism. */
export function greeting(asServer: boolean): Buffer {
	const buffer = Buffer.alloc(64);
	SIGNATURE.copy(buffer, 0);
	buffer[10] = 3;
	buffer[11] = 1;
	buffer.write('NULL', 12, 'ascii');
	buffer[32] = asServer ? 1 : 0;
	return buffer;
}

/** A command frame: name and body. */
export function command(name: string, body: Buffer = Buffer.alloc(0)): Buffer {
	const payload = Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'ascii'), body]);
	return frame(payload, {command: true});
}

/** A READY command with a Socket-Type property. */
export function ready(socketType: 'PUB' | 'SUB'): Buffer {
	const name = Buffer.from('Socket-Type', 'ascii');
	const value = Buffer.from(socketType, 'ascii');
	const length = Buffer.alloc(4);
	length.writeUInt32BE(value.length);
	return command('READY', Buffer.concat([Buffer.from([name.length]), name, length, value]));
}

/** One ZMTP frame: short or long, with the MORE and COMMAND flags as asked. */
export function frame(body: Buffer, flags: {more?: boolean; command?: boolean} = {}): Buffer {
	const bits = (flags.more ? 0x01 : 0) | (flags.command ? 0x04 : 0);
	if (body.length <= 255) {
		return Buffer.concat([Buffer.from([bits, body.length]), body]);
	}

	const header = Buffer.alloc(9);
	header[0] = bits | 0x02;
	header.writeBigUInt64BE(BigInt(body.length), 1);
	return Buffer.concat([header, body]);
}

/** The handshake a publisher sends to a subscriber that dialled it (greeting, then READY). */
const PUBLISHER_HELLO = Buffer.concat([greeting(true), ready('PUB')]);
const SUBSCRIBER_HELLO = Buffer.concat([greeting(false), ready('SUB')]);

/**
Write `chunk()` to the socket over and over, as fast as the socket drains, until stopped. Each write
counts `perChunk` units under `key`.
*/
function pump(socket: net.Socket, chunk: () => Buffer, counts: Record<string, number>, key: string, perChunk: number, isStopped: () => boolean): void {
	const write = () => {
		while (!isStopped() && !socket.destroyed) {
			counts[key] = (counts[key] ?? 0) + perChunk;
			if (!socket.write(chunk())) {
				socket.once('drain', write);
				return;
			}
		}
	};

	write();
}

/** A TCP server that plays a ZMTP publisher for every node that dials it, then runs `misbehave`. */
async function hostilePublisher(
	name: string,
	port: number,
	misbehave: (socket: net.Socket, counts: Record<string, number>, isStopped: () => boolean) => void,
): Promise<Attack> {
	const counts: Record<string, number> = {};
	const sockets = new Set<net.Socket>();
	let stopped = false;
	const server = net.createServer((socket) => {
		sockets.add(socket);
		counts['connections'] = (counts['connections'] ?? 0) + 1;
		socket.setNoDelay(true);
		socket.on('error', () => {});
		socket.on('close', () => sockets.delete(socket));
		// What the node sends (its greeting, READY, subscriptions) is read and thrown away.
		socket.on('data', () => {});
		socket.write(PUBLISHER_HELLO);
		misbehave(socket, counts, () => stopped);
	});
	server.on('error', () => {});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => resolve());
	});
	return {
		name,
		counts,
		endpoint: `tcp://127.0.0.1:${port}`,
		async stop() {
			stopped = true;
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise((resolve) => server.close(resolve));
		},
	};
}

/** Issue 12 §1: after the handshake, endless empty frames with the MORE flag (2 bytes each). */
export async function emptyMoreFrames(port: number): Promise<Attack> {
	const block = Buffer.alloc(64 * 1024);
	for (let at = 0; at < block.length; at += 2) {
		block[at] = 0x01;
	}

	return hostilePublisher('empty MORE frames', port, (socket, counts, isStopped) => {
		pump(socket, () => block, counts, 'frames', block.length / 2, isStopped);
	});
}

/** Issue 12 §1: a flood of tiny unknown commands after the handshake. */
export async function unknownCommandFlood(port: number): Promise<Attack> {
	const one = command('FOO');
	const block = Buffer.concat(Array.from({length: Math.floor((64 * 1024) / one.length)}, () => one));
	return hostilePublisher('unknown-command flood', port, (socket, counts, isStopped) => {
		pump(socket, () => block, counts, 'commands', block.length / one.length, isStopped);
	});
}

/**
Issue 12 §5: Lamport poisoning and spoofed incarnations from a publisher the node dials, as valid
wire messages: the clock at 2^53 − 1 and a million ahead of the mesh, and a genuine peer's id with
an incarnation of 2^53 − 1 (`spoofId`), a few times a second.
*/
export async function poisoner(port: number, spoofId: string, meshLamport: () => number): Promise<Attack> {
	return hostilePublisher('Lamport poisoning and spoofed incarnations', port, (socket, counts, isStopped) => {
		let round = 0;
		const timer = setInterval(() => {
			if (isStopped() || socket.destroyed) {
				clearInterval(timer);
				return;
			}

			round++;
			const messages = [
				{node_id: 'poison-max', phase: 0, lamport_time: Number.MAX_SAFE_INTEGER, incarnation: 1},
				{node_id: `poison-jump-${round % 7}`, phase: 0, lamport_time: meshLamport() + 1_000_000, incarnation: 1},
			];
			counts['lamport'] = (counts['lamport'] ?? 0) + 2;
			if (round % 5 === 0) {
				// Every 2 s: the genuine peer's id from an incarnation far in the future.
				messages.push({node_id: spoofId, phase: 0, lamport_time: meshLamport(), incarnation: Number.MAX_SAFE_INTEGER});
				counts['spoofed'] = (counts['spoofed'] ?? 0) + 1;
			}

			for (const message of messages) {
				socket.write(frame(Buffer.from(JSON.stringify(message))));
			}
		}, 400);
		socket.on('close', () => clearInterval(timer));
	});
}

/**
Dial the node's publisher `count` times, keep each connection through `after` (called once the
handshake is sent), and dial again when one closes, until stopped.
*/
function hostileSubscribers(
	name: string,
	endpointPort: number,
	count: number,
	after: (socket: net.Socket, counts: Record<string, number>, isStopped: () => boolean) => void,
	hello: Buffer | undefined = SUBSCRIBER_HELLO,
): Attack {
	const counts: Record<string, number> = {};
	const sockets = new Set<net.Socket>();
	let stopped = false;
	const dial = () => {
		if (stopped) {
			return;
		}

		const socket = net.connect({port: endpointPort, host: '127.0.0.1'});
		sockets.add(socket);
		counts['dials'] = (counts['dials'] ?? 0) + 1;
		socket.on('error', () => {
			counts['errors'] = (counts['errors'] ?? 0) + 1;
		});
		socket.on('close', () => {
			sockets.delete(socket);
			// Redial after a pause: a node that closes us gets us back, but not in a tight loop.
			setTimeout(dial, 200 + Math.random() * 800).unref();
		});
		socket.on('connect', () => {
			counts['connected'] = (counts['connected'] ?? 0) + 1;
			if (hello !== undefined) {
				socket.write(hello);
			}

			after(socket, counts, () => stopped);
		});
	};

	for (let index = 0; index < count; index++) {
		dial();
	}

	return {
		name,
		counts,
		endpoint: '',
		async stop() {
			stopped = true;
			for (const socket of sockets) {
				socket.destroy();
			}
		},
	};
}

/** Issue 12 §2: subscribers that flood PING and never read what the node sends back. */
export function pingFlood(targetPort: number, clients = 3): Attack {
	// PING: TTL (2 bytes, tenths of a second) and a 16-byte context.
	const one = command('PING', Buffer.concat([Buffer.from([0, 10]), Buffer.alloc(16, 0x61)]));
	const block = Buffer.concat(Array.from({length: Math.floor((64 * 1024) / one.length)}, () => one));
	return hostileSubscribers('PING flood from non-readers', targetPort, clients, (socket, counts, isStopped) => {
		// Never read: the node's PONGs (and data) pile up on its side.
		socket.pause();
		pump(socket, () => block, counts, 'pings', block.length / one.length, isStopped);
	});
}

/**
Issue 12 §3: many connections, each subscribing to many prefixes that match nothing, some of them
long (over 16,383 characters, where V8 hashes strings by length alone).
*/
export function subscriptionFlood(targetPort: number, clients = 20): Attack {
	let serial = 0;
	return hostileSubscribers('subscription flood', targetPort, clients, (socket, counts, isStopped) => {
		socket.pause();
		const next = () => {
			serial++;
			const length = serial % 50 === 0 ? 16_384 + (serial % 1000) : 8 + (serial % 56);
			const prefix = Buffer.alloc(length, 0x7a);
			prefix.write(`~${serial.toString(36)}~`, 0, 'ascii');
			// ZMTP 3.0 subscription: a message whose first byte is 1, then the prefix.
			return frame(Buffer.concat([Buffer.from([1]), prefix]));
		};

		const timer = setInterval(() => {
			if (isStopped() || socket.destroyed) {
				clearInterval(timer);
				return;
			}

			for (let index = 0; index < 50; index++) {
				socket.write(next());
			}

			counts['subscriptions'] = (counts['subscriptions'] ?? 0) + 50;
		}, 100);
		socket.on('close', () => clearInterval(timer));
	});
}

/**
Issue 12 §4: a flood of connections to the node's publisher: half complete the handshake and idle,
half send half a greeting and stall. Closed connections are dialled again.
*/
export function connectionFlood(targetPort: number, connections = 1000): Attack {
	let serial = 0;
	return hostileSubscribers(
		'connection flood',
		targetPort,
		connections,
		(socket) => {
			socket.pause();
			socket.write(serial++ % 2 === 0 ? SUBSCRIBER_HELLO : greeting(false).subarray(0, 20));
		},
		undefined,
	);
}
