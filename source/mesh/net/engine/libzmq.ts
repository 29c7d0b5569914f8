/**
The libzmq engine (zeromq.js): the only one that speaks CURVE, and the one for transports the
built-in engines do not cover (ipc://). It costs a promise, a Buffer and an N-API call per message
and wakes libzmq's I/O thread for every frame, which is why plain TCP goes through `zmtp.ts`.

zeromq.js is loaded when a libzmq socket is first made, not when this file is: a node on the
built-in engines never needs the native addon, which cost it about 2 MiB of memory
(`--headless --demo 0`: 64.5 → 62.5 MiB resident, medians; start-up the same within noise).
*/

import type * as zmq from 'zeromq';
import {ListenerShedder} from './libzmq-shedding.js';
import type {Engine, LinkEvent, PublisherEvent, PublisherSocket, SocketOptions, SubscriberSocket, OnFrames} from './engine.js';

/** How long after a `disconnect` a reconnect attempt must show before we call the drop terminal. */
const TERMINAL_DROP_WINDOW_MS = 300;

export type LibzmqSocketOptions = {
	/** Extra options for every socket (CURVE keys); applied before bind or connect. */
	publisherOptions?: Partial<zmq.Publisher>;
	subscriberOptions?: (endpoint: string) => Partial<zmq.Subscriber>;
};

type Zeromq = typeof zmq;

let loading: Promise<Zeromq> | undefined;
/** The module once loaded, so that sockets opened after that start at once. */
let loaded: Zeromq | undefined;

/** zeromq.js, loaded on first use (once per process). */
export async function loadZeromq(): Promise<Zeromq> {
	loading ??= import('zeromq').then((module) => {
		loaded = module;
		return module;
	});
	return loading;
}

export function libzmqEngine(extra: LibzmqSocketOptions = {}): Engine {
	return {
		name: 'libzmq',
		async bind(endpoint, options, onEvent) {
			const zeromq = await loadZeromq();
			const publisher = new zeromq.Publisher({
				linger: 0,
				sendHighWaterMark: options.highWaterMark,
				// A PUB socket never blocks (it drops at the high-water mark), so send() need not ask
				// libzmq for the socket's events first: one syscall less per publish.
				sendTimeout: 0,
				...extra.publisherOptions,
			});
			const shedder = new ListenerShedder(publisher, {held: 0});
			void watchPublisher(publisher.events, onEvent, shedder, options.maxConnections);
			try {
				await publisher.bind(endpoint);
			} catch (error) {
				publisher.close();
				throw error;
			}

			shedder.endpoint = publisher.lastEndpoint ?? endpoint;
			return new LibzmqPublisher(publisher, shedder.endpoint, shedder);
		},
		open(endpoint, options, onEvent) {
			return new LibzmqSubscriber(endpoint, options, extra.subscriberOptions?.(endpoint) ?? {}, onEvent);
		},
	};
}

class LibzmqPublisher implements PublisherSocket {
	#sending = false;

	constructor(
		readonly socket: zmq.Publisher,
		readonly endpoint: string,
		readonly shedder: ListenerShedder,
	) {}

	get connectionCount(): number {
		return Math.max(0, this.shedder.connections.held);
	}

	/** A frame is dropped rather than queued if the last send is still pending. */
	async send(frame: string): Promise<boolean> {
		if (this.#sending || this.socket.closed) {
			return false;
		}

		this.#sending = true;
		try {
			await this.socket.send(frame);
			return true;
		} catch {
			return false;
		} finally {
			this.#sending = false;
		}
	}

