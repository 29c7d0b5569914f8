/**
A ZMTP 3 ROUTER socket over node:net: binds tcp:// endpoints, accepts DEALER, REQ and ROUTER peers,
hands each whole message up with the routing id of the connection it came from, and sends a message
back to the connection a routing id names.

As libzmq's ROUTER: each connection gets a 5-byte routing id (a zero byte, then a 32-bit number that
starts at random and counts up), a message for a routing id that is gone is dropped without a word,
and a peer that does not read loses what would pass its send bound. Unlike libzmq, a peer's own
identity (READY's Identity property) is not used: routing ids are always ours.

Everything a peer sends is bounded: a message (all its frames) over `maxMessageBytes`, more than
`maxMessageParts` frames, a malformed stream or a flood of commands closes its connection with a
`client-refused` event; a connection past `maxConnections` is closed as it is accepted. Messages are
handed up as they are read (no queue of our own), 64 KiB of a connection at a time (connection.ts).
*/

import {randomBytes} from 'node:crypto';
import type net from 'node:net';
import {ZmtpConnection, type ZmtpFailure} from './connection.js';
import {descriptorOf, writeThrough} from './descriptor.js';
import {bindListener} from './listener.js';
import {encodeMessage} from './frame.js';
import {MessageAssembler} from './message-assembler.js';

/**
Why the router closed a connection or dropped what it would send, each a `client-refused` event:
`max-connections` and `descriptors` when accepting, `send-queue-full` for a reply to a peer whose
unsent bytes passed `maxQueuedBytesPerPeer` (the reply is dropped, the connection stays), the
stream's own faults (`oversize`, `too-many-parts`, `protocol`, `command-flood`: closed), and
`ping-dropped`.
*/
export type ZmtpRouterRefusal = 'max-connections' | 'descriptors' | 'send-queue-full' | 'ping-dropped' | Exclude<ZmtpFailure, 'handshake'>;

export type ZmtpRouterEvent =
	/** A peer completed its handshake: messages may come from it. */
	| {type: 'connect'; routingId: Buffer}
	/** A connected peer went away by itself (not one the router closed: that is `client-refused`). */
	| {type: 'disconnect'; routingId: Buffer}
	/** A connecting peer's greeting or READY was unacceptable, or none came in time (code ETIMEDOUT). */
	| {type: 'client-handshake-failed'; reason: string; code?: string}
	| {type: 'client-refused'; reason: ZmtpRouterRefusal; detail: string};

export type ZmtpRouterOptions = {
	/** A whole message (all its frames) larger than this closes the connection it came on. @default 65536 */
	maxMessageBytes?: number;
	/** Frames of one message; more close the connection. @default 64 */
	maxMessageParts?: number;
	/** Bytes waiting unsent to one peer beyond which a message for it is dropped. @default 4194304 */
	maxQueuedBytesPerPeer?: number;
	/** Connections held at once (handshaking or established); one more is closed as it is accepted. @default 1024 */
	maxConnections?: number;
	/** A peer that has not completed the handshake in this long is closed. @default 10000 */
	handshakeTimeoutMs?: number;
	/** A whole message from a peer: its routing id, then its frames. */
	onMessage: (routingId: Buffer, frames: Buffer[]) => void;
	onEvent?: (event: ZmtpRouterEvent) => void;
};

type Peer = {
	readonly routingId: Buffer;
	readonly key: string;
	readonly connection: ZmtpConnection;
	readonly assembler: MessageAssembler;
	handshakeTimer: NodeJS.Timeout | undefined;
};

export class ZmtpRouter {
	readonly #options: Required<Omit<ZmtpRouterOptions, 'onEvent'>> & Pick<ZmtpRouterOptions, 'onEvent'>;
	readonly #servers: net.Server[] = [];
	/** Every connection, handshaking or established, by its routing id in hex. */
	readonly #peers = new Map<string, Peer>();
	#nextId = randomBytes(4).readUInt32BE(0);
	#closed = false;

