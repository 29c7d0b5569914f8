/**
ZeroMQ transport: one Publisher bound to this node's endpoint and one Subscriber per peer endpoint.

One socket per peer keeps per-peer connection state (and lets CURVE pin each peer's key). Receiving
is pull-based: the node drains the sockets once per tick, since waking the event loop for every
message costs more than the message itself.
*/

import {performance} from 'node:perf_hooks';
import * as zmq from 'zeromq';
import {MAX_MESSAGE_BYTES} from './wire.js';

export type TransportEvent =
	| {kind: 'peer-connected'; endpoint: string}
	| {kind: 'peer-disconnected'; endpoint: string}
	/** libzmq dropped the connection for a protocol error (an oversized frame) and will not retry. */
	| {
			kind: 'connection-dropped';
			endpoint: string;
			retryInMs: number;
			/** The drop followed a failed handshake (CURVE refused us), not an oversized frame. */
			afterHandshakeFailure?: boolean;
	  }
	/** A connected link went silent; it was closed and dialled afresh. */
	| {kind: 'link-reset'; endpoint: string; silentMs: number}
	| {kind: 'handshake-failed'; endpoint: string; reason: string}
	/** A subscriber's handshake with our publisher failed (with CURVE: no key, or not our key). */
	| {kind: 'client-handshake-failed'; reason: string; code?: string};

export type TransportOptions = {
	bindEndpoint: string;
	maxMessageBytes?: number;
	/** Messages queued per socket before ZeroMQ drops the newest; bounds memory per peer. */
	highWaterMark?: number;
	onEvent?: (event: TransportEvent) => void;
	/** Extra options for every socket (CURVE keys); applied before bind or connect. */
	publisherOptions?: Partial<zmq.Publisher>;
	subscriberOptions?: (endpoint: string) => Partial<zmq.Subscriber>;
};

/** Called for every message a drain takes: two arguments, so the hot path allocates no wrapper. */
export type OnFrames = (frames: Buffer[], endpoint: string) => void;

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

/** How long after a `disconnect` a reconnect attempt must show before we call the drop terminal. */
const TERMINAL_DROP_WINDOW_MS = 300;
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
	socket!: zmq.Subscriber;
	connected = false;
	backoffMs = RECONNECT_BACKOFF_START_MS;
	lastDropMs = 0;
	dropTimer: NodeJS.Timeout | undefined;
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
	/** The last handshake on this socket failed: a drop that follows is a refusal, not a bad frame. */
	handshakeFailed = false;

	constructor(readonly endpoint: string) {}
}

export class Transport {
	readonly #options: TransportOptions;
	readonly #links = new Map<string, PeerLink>();
	/** The links as an array, rebuilt only when one is added or removed, not on every drain. */
	#linkList: PeerLink[] = [];
	#publisher: zmq.Publisher | undefined;
	#boundEndpoint = '';
	#sending = false;
	/** Where the next drain pass starts: the first link the last pass did not reach. */
	#drainFrom = 0;
	#closed = false;

	constructor(options: TransportOptions) {
		this.#options = options;
	}

	get endpoint(): string {
		return this.#boundEndpoint;
	}