	/** libzmq closes the connections a listener accepted when it is unbound; bound again at once. */
	async dropClients(): Promise<void> {
		await this.socket.unbind(this.endpoint);
		// The port was ours a moment ago; retry briefly in case the kernel has not let go of it yet.
		for (let attempt = 1; ; attempt++) {
			try {
				// eslint-disable-next-line no-await-in-loop -- a retry loop: each attempt waits for the last.
				await this.socket.bind(this.endpoint);
				return;
			} catch (error) {
				if (attempt >= 20) {
					throw error;
				}
			}

			// eslint-disable-next-line no-await-in-loop -- the pause between two attempts.
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}

	close(): void {
		this.shedder.close();
		this.socket.close();
	}
}

class LibzmqSubscriber implements SubscriberSocket {
	/** Undefined until zeromq.js has loaded (the first libzmq socket of the process waits for it). */
	#socket: zmq.Subscriber | undefined;
	readonly #onEvent: (event: LinkEvent) => void;
	#dropTimer: NodeJS.Timeout | undefined;
	/** The last handshake failed: a drop that follows is a refusal, not a bad frame. */
	#handshakeFailed = false;
	/** The last socket event: a `connect:retry` that follows no `disconnect` is a failed dial. */
	#lastEvent: zmq.Event['type'] | undefined;
	#closed = false;

	constructor(endpoint: string, options: SocketOptions, extra: Partial<zmq.Subscriber>, onEvent: (event: LinkEvent) => void) {
		this.#onEvent = onEvent;
		if (loaded === undefined) {
			loadZeromq().then(
				(zeromq) => {
					if (!this.#closed) {
						this.#start(zeromq, endpoint, options, extra);
					}
				},
				(error: unknown) => {
					if (!this.#closed) {
						this.#onEvent({type: 'handshake-failed', reason: `zeromq could not be loaded: ${(error as Error).message}`});
					}
				},
			);
		} else {
			this.#start(loaded, endpoint, options, extra);
		}
	}

	#start(zeromq: Zeromq, endpoint: string, options: SocketOptions, extra: Partial<zmq.Subscriber>): void {
		try {
			this.#open(zeromq, endpoint, options, extra);
		} catch (error) {
			// Out of descriptors (EMFILE: a flood of connections took them, or libzmq's own socket limit):
			// not an exit, a link given up for now, which the transport counts and reopens with backoff.
			this.#socket?.close();
			this.#socket = undefined;
			const code = (error as {code?: string}).code;
			setImmediate(() => {
				if (!this.#closed) {
					this.#onEvent({type: 'dropped', reason: code === 'EMFILE' || code === 'ENFILE' ? 'descriptors' : 'protocol'});
				}
			});
		}
	}

	#open(zeromq: Zeromq, endpoint: string, options: SocketOptions, extra: Partial<zmq.Subscriber>): void {
		const socket = new zeromq.Subscriber({
			linger: 0,
			maxMessageSize: options.maxMessageBytes,
			receiveHighWaterMark: options.highWaterMark,
			reconnectInterval: options.reconnectIntervalMs,
			// Backoff whatever way a dial fails (refused, closed at once): doubled up to a second, as the built-in engine does.
			reconnectMaxInterval: 1000,
			// take() asks `readable` before every receive(), so receive() reads at once instead of
			// asking libzmq for the socket's events a second time: one syscall less per message.
			receiveTimeout: 0,
			connectTimeout: options.connectTimeoutMs,
			...extra,
		});
		this.#socket = socket;
		// The event observer must exist before connect(), or a fast handshake goes unseen. An inproc://
		// link gets none: libzmq reports no connection events for inproc (so the link never reads as
		// up and the silence watchdog, which guards network paths that go dark, leaves it alone), and
		// the observer's two sockets would triple the descriptors a link holds.
		if (!endpoint.startsWith('inproc://')) {
			void this.#watch(socket.events);
		}

