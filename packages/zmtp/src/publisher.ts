/**
A ZMTP 3 PUB socket over node:net: binds tcp:// endpoints, accepts SUB/XSUB peers, filters by their
subscriptions (prefix match, as ZeroMQ does) and never blocks: a subscriber that does not keep up
misses messages beyond its high-water mark.
*/

import {createHash} from 'node:crypto';
import type net from 'node:net';
import {ZmtpConnection, type ZmtpFailure} from './connection.js';
import {descriptorOf, writeThrough} from './descriptor.js';
import {bindListener} from './listener.js';
import {encodeFrame, FLAG_MORE} from './frame.js';

/**
Why the publisher refused a client or part of what it sent (each reported as a `client-refused` event):
- `max-connections`: accepted past maxConnections, closed at once;
- `descriptors`: the process ran out of file descriptors (EMFILE, ENFILE) accepting it;
- `subscription-limit`: a subscription past the publisher-wide bound (maxSubscriptions or
  maxSubscriptionBytes), refused (the newest lose; the connection stays);
- `too-many-subscriptions`: more than MAX_SUBSCRIPTIONS prefixes on one connection, closed;
- `command-flood`, `too-many-parts`, `protocol`, `oversize`: a stream that broke a limit, closed;
- `ping-dropped`: a PING left unanswered because the client does not read our PONGs.
*/
export type ZmtpClientRefusal =
	| 'max-connections'
	| 'descriptors'
	| 'subscription-limit'
	| 'too-many-subscriptions'
	| 'ping-dropped'
	| Exclude<ZmtpFailure, 'handshake'>;

export type ZmtpPublisherEvent =
	/**
	A connecting client's greeting or READY was unacceptable (CURVE, a REQ socket, garbage, silence):
	it was closed; the server goes on. `code` ETIMEDOUT: no handshake in time; ECONNCLOSED: the
	client hung up before completing it.
	*/
	| {type: 'client-handshake-failed'; reason: string; code?: string}
	| {type: 'client-refused'; reason: ZmtpClientRefusal; detail: string};

export type ZmtpPublisherOptions = {
	/** Messages queued per subscriber (written, not yet taken by the kernel) beyond which it misses messages. */
	highWaterMark: number;
	/** Largest frame a subscriber may send us (subscriptions are tiny). @default 65536 */
	maxIncomingBytes?: number;
	/** A client that has not completed the handshake in this long is closed. @default 10000 */
	handshakeTimeoutMs?: number;
	/** Connections (handshaking or established) held at once; one more is closed as it is accepted. @default Infinity */
	maxConnections?: number;
	/** Distinct prefixes subscribed over all connections; newer ones are refused. @default 10000 */
	maxSubscriptions?: number;
	/** Bytes of those prefixes; newer ones are refused. @default 4194304 */
	maxSubscriptionBytes?: number;
	onEvent?: (event: ZmtpPublisherEvent) => void;
};

/** Compact a subscriber's queue bookkeeping once its consumed head is this long. */
const COMPACT_AFTER = 1024;
/**
Distinct prefixes one subscriber may hold. Every send compares against each of them, so a client
that subscribed to millions would make every send slow for everyone; our nodes hold one ('').
Beyond it the connection is closed and counted in droppedClients.
*/
export const MAX_SUBSCRIPTIONS = 1000;

/**
Prefixes up to this long are keyed by their text; longer ones by their length and a SHA-256 digest.
V8 hashes a string over 16,383 characters by its length alone, so long prefixes of one length all
collided in the map and every subscription cost a scan of the others: quadratic.
*/
const SHORT_PREFIX_BYTES = 64;

/** The map key of a prefix. A digest key starts with U+0100, which latin1 text never holds. */
function keyOf(prefix: Buffer): string {
	return prefix.length <= SHORT_PREFIX_BYTES
		? prefix.toString('latin1')
		: `\u0100${prefix.length}:${createHash('sha256').update(prefix).digest('base64')}`;
}

/** What every subscriber's subscriptions hold together, against the publisher-wide bounds. */
type SubscriptionBudget = {count: number; bytes: number; readonly maxCount: number; readonly maxBytes: number};

type Prefix = {readonly bytes: Buffer; count: number};

type Change = 'ok' | 'node-limit' | 'connection-limit';

