/**
A ZMTP 3 DEALER socket over node:net for one tcp:// endpoint (a ROUTER, DEALER or REP peer): dials,
redials with backoff, sends messages and hands up the whole messages that come back.

As libzmq's DEALER with one peer: what is sent before the link is up waits in a queue of at most
`sendHighWaterMark` messages (one more is refused: send() returns false), and leaves when the
handshake completes; what was written to a link that then broke is lost (the caller's own timeout
answers for it). A reply over `maxMessageBytes`, more than `maxMessageParts` frames, a malformed
stream or a flood of commands closes the link (`dropped`), and it is dialled again after the backoff.
*/

import net from 'node:net';
import {performance} from 'node:perf_hooks';
import {ZmtpConnection, type ZmtpFailure} from './connection.js';
import {descriptorOf, writeThrough} from './descriptor.js';
import {parseTcpEndpoint, type TcpEndpoint} from './endpoint.js';
import {encodeMessage} from './frame.js';
import {MessageAssembler} from './message-assembler.js';

export type ZmtpDealerEvent =
	| {type: 'handshake'}
	| {type: 'disconnect'}
	/** A dial failed or timed out (ETIMEDOUT); redialled after the backoff. */
	| {type: 'connect-failed'; code: string}
	/** We closed the link for a fault of the peer's; redialled after the backoff. */
	| {type: 'dropped'; reason: Exclude<ZmtpFailure, 'handshake'>; detail: string}
	/** The peer is not a NULL-mechanism ZMTP 3 ROUTER, DEALER or REP; redialled after the backoff. */
	| {type: 'handshake-failed'; reason: string};

export type ZmtpDealerOptions = {
	/** tcp://host:port */
	endpoint: string;
	/** A whole message (all its frames) larger than this closes the link. @default 65536 */
	maxMessageBytes?: number;
	/** Frames of one message; more close the link. @default 64 */
	maxMessageParts?: number;
	/** Messages waiting for the link to come up; one more is refused. @default 1000 */
	sendHighWaterMark?: number;
	/** First wait before a redial; doubled (±25 % jitter) after each failure, up to reconnectIntervalMaxMs. @default 100 */
	reconnectIntervalMs?: number;
	/** @default 1000 */
	reconnectIntervalMaxMs?: number;
	/** A TCP connect, or the handshake after it, that takes longer is abandoned and redialled. @default 1000 */
	connectTimeoutMs?: number;
	/** A whole message from the peer. */
	onMessage: (frames: Buffer[]) => void;
	onEvent?: (event: ZmtpDealerEvent) => void;
};

/** A link that stayed up this long has proved itself: the next redial starts from the short interval. */
const BACKOFF_RESET_AFTER_MS = 1000;

export class ZmtpDealer {
	readonly #options: Required<Omit<ZmtpDealerOptions, 'onEvent'>> & Pick<ZmtpDealerOptions, 'onEvent'>;
	readonly #target: TcpEndpoint;
	readonly #assembler: MessageAssembler;
	/** Encoded messages sent before the link came up. */
	#waiting: Buffer[] = [];
	#connection: ZmtpConnection | undefined;
	#timer: NodeJS.Timeout | undefined;
	#backoffMs: number;
	#establishedAtMs: number | undefined;
	#closed = false;

