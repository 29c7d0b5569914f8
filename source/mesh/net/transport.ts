/**
The node's links: one publisher bound to this node's endpoint and one subscriber per peer endpoint,
over whichever engine serves each endpoint (`engine/select.ts`).

One subscriber per peer keeps per-peer connection state (and lets CURVE pin each peer's key).
Receiving is pull-based: the node polls the links once per tick (`poll`), since waking the event
loop for every message costs more than the message itself. How a link is read is its engine's
business; the node only says when, and how much. What is the same whatever the engine lives here:
the fair share of a poll, the silence watchdog, and the backoff when a link is given up.
*/

import {performance} from 'node:perf_hooks';
import {MAX_MESSAGE_BYTES} from '../model/wire.js';
import type {ClientRefusal, DropReason, LinkEvent, OnFrames, PublisherEvent, PublisherSocket, SocketOptions, SubscriberSocket} from './engine/engine.js';
import {defaultMaxConnections} from './descriptors.js';
import {RefusalTally} from './refusals.js';
import {engineSelector, type EngineChoice, type EngineSelector} from './engine/select.js';
import type {LibzmqSocketOptions} from './engine/libzmq.js';

export type {OnFrames} from './engine/engine.js';
export type {ClientRefusal, DropReason} from './engine/engine.js';

/**
Why our publisher refused a client or part of what it sent: the engine's reasons (ClientRefusal),
and handshakes that failed: `bad-handshake` (a greeting or READY we cannot accept: garbage, another
mechanism, a wrong socket type), `handshake-closed` (the client hung up before completing it),
`handshake-timeout` (it did not complete it in time).
*/
export type PublisherRefusal = ClientRefusal | 'bad-handshake' | 'handshake-closed' | 'handshake-timeout';

/** What we refused on links we dialled: the reasons a link was given up, and PINGs left unanswered. */
export type LinkRefusal = DropReason | 'ping-dropped';

/** The network layer's own counters, for the node's stats. */
export type TransportStats = {
	/** Publisher side, by reason. */
	refused: Partial<Record<PublisherRefusal, number>>;
	/** Our links, by reason. */
	linkRefused: Partial<Record<LinkRefusal, number>>;
	/** Dials that failed before the handshake. */
	dialFailed: number;
	/** Connections our publisher holds now (built-in engine; libzmq: accepted minus disconnected). */
	connections: number;
	/** Distinct prefixes our subscribers hold, and their bytes (built-in engine). */
	subscriptions: number;
	subscriptionBytes: number;
};

/** At most one `client-refused` event per reason, and one `dial-failed` per endpoint, in this long. */
export const REFUSAL_EVENT_INTERVAL_MS = 1000;
export const DIAL_FAILED_EVENT_INTERVAL_MS = 5000;

export type TransportEvent =
	| {kind: 'peer-connected'; endpoint: string}
	| {kind: 'peer-disconnected'; endpoint: string}
	/** A link was given up (an oversized frame, a malformed stream, a refused handshake) and is reopened after `retryInMs`. */
	| {
			kind: 'connection-dropped';
			endpoint: string;
			retryInMs: number;
			reason: DropReason;
			/** The drop followed a failed handshake (CURVE refused us), not an oversized frame. */
			afterHandshakeFailure?: boolean;
		}
	/** A connected link went silent; it was closed and dialled afresh. */
	| {kind: 'link-reset'; endpoint: string; silentMs: number}
	| {kind: 'handshake-failed'; endpoint: string; reason: string}
	/** A subscriber's handshake with our publisher failed (with CURVE: no key, or not our key). */
	| {kind: 'client-handshake-failed'; reason: string; code?: string}
	/**
	Our publisher refused clients (or part of what they sent) for `reason`: `count` refusals since the
	last such event (at most one per reason per REFUSAL_EVENT_INTERVAL_MS); `detail` says the last one.
	*/
	| {kind: 'client-refused'; reason: PublisherRefusal; count: number; detail: string}
	/** Dials to a peer that failed before the handshake: `count` since the last such event for it. */
	| {kind: 'dial-failed'; endpoint: string; code: string; count: number};