	get peerEndpoints(): string[] {
		return [...this.#links.keys()];
	}

	isConnected(endpoint: string): boolean {
		return this.#links.get(endpoint)?.connected ?? false;
	}

	async start(): Promise<void> {
		const publisher = new zmq.Publisher({
			linger: 0,
			sendHighWaterMark: this.#options.highWaterMark ?? 1000,
			// A PUB socket never blocks (it drops at the high-water mark), so send() need not ask
			// libzmq for the socket's events first: one syscall less per publish.
			sendTimeout: 0,
			...this.#options.publisherOptions,
		});
		void this.#watchPublisher(publisher.events);
		try {
			await publisher.bind(this.#options.bindEndpoint);
		} catch (error) {
			publisher.close();
			throw toBindError(this.#options.bindEndpoint, error);
		}

		this.#publisher = publisher;
		this.#boundEndpoint = publisher.lastEndpoint ?? this.#options.bindEndpoint;
	}

	addPeer(endpoint: string): void {
		if (this.#closed || this.#links.has(endpoint)) {
			return;
		}

		const link = new PeerLink(endpoint);
		this.#links.set(endpoint, link);
		this.#linkList = [...this.#links.values()];
		this.#openSubscriber(link);
	}

	removePeer(endpoint: string): void {
		const link = this.#links.get(endpoint);
		if (link === undefined) {
			return;
		}

		this.#links.delete(endpoint);
		this.#linkList = [...this.#links.values()];
		clearTimeout(link.dropTimer);
		clearTimeout(link.reopenTimer);
		link.socket.close();
	}

	/** Publish one frame; a frame is dropped rather than queued if the last send is still pending. */
	async publish(frame: string): Promise<boolean> {
		const publisher = this.#publisher;
		if (publisher === undefined || this.#closed || this.#sending) {
			return false;
		}

		this.#sending = true;
		try {
			await publisher.send(frame);
			return true;
		} catch {
			return false;
		} finally {
			this.#sending = false;
		}
	}

	/**
	Receive what is queued on every peer socket, up to `budget` messages in all.
	Returns true when messages remain, so the caller can come back after yielding to the event loop.
	*/
	async drain(budget: number, onFrames: OnFrames): Promise<boolean> {
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

			link.draining = true;
			const {socket} = link;
			try {
				let taken = 0;
				while (taken < quota && remaining > 0 && !socket.closed && socket.readable) {
					// eslint-disable-next-line no-await-in-loop -- a readable socket answers at once.
					const frames = await socket.receive();
					link.lastHeardMs = nowMs;
					link.silenceAllowedMs = SILENT_LINK_MS;
					taken++;
					remaining--;
					onFrames(frames, link.endpoint);
				}

				// A link that used up its share probably has more waiting (the loop asked the others);
				// saying so without asking saves a syscall per link, at the price of a pass that may
				// find nothing.
				if (taken === quota || remaining === 0) {
					more = true;
				}
			} catch {
				// The socket was closed under us (stop, or a reconnect); nothing was lost that mattered.
			} finally {
				link.draining = false;
			}
		}

		this.#drainFrom = (start + visited) % links.length;
		return more || visited < links.length;
	}


	/** Dial afresh every connected link that has delivered nothing for SILENT_LINK_MS. */
	#resetSilentLinks(links: readonly PeerLink[], nowMs: number): void {
		for (const link of links) {
			if (link.connected && !link.draining && nowMs - link.lastHeardMs > link.silenceAllowedMs) {
				const silentMs = Math.round(nowMs - link.lastHeardMs);
				link.silenceAllowedMs = Math.min(2 * link.silenceAllowedMs, SILENT_LINK_MAX_MS);
				link.connected = false;
				clearTimeout(link.dropTimer);
				link.dropTimer = undefined;
				link.socket.close();
				this.#openSubscriber(link);
				this.#emit({kind: 'link-reset', endpoint: link.endpoint, silentMs});
			}
		}
	}

	async close(): Promise<void> {
		this.#closed = true;
		for (const endpoint of [...this.#links.keys()]) {
			this.removePeer(endpoint);
		}

		this.#publisher?.close();
		this.#publisher = undefined;
	}

	/** Open (or reopen) the link's subscriber; its events are watched before it connects. */
	#openSubscriber(link: PeerLink): void {
		const socket = new zmq.Subscriber({
			linger: 0,
			maxMessageSize: this.#options.maxMessageBytes ?? MAX_MESSAGE_BYTES,
			receiveHighWaterMark: this.#options.highWaterMark ?? 1000,
			reconnectInterval: 100,
			// drain() asks `readable` before every receive(), so receive() reads at once instead of
			// asking libzmq for the socket's events a second time: one syscall less per message.
			receiveTimeout: 0,
			connectTimeout: CONNECT_TIMEOUT_MS,
			...this.#options.subscriberOptions?.(link.endpoint),
		});
		link.socket = socket;
		// The event observer must exist before connect(), or a fast handshake goes unseen. An inproc://
		// link gets none: libzmq reports no connection events for inproc (so the link never reads as
		// connected and the silence watchdog, which guards network paths that go dark, leaves it
		// alone), and the observer's two sockets would triple the descriptors a link holds, which is
		// what limits how many nodes fit in one process. (Over inproc, connect() before the peer binds works.)
		if (!link.endpoint.startsWith('inproc://')) {
			void this.#watch(link, socket.events);
		}

		socket.subscribe();
		socket.connect(link.endpoint);
	}

	async #watch(link: PeerLink, events: zmq.Observer): Promise<void> {
		const socket = link.socket;
		try {
			for await (const event of events) {
				if (this.#links.get(link.endpoint) !== link || link.socket !== socket) {
					return;
				}

				this.#onSocketEvent(link, event);
			}
		} catch {
			// The event stream ends with an error when the socket closes; that is the normal end.
		}
	}

	#onSocketEvent(link: PeerLink, event: zmq.Event): void {
		switch (event.type) {
			case 'handshake': {
				link.connected = true;
				link.lastHeardMs = performance.now();
				link.handshakeFailed = false;
				this.#emit({kind: 'peer-connected', endpoint: link.endpoint});
				break;
			}

			case 'disconnect': {
				link.connected = false;
				this.#emit({kind: 'peer-disconnected', endpoint: link.endpoint});
				// After a plain disconnect libzmq retries at once; after a protocol error (a frame over
				// maxMessageSize) it gives up silently. No retry within the window means the latter.
				clearTimeout(link.dropTimer);
				link.dropTimer = setTimeout(() => {
					this.#reopen(link);
				}, TERMINAL_DROP_WINDOW_MS);
				break;
			}

			case 'connect:retry':
			case 'connect:delay':
			case 'connect': {
				clearTimeout(link.dropTimer);
				link.dropTimer = undefined;
				break;
			}

			case 'handshake:error:auth':
			case 'handshake:error:protocol':
			case 'handshake:error:other': {
				link.handshakeFailed = true;
				this.#emit({kind: 'handshake-failed', endpoint: link.endpoint, reason: event.type});
				break;
			}

			default: {
				break;
			}
		}
	}

	/** Report subscribers that failed to handshake with our publisher; ZAP refusals are reported by ZAP. */
	async #watchPublisher(events: zmq.Observer): Promise<void> {
		try {
			for await (const event of events) {
				if (event.type === 'handshake:error:protocol' || event.type === 'handshake:error:other') {
					const code = (event.error as {code?: string} | undefined)?.code;
					this.#emit({kind: 'client-handshake-failed', reason: event.type, ...(code === undefined ? {} : {code})});
				}
			}
		} catch {
			// The event stream ends with an error when the socket closes.
		}
	}

	/** Replace a subscriber that libzmq will not reconnect, after a growing delay. */
	#reopen(link: PeerLink): void {
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
			...(link.handshakeFailed ? {afterHandshakeFailure: true} : {}),
		});
		clearTimeout(link.reopenTimer);
		link.reopenTimer = setTimeout(() => {
			if (this.#closed || this.#links.get(link.endpoint) !== link) {
				return;
			}

			link.socket.close();
			this.#openSubscriber(link);
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
