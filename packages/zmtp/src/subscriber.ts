/**
A ZMTP 3 SUB socket over node:net for one tcp:// publisher: dials, redials, and queues complete
messages for a synchronous receive() or take().

Why not zeromq.js here: its per-message cost (a promise, a mailbox wake-up, libzmq's I/O thread)
dominated a node. Here one socket read delivers many messages, parsed as views of the read chunk.

Once a link is up it is read only when its owner calls fetch(), never as data comes: in a 20-node
mesh peers send 19 messages a tick, each in its own TCP segment, and the wake-ups they caused (a
context switch each) cost more than the messages themselves. How fetch() reads (`reading`):
- 'polled' (the default): fetch() reads the socket itself, synchronously, through its file
  descriptor (descriptor.ts), and the event loop never watches it for data; the kernel holds what
  arrives between two fetches. Where the socket has no descriptor (Windows), it reads 'on-demand'.
- 'on-demand': fetch() restarts the event loop's reading, and the data comes in its next poll
  phase; a read that empties the socket stops reading again, and so does endFetch(). libuv takes a
  stopped socket out of epoll only when it next fires, though, so an arriving message may still
  wake the process once.
In both a flood reads without a pause: a read that fills the buffer is followed by another at once.
A link that is not fetched notices neither data nor a peer that went away until it is.
*/

import net from 'node:net';
import {performance} from 'node:perf_hooks';
import {ZmtpConnection, type ZmtpFailure} from './connection.js';
import {descriptorOf, readNow} from './descriptor.js';
import {parseTcpEndpoint, type TcpEndpoint} from './endpoint.js';
import {MessageQueue} from './message-queue.js';
import {encodeFrame, FLAG_MORE} from './frame.js';

export type ZmtpSubscriberEvent =
	/** Greeting and READY exchanged and our subscription sent: the link is up. */
	| {type: 'handshake'}
	/** An established link closed; the subscriber redials by itself after reconnectIntervalMs. */
	| {type: 'disconnect'}
	/**
	A dial failed, TCP did not connect within connectTimeoutMs, or the handshake did not complete within three times that (ETIMEDOUT);
	it redials after reconnectIntervalMs. `code` is the socket's errno name (ECONNREFUSED …), or
	ECONNCLOSED when the peer closed before sending a ZMTP signature.
	*/
	| {type: 'connect-failed'; code: string}
	/**
	We closed the link: a frame over maxMessageBytes, a malformed stream, a flood of commands
	(`command-flood`), or a multipart message of more than maxMessageParts frames. No redial: the
	owner calls connect() when it sees fit.
	*/
	| {type: 'dropped'; reason: Exclude<ZmtpFailure, 'handshake'>; detail: string}
	/** A PING of the publisher's went unanswered: our PONGs were piling up unread (see connection.ts). */
	| {type: 'ping-dropped'}
	/** The peer is not a NULL-mechanism ZMTP 3.x PUB/XPUB. No redial. */
	| {type: 'handshake-failed'; reason: string};

/** How fetch() reads an established link (see above). */
export type ZmtpReading = 'polled' | 'on-demand';

export type ZmtpSubscriberOptions = {
	/** tcp://host:port */
	endpoint: string;
	/** A frame, or the sum of a multipart message's frames, larger than this: 'dropped' oversize, nothing of it delivered. @default 65536 */
	maxMessageBytes?: number;
	/** Complete messages queued unread before we stop reading the socket; reading resumes below half of it. @default 1000 */
	highWaterMark?: number;
	/**
	Wait before redialling after a disconnect or a failed dial; doubled (with ±25 % jitter) after each
	dial that does not bring a link lasting BACKOFF_RESET_AFTER_MS, up to reconnectIntervalMaxMs. @default 100
	*/
	reconnectIntervalMs?: number;
	/** Cap of the redial backoff. @default 1000 */
	reconnectIntervalMaxMs?: number;
	/** Frames one multipart message may have; more: 'dropped' too-many-parts. @default 64 */
	maxMessageParts?: number;
	/** Bytes one fetch() reads at most; the rest waits in the kernel for the next fetch (the tick comes first). @default 262144 */
	maxBytesPerFetch?: number;
	/** A TCP connect that takes longer is abandoned and redialled; the handshake gets three times as long. @default 1000 */
	connectTimeoutMs?: number;
	/** @default 'polled' */
	reading?: ZmtpReading;
	/** Prefix to subscribe to. @default '' (everything) */
	subscribe?: string | Uint8Array;
	onEvent: (event: ZmtpSubscriberEvent) => void;
};