export type TransportOptions = LibzmqSocketOptions & {
	bindEndpoint: string;
	maxMessageBytes?: number;
	/** Messages queued per socket before the newest are dropped; bounds memory per peer. */
	highWaterMark?: number;
	/** Connections our publisher holds at once. @default defaultMaxConnections() (descriptors.ts) */
	maxConnections?: number;
	/** `builtin` (default): ZMTP over node:net for tcp://, an in-memory bus for inproc://; `libzmq`: zeromq.js for all. */
	engine?: EngineChoice;
	onEvent?: (event: TransportEvent) => void;
};

/** Why a bind failed, in terms an operator can act on. */
export class BindError extends Error {
	constructor(
		readonly endpoint: string,
		readonly code: string,
		message: string,
	) {
		super(message);
		this.name = 'BindError';
	}
}

const RECONNECT_INTERVAL_MS = 100;
const RECONNECT_BACKOFF_START_MS = 100;
const RECONNECT_BACKOFF_MAX_MS = 5000;
const BACKOFF_RESET_AFTER_MS = 10_000;
/**
A connected link that delivers nothing for this long is dropped and dialled afresh. TCP alone never
notices a path that went dark: after a partition or a burst of loss the publisher's retransmissions
back off exponentially (0.2, 0.4, 0.8 … 12.8 s), so a healed link stayed silent for seconds and a
lossy one went silent past the TTL (measured in test/network/). A fresh connection gets through as
soon as the path does.

This is done here rather than with ZMTP heartbeats: with heartbeats on, libzmq 4.3.5 aborts the
whole process (`Assertion failed: _input_stopped`, zeromq/libzmq#3937) when a heartbeat times out
on a subscriber whose receive queue is full, so any peer able to flood a node could kill it.
Peers publish ten times a second; a link silent for 1.5 s is dead or dark.
*/
const SILENT_LINK_MS = 1500;
const SILENT_LINK_MAX_MS = 30_000;
/** A connect that has not completed in this long is abandoned and retried (a dark path). */
const CONNECT_TIMEOUT_MS = 1000;

class PeerLink {
	socket!: SubscriberSocket;
	/**
	The socket a silence reset replaced, still read until the new one is up: on a lossy path the old
	connection's retransmissions often get through before a new handshake does (make before break).
	*/
	retiring: SubscriberSocket | undefined;
	connected = false;
	backoffMs = RECONNECT_BACKOFF_START_MS;
	lastDropMs = 0;
	reopenTimer: NodeJS.Timeout | undefined;
	draining = false;
	/** When this link last delivered a frame, or was (re)connected: the silence watchdog's mark. */
	lastHeardMs = 0;
	/**
	How much silence the watchdog allows now: doubled after each reset that did not bring a frame
	back (a peer that is up but mute, such as one told to drop all it sends), so that such a peer is
	not redialled ten times a minute; back to SILENT_LINK_MS with the next frame.
	*/
	silenceAllowedMs = SILENT_LINK_MS;

	constructor(readonly endpoint: string) {}
}

export class Transport {
	readonly #options: TransportOptions;
	readonly #socketOptions: SocketOptions;
	readonly #engineFor: EngineSelector;
	readonly #links = new Map<string, PeerLink>();
	/** The links as an array, rebuilt only when one is added or removed, not on every drain. */
	#linkList: PeerLink[] = [];
	#publisher: PublisherSocket | undefined;
	/** Where the next drain pass starts: the first link the last pass did not reach. */
	#drainFrom = 0;
	#closed = false;
	readonly #refused = new RefusalTally<PublisherRefusal>(REFUSAL_EVENT_INTERVAL_MS);
	readonly #linkRefused = new RefusalTally<LinkRefusal>(REFUSAL_EVENT_INTERVAL_MS);
	readonly #dialFailed = new RefusalTally<'dial-failed'>(DIAL_FAILED_EVENT_INTERVAL_MS);