class Subscription {
	/** Prefix key (keyOf) → the prefix's bytes (a copy) and how many times it was subscribed. */
	readonly prefixes = new Map<string, Prefix>();
	/**
	The distinct non-empty prefixes by their first byte, for matching: a message is compared only with
	the prefixes that begin as it does, so thousands of prefixes that cannot match cost one lookup.
	Stale after a change until the next match.
	*/
	byFirstByte: Array<Buffer[] | undefined> = [];
	prefixesStale = false;
	/** An empty prefix is subscribed: everything matches. */
	matchAll = false;
	/** In the middle of a multipart message, which is not a subscription and is skipped whole. */
	skippingMultipart = false;
	/** Bytes handed to socket.write since the handshake, and where each queued message ends in that count. */
	writtenBytes = 0;
	ends: number[] = [];
	endsHead = 0;
	corked = false;
	handshakeTimer: NodeJS.Timeout | undefined;
	/** The socket's descriptor, for writing a tick's message straight to the kernel (descriptor.ts). */
	fd: number | undefined;

	constructor(readonly connection: ZmtpConnection) {}

	/**
	Subscribe (+1) or cancel (−1) a prefix. A new distinct prefix past MAX_SUBSCRIPTIONS on this
	connection answers 'connection-limit'; one past the publisher-wide budget 'node-limit', and is not kept.
	*/
	change(prefix: Buffer, delta: 1 | -1, budget: SubscriptionBudget): Change {
		// With the budget spent, a long prefix is refused before it is hashed: a flood of them past the
		// bound costs a comparison each, not a digest of up to 64 KiB (even one already held is refused).
		if (delta > 0 && prefix.length > SHORT_PREFIX_BYTES && (budget.count >= budget.maxCount || budget.bytes + prefix.length > budget.maxBytes)) {
			return this.prefixes.size >= MAX_SUBSCRIPTIONS ? 'connection-limit' : 'node-limit';
		}

		const key = keyOf(prefix);
		const entry = this.prefixes.get(key);
		if (entry === undefined) {
			if (delta < 0) {
				// Cancelling what was never subscribed is ignored, as libzmq does.
				return 'ok';
			}

			if (this.prefixes.size >= MAX_SUBSCRIPTIONS) {
				return 'connection-limit';
			}

			if (budget.count >= budget.maxCount || budget.bytes + prefix.length > budget.maxBytes) {
				return 'node-limit';
			}

			budget.count++;
			budget.bytes += prefix.length;
			// A copy: the prefix is a view of a read chunk of up to 64 KiB, which it would keep alive.
			this.prefixes.set(key, {bytes: Buffer.from(prefix), count: 1});
		} else if (entry.count + delta > 0) {
			entry.count += delta;
			return 'ok';
		} else {
			this.prefixes.delete(key);
			budget.count--;
			budget.bytes -= entry.bytes.length;
		}

		// Rebuilt at the next send, so that a burst of subscriptions costs one rebuild, not one each.
		this.prefixesStale = true;
		this.matchAll = this.prefixes.has('');
		return 'ok';
	}

	/** Give this connection's prefixes back to the publisher-wide budget (it is closing). */
	release(budget: SubscriptionBudget): void {
		for (const {bytes} of this.prefixes.values()) {
			budget.count--;
			budget.bytes -= bytes.length;
		}

		this.prefixes.clear();
		this.byFirstByte = [];
		this.matchAll = false;
	}

	matches(body: Buffer): boolean {
		if (this.matchAll) {
			return true;
		}

		if (this.prefixesStale) {
			this.prefixesStale = false;
			const byFirstByte: Array<Buffer[] | undefined> = [];
			for (const {bytes} of this.prefixes.values()) {
				(byFirstByte[bytes[0]!] ??= []).push(bytes);
			}

			this.byFirstByte = byFirstByte;
		}

		const candidates = body.length === 0 ? undefined : this.byFirstByte[body[0]!];
		if (candidates === undefined) {
			return false;
		}

		for (const prefix of candidates) {
			if (body.length >= prefix.length && prefix.compare(body, 0, prefix.length) === 0) {
				return true;
			}
		}

		return false;
	}

	/** How many written messages the kernel has not yet taken. */
	pendingMessages(): number {
		const {writableLength} = this.connection.socket;
		if (writableLength === 0) {
			// Everything went out: start the count afresh (this also absorbs PONGs written beside us).
			this.ends.length = 0;
			this.endsHead = 0;
			return 0;
		}

		const flushed = this.writtenBytes - writableLength;
		const {ends} = this;
		let head = this.endsHead;
		while (head < ends.length && ends[head]! <= flushed) {
			head++;
		}

		if (head >= COMPACT_AFTER) {
			ends.splice(0, head);
			head = 0;
		}

		this.endsHead = head;
		return ends.length - head;
	}
}