type ResolvedOptions = Required<Omit<ZmtpSubscriberOptions, 'subscribe'>>;

/**
Every subscriber reads into this one buffer (net's `onread`) and copies out what it read at once:
no 64 KiB allocation per read, which under many small reads kept the garbage collector busy.
*/
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** How many times connectTimeoutMs the ZMTP handshake may take once TCP has connected. */
const HANDSHAKE_ALLOWANCE = 3;

/**
A link that stayed up this long has proved itself: the next redial starts from the short interval
again. One that a publisher closes at once (or that fails its handshake) keeps backing off.
*/
const BACKOFF_RESET_AFTER_MS = 1000;

/** Commands (READY) are tiny; this bounds what a peer can make us buffer before the handshake. */
const MAX_COMMAND_BYTES = 64 * 1024;

export class ZmtpSubscriber {
	readonly #options: ResolvedOptions;
	readonly #target: TcpEndpoint;
	/** Our subscription as a ZMTP 3.0 message: 0x01 then the prefix. */
	readonly #subscription: Buffer;
	#connection: ZmtpConnection | undefined;
	#connectTimer: NodeJS.Timeout | undefined;
	#redialTimer: NodeJS.Timeout | undefined;
	/** Complete messages not yet received. */
	readonly #queue = new MessageQueue<Buffer[]>();
	/** The frames of a multipart message still arriving, and their total size. */
	#parts: Buffer[] = [];
	#partBytes = 0;
	/** Reading stopped because the queue reached the high-water mark (back-pressure). */
	#paused = false;
	/** Reading stopped because the last read emptied the socket: fetch() starts it again. */
	#idle = false;
	/** The established link's file descriptor, when fetch() reads it itself ('polled'). */
	#polledFd: number | undefined;
	/** The last fetch stopped at maxBytesPerFetch with the socket still holding data. */
	#backlogged = false;
	#closed = false;
	/** The next redial's delay before jitter; grows while links keep failing. */
	#backoffMs: number;
	/** When the current link completed its handshake (performance.now()), or undefined. */
	#establishedAtMs: number | undefined;