		socket.subscribe();
		socket.connect(endpoint);
	}

	take(max: number, onFrames: OnFrames, endpoint: string): number | Promise<number> {
		const socket = this.#socket;
		return socket === undefined ? 0 : this.#receive(socket, max, onFrames, endpoint);
	}

	async #receive(socket: zmq.Subscriber, max: number, onFrames: OnFrames, endpoint: string): Promise<number> {
		let taken = 0;
		try {
			while (taken < max && !socket.closed && socket.readable) {
				// eslint-disable-next-line no-await-in-loop -- a readable socket answers at once.
				const frames = await socket.receive();
				taken++;
				onFrames(frames, endpoint);
			}
		} catch {
			// The socket was closed under us (stop, or a reconnect); nothing was lost that mattered.
		}

		return taken;
	}

	close(): void {
		this.#closed = true;
		clearTimeout(this.#dropTimer);
		this.#socket?.close();
	}

	async #watch(events: zmq.Observer): Promise<void> {
		try {
			for await (const event of events) {
				if (this.#closed) {
					return;
				}

				this.#onSocketEvent(event);
			}
		} catch {
			// The event stream ends with an error when the socket closes; that is the normal end.
		}
	}

	#onSocketEvent(event: zmq.Event): void {
		const previous = this.#lastEvent;
		this.#lastEvent = event.type;
		// The other events (bind, accept, close, end) say nothing about the link: the default ignores them.
		switch (event.type) {
			case 'handshake': {
				this.#handshakeFailed = false;
				this.#onEvent({type: 'up'});
				break;
			}

			case 'disconnect': {
				this.#onEvent({type: 'down'});
				// After a plain disconnect libzmq retries at once; after a protocol error (a frame over
				// maxMessageSize) it gives up silently. No retry within the window means the latter.
				clearTimeout(this.#dropTimer);
				this.#dropTimer = setTimeout(() => {
					if (!this.#closed) {
						this.#onEvent({type: 'dropped', reason: this.#handshakeFailed ? 'refused' : 'oversize'});
					}
				}, TERMINAL_DROP_WINDOW_MS);
				break;
			}

			case 'connect:retry': {
				clearTimeout(this.#dropTimer);
				this.#dropTimer = undefined;
				if (previous !== 'disconnect') {
					this.#onEvent({type: 'dial-failed', code: 'ECONNREFUSED'});
				}

				break;
			}

			case 'connect:delay':
			case 'connect': {
				clearTimeout(this.#dropTimer);
				this.#dropTimer = undefined;
				break;
			}

			case 'handshake:error:auth':
			case 'handshake:error:protocol':
			case 'handshake:error:other': {
				this.#handshakeFailed = true;
				this.#onEvent({type: 'handshake-failed', reason: event.type});
				break;
			}

			default: {
				break;
			}
		}
	}
}

/**
Report subscribers that failed to handshake with our publisher (ZAP refusals are reported by ZAP),
count the connections it holds, and bound them: past `maxConnections`, or on a failed accept for
want of descriptors (EMFILE), the listener sheds every connection and rests (libzmq-shedding.ts).
Each is counted (`max-connections`, `descriptors`) and reported; none can crash the node.
*/
async function watchPublisher(events: zmq.Observer, onEvent: (event: PublisherEvent) => void, shedder: ListenerShedder, maxConnections: number): Promise<void> {
	const {connections} = shedder;
	try {
		for await (const event of events) {
			switch (event.type) {
				case 'handshake:error:protocol':
				case 'handshake:error:other': {
					const code = (event.error as {code?: string} | undefined)?.code;
					onEvent({type: 'client-handshake-failed', reason: event.type, ...(code === undefined ? {} : {code})});
					break;
				}

				case 'accept': {
					if (++connections.held > maxConnections) {
						onEvent({type: 'client-refused', reason: 'max-connections', detail: `${connections.held} connections held (limit ${maxConnections}): all shed, the listener rests`});
						shedder.shed();
					}

					break;
				}

				case 'disconnect': {
					connections.held = Math.max(0, connections.held - 1);
					break;
				}

				case 'accept:error': {
					// While the listener is being shed, the I/O thread's retries are the same refusal again.
					if (!shedder.resting) {
						const code = (event.error as {code?: string} | undefined)?.code;
						const descriptors = code === 'EMFILE' || code === 'ENFILE';
						onEvent({type: 'client-refused', reason: descriptors ? 'descriptors' : 'protocol', detail: `accept failed: ${code ?? event.error.message}`});
						if (descriptors) {
							shedder.shed();
						}
					}

					break;
				}

				default: {
					break;
				}
			}
		}
	} catch {
		// The event stream ends with an error when the socket closes.
	}
}