	constructor(options: ZmtpDealerOptions) {
		const reconnectIntervalMs = options.reconnectIntervalMs ?? 100;
		this.#options = {
			endpoint: options.endpoint,
			maxMessageBytes: options.maxMessageBytes ?? 64 * 1024,
			maxMessageParts: options.maxMessageParts ?? 64,
			sendHighWaterMark: options.sendHighWaterMark ?? 1000,
			reconnectIntervalMs,
			reconnectIntervalMaxMs: Math.max(options.reconnectIntervalMaxMs ?? 1000, reconnectIntervalMs),
			connectTimeoutMs: options.connectTimeoutMs ?? 1000,
			onMessage: options.onMessage,
			onEvent: options.onEvent,
		};
		// Throws EndpointError (code EINVAL) at once: a bad endpoint is the caller's mistake.
		this.#target = parseTcpEndpoint(options.endpoint, 'connect');
		this.#assembler = new MessageAssembler(this.#options.maxMessageBytes);
		this.#backoffMs = reconnectIntervalMs;
	}

	/** The link is up. */
	get connected(): boolean {
		return this.#connection?.established === true;
	}

	/** Start dialling; a no-op once started. */
	connect(): void {
		if (!this.#closed && this.#connection === undefined && this.#timer === undefined) {
			this.#dial();
		}
	}

	/** Send one message (one frame, or its frames); false when refused (the queue for a link not yet up is full, or closed). Never blocks. */
	send(message: Uint8Array | string | ReadonlyArray<Uint8Array | string>): boolean {
		if (this.#closed) {
			return false;
		}

		const frames = typeof message === 'string' || message instanceof Uint8Array ? [message] : message;
		const encoded = encodeMessage(frames.map((frame) => (typeof frame === 'string' ? Buffer.from(frame) : frame)));
		const connection = this.#connection;
		if (connection?.established === true && !connection.socket.destroyed) {
			writeThrough(connection.socket, encoded, descriptorOf(connection.socket));
			return true;
		}

		if (this.#waiting.length >= this.#options.sendHighWaterMark) {
			return false;
		}

		this.#waiting.push(encoded);
		return true;
	}

	/** Idempotent: closes the link and drops what waits; nothing is reported afterwards. */
	close(): void {
		if (this.#closed) {
			return;
		}

		this.#closed = true;
		clearTimeout(this.#timer);
		this.#timer = undefined;
		this.#waiting = [];
		this.#connection?.destroy();
		this.#connection = undefined;
	}

	#dial(): void {
		const socket = net.connect({host: this.#target.host, port: this.#target.port});
		const connection: ZmtpConnection = new ZmtpConnection(
			socket,
			{
				socketType: 'DEALER',
				peerTypes: ['ROUTER', 'DEALER', 'REP'],
				maxFrameBytes: this.#options.maxMessageBytes,
				maxCommandBytes: 64 * 1024,
				maxMessageParts: this.#options.maxMessageParts,
			},
			{
				onReady: () => {
					this.#clearTimer();
					this.#establishedAtMs = performance.now();
					const waiting = this.#waiting;
					this.#waiting = [];
					if (waiting.length > 0) {
						socket.write(waiting.length === 1 ? waiting[0]! : Buffer.concat(waiting));
					}

					this.#emit({type: 'handshake'});
				},
				onData: (flags, body) => {
					const message = this.#assembler.push(flags, body);
					if (message === 'oversize') {
						connection.destroy();
						this.#lost(connection, {type: 'dropped', reason: 'oversize', detail: `a message of over ${this.#options.maxMessageBytes} bytes`});
					} else if (message !== undefined) {
						this.#options.onMessage(message);
					}
				},
				onCommand() {
					// Unknown commands are ignored, as the spec asks.
				},
				onFailure: (kind, detail) => {
					this.#lost(connection, kind === 'handshake' ? {type: 'handshake-failed', reason: detail} : {type: 'dropped', reason: kind, detail});
				},
				onClose: (code, wasEstablished) => {
					this.#lost(connection, wasEstablished ? {type: 'disconnect'} : {type: 'connect-failed', code: code ?? 'ECONNCLOSED'});
				},
			},
		);
		this.#connection = connection;
		// TCP and the handshake together: a dark path or a mute server is abandoned and redialled.
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			if (this.#connection === connection && !connection.established) {
				connection.destroy();
				this.#lost(connection, {type: 'connect-failed', code: 'ETIMEDOUT'});
			}
		}, 3 * this.#options.connectTimeoutMs);
	}

	/** The link is gone: report it once and redial after the backoff. */
	#lost(connection: ZmtpConnection, event: ZmtpDealerEvent): void {
		if (this.#connection !== connection || this.#closed) {
			return;
		}

		this.#connection = undefined;
		this.#assembler.reset();
		this.#clearTimer();
		if (this.#establishedAtMs !== undefined && performance.now() - this.#establishedAtMs >= BACKOFF_RESET_AFTER_MS) {
			this.#backoffMs = this.#options.reconnectIntervalMs;
		}

		this.#establishedAtMs = undefined;
		this.#emit(event);
		if (this.#closed) {
			return;
		}

		// Exponential, capped, with jitter: a peer that hangs up on every dial is not redialled ten times a
		// second. The cap holds after the jitter too, as libzmq's reconnect_ivl_max.
		const delayMs = Math.min(this.#backoffMs * (0.75 + Math.random() * 0.5), this.#options.reconnectIntervalMaxMs);
		this.#backoffMs = Math.min(this.#backoffMs * 2, this.#options.reconnectIntervalMaxMs);
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			if (!this.#closed && this.#connection === undefined) {
				this.#dial();
			}
		}, delayMs);
	}

	#clearTimer(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
	}

	#emit(event: ZmtpDealerEvent): void {
		if (!this.#closed) {
			this.#options.onEvent?.(event);
		}
	}
}