export class ZmtpPublisher {
	readonly #options: ZmtpPublisherOptions;
	readonly #servers: net.Server[] = [];
	/** A Set: a connection leaves in O(1), so that closing thousands at once does not stall a tick. */
	readonly #subscribers = new Set<Subscription>();
	readonly #budget: SubscriptionBudget;
	/** Subscribers corked during this tick; uncorked together so that a burst leaves in one writev. */
	#corked: Subscription[] = [];
	/** send() was called in this tick already: further sends are a burst, and are corked. */
	#sentThisTick = false;
	#closed = false;
	#droppedClients = 0;

	constructor(options: ZmtpPublisherOptions) {
		this.#options = options;
		this.#budget = {count: 0, bytes: 0, maxCount: options.maxSubscriptions ?? 10_000, maxBytes: options.maxSubscriptionBytes ?? 4 * 1024 * 1024};
	}

	/** Connections held now, handshaking or established. */
	get connectionCount(): number {
		return this.#subscribers.size;
	}

	/** Distinct prefixes held over all connections, and their bytes. */
	get subscriptions(): {count: number; bytes: number} {
		return {count: this.#budget.count, bytes: this.#budget.bytes};
	}

	get subscriberCount(): number {
		let count = 0;
		for (const subscriber of this.#subscribers) {
			if (subscriber.connection.established) {
				count++;
			}
		}

		return count;
	}

	/**
	Established subscribers closed for breaking the protocol or sending a frame over maxIncomingBytes.
	Counted rather than reported: the event type is the engine's contract, and this needs no action.
	*/
	get droppedClients(): number {
		return this.#droppedClients;
	}

	/** Resolves to `tcp://<host>:<port>` with the port actually bound; rejects with an Error that has `code`. */
	async bind(endpoint: string): Promise<string> {
		const {server, endpoint: bound} = await bindListener({
			kind: 'publisher',
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

	/** One single-frame message to every subscriber whose subscriptions match; returns how many got it. */
	send(body: Uint8Array | string): number {
		const subscribers = this.#subscribers;
		if (subscribers.size === 0) {
			return 0;
		}

		const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
		const {highWaterMark} = this.#options;
		// The first send of a tick is written straight through (a node publishes once a tick: one
		// write per subscriber, as libzmq makes). Later sends in the same tick are corked and leave
		// together in one writev per subscriber when the tick ends. Measured with 19 subscribers and one
		// send a tick, corking every send cost 10–20 % more CPU than writing through.
		const burst = this.#sentThisTick;
		if (!burst) {
			this.#sentThisTick = true;
			process.nextTick(this.#endTick);
		}

		// Built once, written to every subscriber.
		let frame: Buffer | undefined;
		let sent = 0;
		for (const subscriber of subscribers) {
			const {connection} = subscriber;
			if (!connection.established || !subscriber.matches(bytes) || subscriber.pendingMessages() >= highWaterMark) {
				continue;
			}

			frame ??= encodeFrame(bytes, 0);
			const {socket} = connection;
			if (burst) {
				if (!subscriber.corked) {
					subscriber.corked = true;
					socket.cork();
					this.#corked.push(subscriber);
				}

				socket.write(frame);
			} else {
				// Straight to the kernel when nothing is queued before it: net's stream machinery cost about
				// as much as the write system call itself, 19 times a tick.
				writeThrough(socket, frame, subscriber.fd);
			}

			subscriber.writtenBytes += frame.length;
			subscriber.ends.push(subscriber.writtenBytes);
			sent++;
		}

		return sent;
	}

	/** Idempotent: closes every server and connection. */
	close(): void {
		if (this.#closed) {
			return;
		}

		this.#closed = true;
		for (const server of this.#servers) {
			server.close();
		}

		this.#servers.length = 0;
		for (const subscriber of this.#subscribers) {
			clearTimeout(subscriber.handshakeTimer);
			subscriber.connection.destroy();
		}

		this.#subscribers.clear();
		this.#budget.count = 0;
		this.#budget.bytes = 0;
		this.#corked = [];
	}

	#accept(socket: net.Socket): void {
		if (this.#closed) {
			socket.destroy();
			return;
		}

		if (this.#subscribers.size >= (this.#options.maxConnections ?? Number.POSITIVE_INFINITY)) {
			// Closed before any byte of ours: a descriptor held for a moment, no state at all.
			socket.on('error', () => {});
			socket.destroy();
			this.#refuse('max-connections', `${this.#subscribers.size} connections held (limit ${this.#options.maxConnections})`);
			return;
		}

		const maxIncomingBytes = this.#options.maxIncomingBytes ?? 64 * 1024;
		const connection = new ZmtpConnection(
			socket,
			{socketType: 'PUB', peerTypes: ['SUB', 'XSUB'], maxFrameBytes: maxIncomingBytes, maxCommandBytes: maxIncomingBytes},
			{
				onReady() {
					clearTimeout(subscriber.handshakeTimer);
					subscriber.fd = descriptorOf(socket);
				},
				onData: (flags, data) => {
					// ZMTP 3.0 subscriptions: a single-frame message, 1 then the prefix to subscribe, 0 to cancel.
					if (subscriber.skippingMultipart || (flags & FLAG_MORE) !== 0) {
						subscriber.skippingMultipart = (flags & FLAG_MORE) !== 0;
						return;
					}

					if (data.length > 0 && (data[0] === 1 || data[0] === 0)) {
						this.#subscribe(subscriber, data.subarray(1), data[0] === 1 ? 1 : -1);
					}
				},
				onCommand: (name, data) => {
					// ZMTP 3.1 peers may send commands instead.
					if (name === 'SUBSCRIBE') {
						this.#subscribe(subscriber, data, 1);
					} else if (name === 'CANCEL') {
						this.#subscribe(subscriber, data, -1);
					}
				},
				onPingDropped: () => {
					this.#refuse('ping-dropped', 'a PING unanswered: the client does not read its PONGs');
				},
				onFailure: (kind, detail) => {
					this.#remove(subscriber);
					if (kind === 'handshake') {
						this.#emit({type: 'client-handshake-failed', reason: detail, ...(detail.startsWith('the peer closed') ? {code: 'ECONNCLOSED'} : {})});
					} else {
						this.#droppedClients++;
						this.#refuse(kind, detail);
					}
				},
				onClose: (code, wasEstablished) => {
					if (this.#remove(subscriber) && !wasEstablished) {
						this.#emit({type: 'client-handshake-failed', reason: 'the client closed the connection before the handshake', code: code ?? 'ECONNCLOSED'});
					}
				},
			},
		);
		const subscriber = new Subscription(connection);
		this.#subscribers.add(subscriber);
		subscriber.handshakeTimer = setTimeout(() => {
			if (!connection.established) {
				connection.destroy();
				this.#remove(subscriber);
				this.#emit({type: 'client-handshake-failed', reason: 'no handshake in time', code: 'ETIMEDOUT'});
			}
		}, this.#options.handshakeTimeoutMs ?? 10_000);
	}

	#subscribe(subscriber: Subscription, prefix: Buffer, delta: 1 | -1): void {
		switch (subscriber.change(prefix, delta, this.#budget)) {
			case 'ok': {
				break;
			}

			case 'node-limit': {
				this.#refuse('subscription-limit', `a ${prefix.length}-byte prefix past the bound (${this.#budget.count} prefixes, ${this.#budget.bytes} bytes held)`);
				break;
			}

			case 'connection-limit': {
				subscriber.connection.destroy();
				this.#remove(subscriber);
				this.#droppedClients++;
				this.#refuse('too-many-subscriptions', `more than ${MAX_SUBSCRIPTIONS} prefixes on one connection`);
				break;
			}
		}
	}

	/** Forget a connection (O(1)); false when it was gone already. */
	#remove(subscriber: Subscription): boolean {
		clearTimeout(subscriber.handshakeTimer);
		if (!this.#subscribers.delete(subscriber)) {
			return false;
		}

		subscriber.release(this.#budget);
		return true;
	}

	#refuse(reason: ZmtpClientRefusal, detail: string): void {
		this.#emit({type: 'client-refused', reason, detail});
	}

	/** The tick ended: the next send writes through again, and what this tick corked leaves now. */
	readonly #endTick = (): void => {
		this.#sentThisTick = false;
		const corked = this.#corked;
		if (corked.length === 0) {
			return;
		}

		this.#corked = [];
		for (const subscriber of corked) {
			subscriber.corked = false;
			subscriber.connection.socket.uncork();
		}
	};

	#emit(event: ZmtpPublisherEvent): void {
		if (!this.#closed) {
			this.#options.onEvent?.(event);
		}
	}
}