	constructor(options: ZmtpRouterOptions) {
		this.#options = {
			maxMessageBytes: options.maxMessageBytes ?? 64 * 1024,
			maxMessageParts: options.maxMessageParts ?? 64,
			maxQueuedBytesPerPeer: options.maxQueuedBytesPerPeer ?? 4 * 1024 * 1024,
			maxConnections: options.maxConnections ?? 1024,
			handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
			onMessage: options.onMessage,
			onEvent: options.onEvent,
		};
	}

	/** Connections held now, handshaking or established. */
	get connectionCount(): number {
		return this.#peers.size;
	}

	/** Resolves to `tcp://<host>:<port>` with the port actually bound; rejects with an Error that has `code`. */
	async bind(endpoint: string): Promise<string> {
		const {server, endpoint: bound} = await bindListener({
			kind: 'router',
			closed: () => this.#closed,
			accept: (socket) => {
				this.#accept(socket);
			},
			refuse: (reason, message) => {
				this.#refuse(reason, message);
			},
		}, endpoint);
		this.#servers.push(server);
		return bound;
	}

	/**
	Send a message to the peer `routingId` names. Returns false when it was dropped: no such peer (it
	went away), the router is closed, or the peer's unsent bytes passed the bound. Never blocks.
	*/
	send(routingId: Uint8Array, frames: ReadonlyArray<Uint8Array | string>): boolean {
		const peer = this.#peers.get(Buffer.from(routingId.buffer, routingId.byteOffset, routingId.byteLength).toString('hex'));
		if (peer === undefined || !peer.connection.established || peer.connection.socket.destroyed) {
			return false;
		}

		const {socket} = peer.connection;
		if (socket.writableLength >= this.#options.maxQueuedBytesPerPeer) {
			this.#refuse('send-queue-full', `${socket.writableLength} bytes wait unsent to a peer that does not read`);
			return false;
		}

		writeThrough(socket, encodeMessage(frames.map((frame) => (typeof frame === 'string' ? Buffer.from(frame) : frame))), descriptorOf(socket));
		return true;
	}

	/** Idempotent: closes every server and connection; nothing is reported afterwards. */
	close(): void {
		if (this.#closed) {
			return;
		}

		this.#closed = true;
		for (const server of this.#servers) {
			server.close();
		}

		this.#servers.length = 0;
		for (const peer of this.#peers.values()) {
			clearTimeout(peer.handshakeTimer);
			peer.connection.destroy();
		}

		this.#peers.clear();
	}

	#newRoutingId(): Buffer {
		const id = Buffer.alloc(5);
		id.writeUInt32BE(this.#nextId, 1);
		this.#nextId = (this.#nextId + 1) >>> 0;
		return id;
	}

	#accept(socket: net.Socket): void {
		if (this.#closed) {
			socket.destroy();
			return;
		}

		if (this.#peers.size >= this.#options.maxConnections) {
			// Closed before any byte of ours: a descriptor held for a moment, no state at all.
			socket.on('error', () => {});
			socket.destroy();
			this.#refuse('max-connections', `${this.#peers.size} connections held (limit ${this.#options.maxConnections})`);
			return;
		}

		const routingId = this.#newRoutingId();
		const key = routingId.toString('hex');
		const {maxMessageBytes} = this.#options;
		const assembler = new MessageAssembler(maxMessageBytes);
		const connection = new ZmtpConnection(
			socket,
			{socketType: 'ROUTER', peerTypes: ['DEALER', 'REQ', 'ROUTER'], maxFrameBytes: maxMessageBytes, maxCommandBytes: 64 * 1024, maxMessageParts: this.#options.maxMessageParts},
			{
				onReady: () => {
					clearTimeout(peer.handshakeTimer);
					peer.handshakeTimer = undefined;
					this.#emit({type: 'connect', routingId});
				},
				onData: (flags, body) => {
					const message = assembler.push(flags, body);
					if (message === 'oversize') {
						connection.destroy();
						this.#forget(peer);
						this.#refuse('oversize', `a message of over ${maxMessageBytes} bytes`);
					} else if (message !== undefined) {
						this.#options.onMessage(routingId, message);
					}
				},
				onCommand() {
					// Unknown commands are ignored, as the spec asks (the connection charges them to its budget).
				},
				onPingDropped: () => {
					this.#refuse('ping-dropped', 'a PING unanswered: the peer does not read its PONGs');
				},
				onFailure: (kind, detail) => {
					this.#forget(peer);
					if (kind === 'handshake') {
						this.#emit({type: 'client-handshake-failed', reason: detail, ...(detail.startsWith('the peer closed') ? {code: 'ECONNCLOSED'} : {})});
					} else {
						this.#refuse(kind, detail);
					}
				},
				onClose: (code, wasEstablished) => {
					if (!this.#forget(peer)) {
						return;
					}

					if (wasEstablished) {
						this.#emit({type: 'disconnect', routingId});
					} else {
						this.#emit({type: 'client-handshake-failed', reason: 'the peer closed the connection before the handshake', code: code ?? 'ECONNCLOSED'});
					}
				},
			},
		);
		const peer: Peer = {routingId, key, connection, assembler, handshakeTimer: undefined};
		this.#peers.set(key, peer);
		peer.handshakeTimer = setTimeout(() => {
			if (!connection.established) {
				connection.destroy();
				this.#forget(peer);
				this.#emit({type: 'client-handshake-failed', reason: 'no handshake in time', code: 'ETIMEDOUT'});
			}
		}, this.#options.handshakeTimeoutMs);
	}

	/** Forget a connection; false when it was gone already. */
	#forget(peer: Peer): boolean {
		clearTimeout(peer.handshakeTimer);
		peer.assembler.reset();
		if (this.#peers.get(peer.key) !== peer) {
			return false;
		}

		this.#peers.delete(peer.key);
		return true;
	}

	#refuse(reason: ZmtpRouterRefusal, detail: string): void {
		this.#emit({type: 'client-refused', reason, detail});
	}

	#emit(event: ZmtpRouterEvent): void {
		if (!this.#closed) {
			this.#options.onEvent?.(event);
		}
	}
}