	constructor(options: TransportOptions) {
		this.#options = options;
		this.#socketOptions = {
			maxMessageBytes: options.maxMessageBytes ?? MAX_MESSAGE_BYTES,
			highWaterMark: options.highWaterMark ?? 1000,
			reconnectIntervalMs: RECONNECT_INTERVAL_MS,
			connectTimeoutMs: CONNECT_TIMEOUT_MS,
			maxConnections: options.maxConnections ?? defaultMaxConnections(),
		};
		this.#engineFor = engineSelector(options.engine ?? 'builtin', {
			publisherOptions: options.publisherOptions,
			subscriberOptions: options.subscriberOptions,
		});
	}

	get endpoint(): string {
		return this.#publisher?.endpoint ?? '';
	}

	async start(): Promise<void> {
		const endpoint = this.#options.bindEndpoint;
		try {
			this.#publisher = await this.#engineFor(endpoint).bind(endpoint, this.#socketOptions, (event: PublisherEvent) => {
				this.#onPublisherEvent(event);
			});
		} catch (error) {
			throw toBindError(endpoint, error);
		}
	}

	addPeer(endpoint: string): void {
		if (this.#closed || this.#links.has(endpoint)) {
			return;
		}

		const link = new PeerLink(endpoint);
		this.#links.set(endpoint, link);
		this.#linkList = [...this.#links.values()];
		this.#open(link);
	}

	removePeer(endpoint: string): void {
		const link = this.#links.get(endpoint);
		if (link === undefined) {
			return;
		}

		this.#links.delete(endpoint);
		// Closing rebuilds the list once, at the end, not once per link.
		if (!this.#closed) {
			this.#linkList = [...this.#links.values()];
		}

		clearTimeout(link.reopenTimer);
		this.#closeRetiring(link);
		link.socket.close();
	}

	/**
	Close every subscriber's connection to our publisher, so that each handshakes again (a reloaded
	allow file: a removed key is refused). False when the engine has no way to (no CURVE on it).
	*/
	async dropClients(): Promise<boolean> {
		if (this.#publisher?.dropClients === undefined || this.#closed) {
			return false;
		}

		await this.#publisher.dropClients();
		return true;
	}

	/** Publish one frame; false when the engine could not take it (closed, or the last send pending). */
	publish(frame: string): boolean | Promise<boolean> {
		if (this.#publisher === undefined || this.#closed) {
			return false;
		}

		return this.#publisher.send(frame);
	}

	/**
	Read what has arrived on every peer link, and hand up to `budget` messages in all to `onFrames`,
	a fair share per link. Returns true when messages remain, so that the caller can come back after
	yielding to the event loop.

	How a link reads is its engine's business: most read as data comes, a zmtp link reads when asked
	(SubscriberSocket.fetch), at once or, where it cannot, in the event loop's next turn; then this
	waits for it, once for all links.

	`onSharedFrames`, when given, takes the messages of links whose engine hands every subscriber the
	same Buffer (SubscriberSocket.sharesFrames), so that the caller may decode such a frame once for
	all its receivers.
	*/
	async poll(budget: number, onFrames: OnFrames, onSharedFrames: OnFrames = onFrames): Promise<boolean> {
		const reading = this.#fetch();
		if (reading !== undefined) {
			await reading;
			if (this.#closed) {
				return false;
			}
		}

		return this.#drain(budget, onFrames, onSharedFrames);
	}

	/** Ask every link that reads when asked to read; a promise when some read completes later. */
	#fetch(): Promise<unknown> | undefined {
		let pending: Array<Promise<void>> | undefined;
		for (const link of this.#linkList) {
			const reading = link.socket.fetch?.();
			if (reading !== undefined) {
				(pending ??= []).push(reading);
			}

			const retiring = link.retiring?.fetch?.();
			if (retiring !== undefined) {
				(pending ??= []).push(retiring);
			}
		}

		return pending === undefined ? undefined : Promise.all(pending);
	}

	/** Receive what is queued on every peer link, up to `budget` messages in all; true when messages remain. */
	async #drain(budget: number, onFrames: OnFrames, onSharedFrames: OnFrames): Promise<boolean> {
		const links = this.#linkList;
		if (links.length === 0) {
			return false;
		}

		const nowMs = performance.now();
		this.#resetSilentLinks(links, nowMs);

		// Share the budget out, so that one peer flooding us cannot starve the others, and start each
		// pass where the last one stopped, so that what a pass leaves over goes round.
		const quota = Math.max(1, Math.ceil(budget / links.length));
		const start = this.#drainFrom % links.length;
		let remaining = budget;
		let more = false;
		let visited = 0;
		for (; visited < links.length && remaining > 0; visited++) {
			const link = links[(start + visited) % links.length]!;
			if (link.draining) {
				continue;
			}

			const share = Math.min(quota, remaining);
			let taken = 0;
			if (link.retiring !== undefined) {
				const result = link.retiring.take(share, link.retiring.sharesFrames === true ? onSharedFrames : onFrames, link.endpoint);
				// eslint-disable-next-line no-await-in-loop -- one link at a time keeps the share fair.
				taken = typeof result === 'number' ? result : await this.#settle(link, result);
			}

			if (taken < share) {
				const result = link.socket.take(share - taken, link.socket.sharesFrames === true ? onSharedFrames : onFrames, link.endpoint);
				// eslint-disable-next-line no-await-in-loop -- one link at a time keeps the share fair.
				taken += typeof result === 'number' ? result : await this.#settle(link, result);
			}

			if (taken > 0) {
				link.lastHeardMs = nowMs;
				link.silenceAllowedMs = SILENT_LINK_MS;
				remaining -= taken;
			}

			// A link that used up its share probably has more waiting (the loop asked the others);
			// saying so without asking saves a call per link, at the price of a pass that may find nothing.
			// One whose read stopped at its byte budget has more in the kernel: the caller comes back
			// after yielding to its timers, so that a flood is read at full speed but never in one go.
			if (taken === share || link.socket.backlogged === true) {
				more = true;
			}
		}

		this.#drainFrom = (start + visited) % links.length;
		return more || visited < links.length;
	}

	/**
	Wait for a take that answered with a promise (libzmq), the link marked as draining meanwhile so
	that the watchdog leaves it alone. Synchronous engines never come here: no await per link.
	*/
	async #settle(link: PeerLink, taking: Promise<number>): Promise<number> {
		link.draining = true;
		try {
			return await taking;
		} finally {
			link.draining = false;
		}
	}

	async close(): Promise<void> {
		this.#closed = true;
		// removePeer deletes from the map being walked, which a Map allows.
		for (const endpoint of this.#links.keys()) {
			this.removePeer(endpoint);
		}

		this.#linkList = [];
		this.#publisher?.close();
		this.#publisher = undefined;
	}

	/** The network layer's counters now (fresh objects). */
	stats(): TransportStats {
		const publisher = this.#publisher;
		return {
			refused: this.#refused.snapshot(),
			linkRefused: this.#linkRefused.snapshot(),
			dialFailed: this.#dialFailed.counts['dial-failed'] ?? 0,
			connections: publisher?.connectionCount ?? 0,
			subscriptions: publisher?.subscriptions?.count ?? 0,
			subscriptionBytes: publisher?.subscriptions?.bytes ?? 0,
		};
	}

	/** Count what our publisher refused, and say so at most once per reason per interval. */
	#onPublisherEvent(event: PublisherEvent): void {
		if (event.type === 'client-handshake-failed') {
			const reason: PublisherRefusal = event.code === 'ETIMEDOUT' ? 'handshake-timeout' : event.code === 'ECONNCLOSED' ? 'handshake-closed' : 'bad-handshake';
			// The security layer hears every one (CURVE counts them as authRefused, with its own events).
			this.#emit({kind: event.type, reason: event.reason, ...(event.code === undefined ? {} : {code: event.code})});
			this.#refuse(reason, event.reason);
			return;
		}

		this.#refuse(event.reason, event.detail);
	}

	/** A refusal at our publisher: counted; an event when one is due for its reason. */
	#refuse(reason: PublisherRefusal, detail: string): void {
		const count = this.#refused.count(reason, performance.now());
		if (count > 0) {
			this.#emit({kind: 'client-refused', reason, count, detail});
		}
	}

	/** Dial afresh every connected link that has delivered nothing for its allowed silence. */
	#resetSilentLinks(links: readonly PeerLink[], nowMs: number): void {
		for (const link of links) {
			if (link.connected && !link.draining && nowMs - link.lastHeardMs > link.silenceAllowedMs) {
				const silentMs = Math.round(nowMs - link.lastHeardMs);
				link.silenceAllowedMs = Math.min(2 * link.silenceAllowedMs, SILENT_LINK_MAX_MS);
				link.connected = false;
				this.#closeRetiring(link);
				link.retiring = link.socket;
				this.#open(link);
				this.#emit({kind: 'link-reset', endpoint: link.endpoint, silentMs});
			}
		}
	}

	/** Open (or reopen) the link's subscriber on the engine that serves its endpoint. */
	#open(link: PeerLink): void {
		let socket: SubscriberSocket | undefined;
		// eslint-disable-next-line prefer-const -- the callback may run inside open(), before this assignment: a const would be in its dead zone.
		socket = this.#engineFor(link.endpoint).open(link.endpoint, this.#socketOptions, (event) => {
			if (this.#links.get(link.endpoint) !== link) {
				return;
			}

			if (socket === undefined || link.socket === socket) {
				this.#onLinkEvent(link, event);
			} else if (link.retiring === socket && event.type !== 'up') {
				// The replaced connection gave out before the new one came up: nothing left to wait for.
				this.#closeRetiring(link);
			}
		});
		link.socket = socket;
	}

	#closeRetiring(link: PeerLink): void {
		link.retiring?.close();
		link.retiring = undefined;
	}

	#onLinkEvent(link: PeerLink, event: LinkEvent): void {
		switch (event.type) {
			case 'up': {
				// What the replaced connection still held is stale next to what this one brings.
				this.#closeRetiring(link);
				link.connected = true;
				link.lastHeardMs = performance.now();
				this.#emit({kind: 'peer-connected', endpoint: link.endpoint});
				break;
			}

			case 'down': {
				link.connected = false;
				this.#emit({kind: 'peer-disconnected', endpoint: link.endpoint});
				break;
			}

			case 'dropped': {
				link.connected = false;
				this.#linkRefused.count(event.reason, performance.now());
				this.#reopen(link, event.reason);
				break;
			}

			case 'dial-failed': {
				const count = this.#dialFailed.count('dial-failed', performance.now(), link.endpoint);
				if (count > 0) {
					this.#emit({kind: 'dial-failed', endpoint: link.endpoint, code: event.code, count});
				}

				break;
			}

			case 'ping-dropped': {
				this.#linkRefused.count('ping-dropped', performance.now());
				break;
			}

			case 'handshake-failed': {
				this.#emit({kind: 'handshake-failed', endpoint: link.endpoint, reason: event.reason});
				break;
			}
		}
	}

	/** Replace a subscriber that will not reconnect by itself, after a growing delay. */
	#reopen(link: PeerLink, reason: DropReason): void {
		if (this.#closed || this.#links.get(link.endpoint) !== link) {
			return;
		}

		// A peer that keeps sending oversized frames is retried ever more slowly; one that sent a
		// single bad frame long ago starts from the short delay again.
		const nowMs = Date.now();
		if (nowMs - link.lastDropMs > BACKOFF_RESET_AFTER_MS) {
			link.backoffMs = RECONNECT_BACKOFF_START_MS;
		}

		link.lastDropMs = nowMs;
		const retryInMs = link.backoffMs;
		link.backoffMs = Math.min(link.backoffMs * 2, RECONNECT_BACKOFF_MAX_MS);
		this.#emit({
			kind: 'connection-dropped',
			endpoint: link.endpoint,
			retryInMs,
			reason,
			...(reason === 'refused' ? {afterHandshakeFailure: true} : {}),
		});
		clearTimeout(link.reopenTimer);
		link.reopenTimer = setTimeout(() => {
			if (this.#closed || this.#links.get(link.endpoint) !== link) {
				return;
			}

			this.#closeRetiring(link);
			link.socket.close();
			this.#open(link);
		}, retryInMs);
	}

	#emit(event: TransportEvent): void {
		this.#options.onEvent?.(event);
	}
}

function toBindError(endpoint: string, error: unknown): BindError {
	const code = (error as {code?: string}).code ?? 'EUNKNOWN';
	if (code === 'EADDRINUSE') {
		return new BindError(endpoint, code, `address in use`);
	}

	return new BindError(endpoint, code, (error as Error).message ?? String(error));
}