	constructor(options: ZmtpSubscriberOptions) {
		this.#options = {
			endpoint: options.endpoint,
			maxMessageBytes: options.maxMessageBytes ?? 64 * 1024,
			highWaterMark: options.highWaterMark ?? 1000,
			reconnectIntervalMs: options.reconnectIntervalMs ?? 100,
			reconnectIntervalMaxMs: Math.max(options.reconnectIntervalMaxMs ?? 1000, options.reconnectIntervalMs ?? 100),
			maxMessageParts: options.maxMessageParts ?? 64,
			maxBytesPerFetch: options.maxBytesPerFetch ?? 256 * 1024,
			connectTimeoutMs: options.connectTimeoutMs ?? 1000,
			reading: options.reading ?? 'polled',
			onEvent: options.onEvent,
		};
		// Throws EndpointError (code EINVAL) at once: a bad endpoint is the caller's mistake.
		this.#target = parseTcpEndpoint(options.endpoint, 'connect');
		this.#backoffMs = this.#options.reconnectIntervalMs;
		const prefix = typeof options.subscribe === 'string' ? Buffer.from(options.subscribe) : (options.subscribe ?? new Uint8Array(0));
		this.#subscription = encodeFrame(Buffer.concat([Buffer.from([1]), prefix]), 0);
	}

	get readable(): boolean {
		return this.#queue.size > 0;
	}

	/** Complete messages waiting for receive(). */
	get queued(): number {
		return this.#queue.size;
	}

	/**
	The last fetch() stopped at maxBytesPerFetch while the socket held more: the owner should come
	back for it soon (after yielding to its timers), not only at its next tick.
	*/
	get backlogged(): boolean {
		// Only while the link it was read from is still up and polled: a lost link has nothing waiting.
		return this.#backlogged && this.#polledFd !== undefined && !this.#paused;
	}

	/**
	Start dialling, and keep redialling after disconnects and failed dials until close(). A no-op
	while a link is up, being dialled, or waiting to be redialled; after 'dropped' or
	'handshake-failed' it dials again.
	*/
	connect(): void {
		if (this.#closed || this.#connection !== undefined || this.#redialTimer !== undefined) {
			return;
		}

		this.#dial();
	}

	/** The next complete message's frames, or undefined when none is queued. Never waits. */
	receive(): Buffer[] | undefined {
		const message = this.#queue.shift();
		this.#resumeBelowHalf();
		return message;
	}

	/**
	Hand up to `max` queued messages to `each`, oldest first; returns how many. Never waits.
	`context` is passed through as the second argument: no closure per call on a hot path.
	*/
	take<C>(max: number, each: (frames: Buffer[], context: C) => void, context: C): number {
		const taken = this.#queue.take(max, each, context);
		this.#resumeBelowHalf();
		return taken;
	}

	/**
	Read what has arrived since the last read. A polled link reads it now. Otherwise reading restarts
	and the data comes in the event loop's next poll phase, so a caller that wants it before draining
	yields once (setImmediate); the return value says whether it needs to: true when reading was restarted.
	*/
	fetch(): boolean {
		if (this.#polledFd !== undefined) {
			this.#poll(this.#connection!, this.#polledFd);
			return false;
		}

		if (!this.#idle || this.#paused || this.#connection === undefined) {
			return false;
		}

		this.#idle = false;
		this.#connection.socket.resume();
		return true;
	}

	/**
	The fetch is over: stop reading until the next one, even if this read has not come yet (the
	peer had sent nothing since the last). Without this, such a link would wake the process for its
	next message in the middle of the period, the very wake-up reading on demand saves.
	*/
	endFetch(): void {
		if (this.#polledFd !== undefined || this.#idle || this.#paused || this.#connection?.established !== true) {
			return;
		}

		this.#idle = true;
		this.#connection.socket.pause();
	}

	/** Back-pressure is over once the queue is below half its mark: read again. */
	#resumeBelowHalf(): void {
		if (this.#paused && this.#queue.size < this.#options.highWaterMark / 2) {
			this.#paused = false;
			if (this.#polledFd === undefined) {
				this.#idle = false;
				this.#connection?.socket.resume();
			}
		}
	}

	/** Idempotent: destroys the socket and clears timers; no event follows. Queued messages stay receivable. */
	close(): void {
		if (this.#closed) {
			return;
		}

		this.#closed = true;
		this.#clearTimers();
		this.#connection?.destroy();
		this.#connection = undefined;
		this.#polledFd = undefined;
	}

	/** From now on fetch() reads this link (see descriptor.ts); without a descriptor it reads on demand. */
	#startPolling(connection: ZmtpConnection): void {
		const fd = descriptorOf(connection.socket);
		if (fd === undefined) {
			return;
		}

		this.#polledFd = fd;
		connection.socket.pause();
	}

	/**
	Read the socket now, synchronously, until it is empty, the queue is full, or this fetch has read
	maxBytesPerFetch: whatever the stream holds (commands, parts of messages that never end), one
	fetch costs a bounded time, and what is left waits in the kernel for the next one.
	*/
	#poll(connection: ZmtpConnection, fd: number): void {
		let budget = this.#options.maxBytesPerFetch;
		this.#backlogged = false;
		// A destroyed socket's descriptor is closed, and its number may already belong to another file.
		while (budget > 0 && !this.#paused && this.#connection === connection && !connection.socket.destroyed) {
			let bytes: number;
			try {
				bytes = readNow(fd, READ_BUFFER);
			} catch (error) {
				this.#lose(connection, (error as NodeJS.ErrnoException).code);
				return;
			}

			if (bytes < 0) {
				return;
			}

			if (bytes === 0) {
				this.#lose(connection, undefined);
				return;
			}

			budget -= bytes;
			connection.feed(Buffer.from(READ_BUFFER.subarray(0, bytes)));
			if (bytes < READ_BUFFER.length) {
				return;
			}

			// A full read: probably more waiting. Say so if this was the last read the budget allowed.
			this.#backlogged = budget <= 0;
		}
	}

	/** The peer closed or reset a polled link: the event loop was not watching, so say it here. */
	#lose(connection: ZmtpConnection, code: string | undefined): void {
		connection.destroy();
		this.#onClose(connection, code, true);
	}

	#dial(): void {
		this.#idle = false;
		const socket: net.Socket = net.connect({
			host: this.#target.host,
			port: this.#target.port,
			onread: {
				buffer: READ_BUFFER,
				callback: (bytes: number, buffer: Uint8Array): boolean => this.#onRead(connection, bytes, buffer),
			},
		});
		const connection: ZmtpConnection = new ZmtpConnection(
			socket,
			{
				socketType: 'SUB',
				peerTypes: ['PUB', 'XPUB'],
				maxFrameBytes: this.#options.maxMessageBytes,
				maxCommandBytes: MAX_COMMAND_BYTES,
				maxMessageParts: this.#options.maxMessageParts,
				afterReady: this.#subscription,
				ownerReads: true,
			},
			{
				onReady: () => {
					clearTimeout(this.#connectTimer);
					this.#connectTimer = undefined;
					this.#establishedAtMs = performance.now();
					// Reading was stopped by a full queue before this link came up: it starts stopped.
					if (this.#paused) {
						socket.pause();
					}

					if (this.#options.reading === 'polled') {
						this.#startPolling(connection);
					}

					this.#emit({type: 'handshake'});
				},
				onData: (flags, body) => {
					this.#onFrame(flags, body);
				},
				onCommand() {
					// Unknown commands are ignored, as the spec asks (and charged to the control budget).
				},
				onPingDropped: () => {
					this.#emit({type: 'ping-dropped'});
				},
				onFailure: (kind, detail) => {
					this.#onFailure(connection, kind, detail);
				},
				onClose: (code, wasEstablished) => {
					this.#onClose(connection, code, wasEstablished);
				},
			},
		);
		this.#connection = connection;
		this.#polledFd = undefined;
		this.#resetParts();
		// A dark path fails the TCP connect within connectTimeoutMs; a mute server fails the handshake.
		// The handshake gets longer (HANDSHAKE_ALLOWANCE times): it takes two or three round trips,
		// and on a lossy path each lost segment costs a retransmission timeout (200 ms or more).
		// Cutting it short there only starts another handshake on the same lossy path.
		this.#armConnectTimer(connection, this.#options.connectTimeoutMs);
		socket.once('connect', () => {
			if (this.#connection === connection && !connection.established) {
				this.#armConnectTimer(connection, HANDSHAKE_ALLOWANCE * this.#options.connectTimeoutMs);
			}
		});
	}

	#armConnectTimer(connection: ZmtpConnection, timeoutMs: number): void {
		clearTimeout(this.#connectTimer);
		this.#connectTimer = setTimeout(() => {
			this.#connectTimer = undefined;
			if (this.#connection === connection && !connection.established) {
				connection.destroy();
				this.#connection = undefined;
				this.#emit({type: 'connect-failed', code: 'ETIMEDOUT'});
				this.#scheduleRedial();
			}
		}, timeoutMs);
	}

	/**
	One read of the socket into READ_BUFFER. Returns false to stop reading: at the high-water mark,
	or, once the link is up, when this read emptied the socket (it did not fill the buffer).
	*/
	#onRead(connection: ZmtpConnection, bytes: number, buffer: Uint8Array): boolean {
		if (this.#connection !== connection) {
			return false;
		}

		// A copy of what was read: frames are views of it, and READ_BUFFER is reused by the next read.
		connection.feed(Buffer.from(buffer.subarray(0, bytes)));
		if (this.#paused || this.#polledFd !== undefined) {
			return false;
		}

		// Not polled (it returned above): 'on-demand', or 'polled' without a descriptor.
		if (bytes < buffer.length && connection.established) {
			this.#idle = true;
			return false;
		}

		return true;
	}

	/** The hot path: one call per message frame. */
	#onFrame(flags: number, body: Buffer): void {
		if ((flags & FLAG_MORE) === 0 && this.#parts.length === 0) {
			this.#enqueue([body]);
			return;
		}

		this.#partBytes += body.length;
		if (this.#partBytes > this.#options.maxMessageBytes) {
			const connection = this.#connection!;
			connection.destroy();
			this.#onFailure(connection, 'oversize', `a multipart message of over ${this.#options.maxMessageBytes} bytes`);
			return;
		}

		this.#parts.push(body);
		if ((flags & FLAG_MORE) === 0) {
			const message = this.#parts;
			this.#parts = [];
			this.#partBytes = 0;
			this.#enqueue(message);
		}
	}

	/** Forget a multipart message still arriving: a new connection, or one that failed, starts afresh. */
	#resetParts(): void {
		this.#parts = [];
		this.#partBytes = 0;
	}

	#enqueue(message: Buffer[]): void {
		this.#queue.push(message);
		// Back-pressure: stop reading, so that TCP fills and the publisher drops at its own HWM.
		if (!this.#paused && this.#queue.size >= this.#options.highWaterMark) {
			this.#paused = true;
			this.#connection?.socket.pause();
		}
	}

	#onFailure(connection: ZmtpConnection, kind: ZmtpFailure, detail: string): void {
		if (this.#connection !== connection || this.#closed) {
			return;
		}

		this.#connection = undefined;
		this.#polledFd = undefined;
		this.#establishedAtMs = undefined;
		this.#clearTimers();
		this.#resetParts();
		if (kind === 'handshake') {
			this.#emit({type: 'handshake-failed', reason: detail});
		} else {
			this.#emit({type: 'dropped', reason: kind, detail});
		}
	}

	#onClose(connection: ZmtpConnection, code: string | undefined, wasEstablished: boolean): void {
		if (this.#connection !== connection || this.#closed) {
			return;
		}

		this.#connection = undefined;
		this.#polledFd = undefined;
		clearTimeout(this.#connectTimer);
		this.#connectTimer = undefined;
		// A message cut short by the close is not delivered.
		this.#resetParts();
		if (this.#establishedAtMs !== undefined && performance.now() - this.#establishedAtMs >= BACKOFF_RESET_AFTER_MS) {
			this.#backoffMs = this.#options.reconnectIntervalMs;
		}

		this.#establishedAtMs = undefined;
		if (wasEstablished) {
			this.#emit({type: 'disconnect'});
		} else {
			this.#emit({type: 'connect-failed', code: code ?? 'ECONNCLOSED'});
		}

		this.#scheduleRedial();
	}

	#scheduleRedial(): void {
		if (this.#closed) {
			return;
		}

		// Exponential, capped, with jitter, however the link failed (refused, closed at once, timed
		// out): a publisher that hangs up on every dial is not redialled ten times a second, and peers
		// that lost the same publisher do not all come back in the same millisecond. The cap holds after
		// the jitter too, as libzmq's reconnect_ivl_max: a peer that comes back is heard within it.
		const delayMs = Math.min(this.#backoffMs * (0.75 + Math.random() * 0.5), this.#options.reconnectIntervalMaxMs);
		this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.reconnectIntervalMaxMs);
		this.#redialTimer = setTimeout(() => {
			this.#redialTimer = undefined;
			if (!this.#closed && this.#connection === undefined) {
				this.#dial();
			}
		}, delayMs);
	}

	#clearTimers(): void {
		clearTimeout(this.#connectTimer);
		this.#connectTimer = undefined;
		clearTimeout(this.#redialTimer);
		this.#redialTimer = undefined;
	}

	#emit(event: ZmtpSubscriberEvent): void {
		if (!this.#closed) {
			this.#options.onEvent(event);
		}
	}
}
