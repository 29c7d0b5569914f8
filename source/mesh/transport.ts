/**
ZeroMQ transport: one Publisher bound to this node's endpoint and one Subscriber per peer endpoint.

One socket per peer keeps per-peer connection state (and lets CURVE pin each peer's key). Receiving
is pull-based: the node drains the sockets once per tick, since waking the event loop for every
message costs more than the message itself.
*/

import * as zmq from 'zeromq';
import {MAX_MESSAGE_BYTES} from './wire.js';

export type TransportEvent =
	| {kind: 'peer-connected'; endpoint: string}
	| {kind: 'peer-disconnected'; endpoint: string}
	/** libzmq dropped the connection for a protocol error (an oversized frame) and will not retry. */
	| {kind: 'connection-dropped'; endpoint: string; retryInMs: number}
	| {kind: 'handshake-failed'; endpoint: string; reason: string};

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

export type ReceivedFrames = {frames: Buffer[]; endpoint: string};

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

class PeerLink {
	socket: zmq.Subscriber;
	connected = false;
	backoffMs = RECONNECT_BACKOFF_START_MS;
	lastDropMs = 0;
	dropTimer: NodeJS.Timeout | undefined;
	reopenTimer: NodeJS.Timeout | undefined;
	draining = false;

	constructor(
		readonly endpoint: string,
		socket: zmq.Subscriber,
	) {
		this.socket = socket;
	}
}

export class Transport {
	readonly #options: TransportOptions;
	readonly #links = new Map<string, PeerLink>();
	#publisher: zmq.Publisher | undefined;
	#boundEndpoint = '';
	#sending = false;
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
			...this.#options.publisherOptions,
		});
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

		const link = new PeerLink(endpoint, this.#openSubscriber(endpoint));
		this.#links.set(endpoint, link);
		this.#watch(link);
	}

	removePeer(endpoint: string): void {
		const link = this.#links.get(endpoint);
		if (link === undefined) {
			return;
		}

		this.#links.delete(endpoint);
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
	async drain(budget: number, onFrames: (received: ReceivedFrames) => void): Promise<boolean> {
		let remaining = budget;
		let more = false;
		for (const link of this.#links.values()) {
			if (link.draining) {
				continue;
			}

			link.draining = true;
			const {socket} = link;
			try {
				while (remaining > 0 && !socket.closed && socket.readable) {
					// eslint-disable-next-line no-await-in-loop -- a readable socket answers at once.
					const frames = await socket.receive();
					remaining--;
					onFrames({frames, endpoint: link.endpoint});
				}

				if (!socket.closed && socket.readable) {
					more = true;
				}
			} catch {
				// The socket was closed under us (stop, or a reconnect); nothing was lost that mattered.
			} finally {
				link.draining = false;
			}
		}

		return more;
	}

	async close(): Promise<void> {
		this.#closed = true;
		for (const endpoint of [...this.#links.keys()]) {
			this.removePeer(endpoint);
		}

		this.#publisher?.close();
		this.#publisher = undefined;
	}

	#openSubscriber(endpoint: string): zmq.Subscriber {
		const socket = new zmq.Subscriber({
			linger: 0,
			maxMessageSize: this.#options.maxMessageBytes ?? MAX_MESSAGE_BYTES,
			receiveHighWaterMark: this.#options.highWaterMark ?? 1000,
			reconnectInterval: 100,
			...this.#options.subscriberOptions?.(endpoint),
		});
		socket.subscribe();
		socket.connect(endpoint);
		return socket;
	}

	async #watch(link: PeerLink): Promise<void> {
		const {socket} = link;
		try {
			for await (const event of socket.events) {
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
				this.#emit({kind: 'handshake-failed', endpoint: link.endpoint, reason: event.type});
				break;
			}

			default: {
				break;
			}
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
		this.#emit({kind: 'connection-dropped', endpoint: link.endpoint, retryInMs});
		clearTimeout(link.reopenTimer);
		link.reopenTimer = setTimeout(() => {
			if (this.#closed || this.#links.get(link.endpoint) !== link) {
				return;
			}

			link.socket.close();
			link.socket = this.#openSubscriber(link.endpoint);
			this.#watch(link);
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
