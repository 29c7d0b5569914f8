/**
One ZMTP 3 connection over a node:net socket: greeting, NULL-mechanism READY exchange, PING/PONG,
then message frames to its owner. Shared by the subscriber (client side) and the publisher (server side).
*/

import type net from 'node:net';
import {performance} from 'node:perf_hooks';
import {encodePong, encodeReady, errorReason, parseCommand, parseProperties} from './commands.js';
import {FLAG_COMMAND, FLAG_MORE} from './frame.js';
import {FrameDecoder, ZmtpStreamError} from './frame-decoder.js';
import {GreetingReader, OUR_GREETING, SIGNATURE_BYTES} from './greeting.js';

/**
Why we closed a connection: a bad handshake, a frame over the size limit, a malformed stream, more
control frames (commands; on a publisher, anything its subscriber sends) than the control budget
allows (`command-flood`), or a multipart message of more parts than `maxMessageParts`.
*/
export type ZmtpFailure = 'handshake' | 'oversize' | 'protocol' | 'command-flood' | 'too-many-parts';

/**
Control frames (commands, and on a publisher every frame its subscriber sends) a connection may
send in a burst, and how fast that allowance refills. A libzmq peer sends a PING per heartbeat
interval and a subscriber one SUBSCRIBE per prefix (1,000 at most, see publisher.ts), so honest
peers stay far below; a flood of tiny commands meets the limit within one read and is cut off
before it costs more than a few thousand frame callbacks.
*/
export const CONTROL_BURST_FRAMES = 2000;
export const CONTROL_FRAMES_PER_SECOND = 500;
/**
Bytes that may wait in a connection's send buffer before a PING goes unanswered: a peer that does
not read cannot make us queue PONGs without end (it would get no answer from a full pipe anyway).
*/
export const MAX_PONG_BACKLOG_BYTES = 64 * 1024;
/** What a connection read by the event loop reads before it lets the loop go round (see #yieldAfterSlice). */
export const READ_SLICE_BYTES = 64 * 1024;
/** Frames of one multipart message; an empty frame with MORE costs 0 bytes, so bytes alone do not bound it. */
export const DEFAULT_MAX_MESSAGE_PARTS = 64;

export type ZmtpConnectionHandler = {
	/** Greetings and READYs exchanged: messages may flow. */
	onReady(): void;
	/** A message frame (flags: MORE or 0) after the handshake. */
	onData(flags: number, body: Buffer): void;
	/** A command after the handshake other than PING/PONG (SUBSCRIBE, CANCEL, unknown ones). */
	onCommand(name: string, data: Buffer): void;
	/** A PING was left unanswered: our send buffer already holds MAX_PONG_BACKLOG_BYTES (the peer does not read). */
	onPingDropped?(): void;
	/** We closed the connection for a fault of the peer's; nothing more is reported for it. */
	onFailure(kind: ZmtpFailure, detail: string): void;
	/** The socket closed (peer closed, reset, connect failed); `code` from its last error if any. */
	onClose(code: string | undefined, wasEstablished: boolean): void;
};

export type ZmtpConnectionOptions = {
	socketType: 'PUB' | 'SUB' | 'ROUTER' | 'DEALER';
	/** Socket types the peer's READY may carry. */
	peerTypes: readonly string[];
	maxFrameBytes: number;
	maxCommandBytes: number;
	/** Frames one multipart message may have. @default DEFAULT_MAX_MESSAGE_PARTS */
	maxMessageParts?: number;
	/** Sent right after our READY, in the same write (the subscriber's subscription). */
	afterReady?: Buffer;
	/**
	The owner reads the socket itself (net's `onread`, see subscriber.ts) and hands each chunk to
	`feed()`; otherwise the connection listens to 'data'.
	*/
	ownerReads?: boolean;
};

const enum Phase {
	Greeting,
	AwaitReady,
	Established,
	Done,
}

export class ZmtpConnection {
	readonly socket: net.Socket;
	readonly #options: ZmtpConnectionOptions;
	readonly #handler: ZmtpConnectionHandler;
	readonly #greeting = new GreetingReader();
	readonly #decoder: FrameDecoder;
	#phase = Phase.Greeting;
	/** The rest of our greeting (after the signature) has been written. */
	#greetingSent = false;
	#errorCode: string | undefined;
	/** Frames of the multipart message arriving now (MORE seen), bounded by maxMessageParts. */
	#parts = 0;
	readonly #maxParts: number;
	/** The control budget (a token bucket): frames left, refilled once per chunk from the clock. */
	#controlTokens = CONTROL_BURST_FRAMES;
	#controlRefilledMs = performance.now();
	/** On a publisher every frame a subscriber sends is control (subscriptions); on a subscriber, commands. */
	readonly #dataIsControl: boolean;
	/** PONGs owed for the PINGs of the chunk being read: written together once it is done, one write not thousands. */
	#pongs: Buffer[] = [];
	#pongBytes = 0;
	/** Bytes read since reading last yielded to the event loop (see #yieldAfterSlice). */
	#readSinceYield = 0;

	constructor(socket: net.Socket, options: ZmtpConnectionOptions, handler: ZmtpConnectionHandler) {
		this.socket = socket;
		this.#options = options;
		this.#handler = handler;
		this.#maxParts = options.maxMessageParts ?? DEFAULT_MAX_MESSAGE_PARTS;
		this.#dataIsControl = options.socketType === 'PUB';
		this.#decoder = new FrameDecoder(options, (flags, body) => {
			if (this.#phase === Phase.Established && (flags & FLAG_COMMAND) === 0) {
				this.#onMessageFrame(flags, body);
			} else {
				this.#onOtherFrame(flags, body);
			}
		});
		// Small frames must leave at once, not wait for Nagle.
		socket.setNoDelay(true);
		if (options.ownerReads !== true) {
			socket.on('data', (chunk: Buffer) => {
				this.#onChunk(chunk);
				this.#yieldAfterSlice(chunk.length);
			});
		}

		socket.on('error', (error: NodeJS.ErrnoException) => {
			this.#errorCode = error.code ?? 'EUNKNOWN';
		});
		socket.on('close', () => {
			if (this.#phase === Phase.Done) {
				return;
			}

			const phase = this.#phase;
			this.#phase = Phase.Done;
			this.#decoder.stop();
			// libzmq closes without a word when it refuses our greeting or READY (another mechanism such
			// as CURVE, an incompatible socket type), often before the rest of its own greeting has left
			// its buffer. A ZMTP peer (its signature seen) that hangs up mid-handshake has refused us.
			if (phase === Phase.AwaitReady || (phase === Phase.Greeting && this.#greeting.signatureSeen)) {
				this.#handler.onFailure(
					'handshake',
					phase === Phase.Greeting
						? 'the peer closed the connection on our greeting (does it want CURVE or another mechanism?)'
						: 'the peer closed the connection before READY (an incompatible socket type, or refused by its ZAP handler?)',
				);
				return;
			}

			this.#handler.onClose(this.#errorCode, phase === Phase.Established);
		});
		// The signature now, the rest of the greeting once the peer's signature is here (see greeting.ts).
		// A client's socket holds the write until TCP connects.
		socket.write(OUR_GREETING.subarray(0, SIGNATURE_BYTES));
	}

	get established(): boolean {
		return this.#phase === Phase.Established;
	}

	/** A chunk the owner read from the socket (with `ownerReads`); it must not be reused afterwards. */
	feed(chunk: Buffer): void {
		this.#onChunk(chunk);
	}

	/** Close without reporting anything more. */
	destroy(): void {
		this.#phase = Phase.Done;
		this.#decoder.stop();
		this.socket.destroy();
	}

	#onChunk(chunk: Buffer): void {
		this.#refillControl();
		if (this.#phase === Phase.Greeting) {
			const taken = this.#greeting.feed(chunk);
			if (this.#greeting.failure !== undefined) {
				this.#fail('handshake', this.#greeting.failure);
				return;
			}

			if (!this.#greetingSent && this.#greeting.signatureSeen) {
				this.#greetingSent = true;
				this.socket.write(OUR_GREETING.subarray(SIGNATURE_BYTES));
			}

			if (this.#greeting.greeting === undefined) {
				return;
			}

			// NULL mechanism: READY goes out once the greetings agree. A peer announcing 3.1 gets 3.0
			// behaviour from us, which the spec requires of the higher version.
			this.#phase = Phase.AwaitReady;
			const ready = encodeReady(this.#options.socketType);
			const {afterReady} = this.#options;
			this.socket.write(afterReady === undefined ? ready : Buffer.concat([ready, afterReady]));
			chunk = chunk.subarray(taken);
			if (chunk.length === 0) {
				return;
			}
		}

		if (this.#phase === Phase.Done) {
			return;
		}

		try {
			this.#decoder.push(chunk);
		} catch (error) {
			this.#onStreamError(error);
		}

		if (this.#pongs.length > 0) {
			const pongs = this.#pongs;
			this.#pongs = [];
			this.#pongBytes = 0;
			if (!this.socket.destroyed) {
				this.socket.write(pongs.length === 1 ? pongs[0]! : Buffer.concat(pongs));
			}
		}
	}

	/**
	A socket read by the event loop (a publisher's clients) is read at most READ_SLICE_BYTES at a time:
	then reading stops until the loop has gone round once (setImmediate), so that the timers (the
	node's tick) and every other connection get their turn. libuv would otherwise read up to 32 times
	from one socket per wake-up: forty clients streaming subscriptions stalled a tick for a second.
	*/
	#yieldAfterSlice(bytes: number): void {
		this.#readSinceYield += bytes;
		if (this.#readSinceYield < READ_SLICE_BYTES || this.#phase === Phase.Done) {
			return;
		}

		this.#readSinceYield = 0;
		this.socket.pause();
		setImmediate(() => {
			if (this.#phase !== Phase.Done) {
				this.socket.resume();
			}
		});
	}

	/** Once per chunk, not per frame: the clock costs more than a frame. */
	#refillControl(): void {
		if (this.#controlTokens >= CONTROL_BURST_FRAMES) {
			this.#controlRefilledMs = performance.now();
			return;
		}

		const nowMs = performance.now();
		this.#controlTokens = Math.min(CONTROL_BURST_FRAMES, this.#controlTokens + ((nowMs - this.#controlRefilledMs) * CONTROL_FRAMES_PER_SECOND) / 1000);
		this.#controlRefilledMs = nowMs;
	}

	/** Spend one control frame; false (and the connection failed) when the budget is spent. */
	#chargeControl(): boolean {
		if (--this.#controlTokens >= 0) {
			return true;
		}

		this.#fail('command-flood', `more than ${CONTROL_BURST_FRAMES} control frames at once, or ${CONTROL_FRAMES_PER_SECOND} a second`);
		return false;
	}

	/** A message frame after the handshake: parts bounded per message, control charged on a publisher. */
	#onMessageFrame(flags: number, body: Buffer): void {
		if (this.#dataIsControl && !this.#chargeControl()) {
			return;
		}

		if ((flags & FLAG_MORE) === 0) {
			this.#parts = 0;
		} else if (++this.#parts >= this.#maxParts) {
			this.#fail('too-many-parts', `a multipart message of more than ${this.#maxParts} frames`);
			return;
		}

		this.#handler.onData(flags, body);
	}

	#onStreamError(error: unknown): void {
		if (!(error instanceof ZmtpStreamError)) {
			throw error;
		}

		this.#fail(this.#phase === Phase.Established ? error.reason : 'handshake', error.detail);
	}

	/** Commands, and message frames that arrive before the handshake is done. */
	#onOtherFrame(flags: number, body: Buffer): void {
		if (this.#phase === Phase.Done) {
			return;
		}

		if ((flags & FLAG_COMMAND) === 0) {
			this.#fail('handshake', 'a message frame before READY');
			return;
		}

		const command = parseCommand(body);
		if (command === undefined) {
			this.#fail(this.#phase === Phase.Established ? 'protocol' : 'handshake', 'a malformed command frame');
			return;
		}

		if (this.#phase === Phase.AwaitReady) {
			this.#onHandshakeCommand(command.name, command.data);
			return;
		}

		if (!this.#chargeControl()) {
			return;
		}

		switch (command.name) {
			case 'PING': {
				if (this.socket.writableLength + this.#pongBytes >= MAX_PONG_BACKLOG_BYTES) {
					this.#handler.onPingDropped?.();
				} else {
					const pong = encodePong(command.data);
					this.#pongs.push(pong);
					this.#pongBytes += pong.length;
				}

				break;
			}

			case 'PONG': {
				break;
			}

			default: {
				this.#handler.onCommand(command.name, command.data);
			}
		}
	}

	#onHandshakeCommand(name: string, data: Buffer): void {
		if (name === 'ERROR') {
			this.#fail('handshake', `the peer refused us: ${errorReason(data)}`);
			return;
		}

		if (name !== 'READY') {
			this.#fail('handshake', `expected READY, got ${JSON.stringify(name)}`);
			return;
		}

		const properties = parseProperties(data);
		if (properties === undefined) {
			this.#fail('handshake', 'malformed READY properties');
			return;
		}

		const socketType = properties.get('socket-type')?.toString('latin1');
		if (socketType === undefined || !this.#options.peerTypes.includes(socketType)) {
			this.#fail(
				'handshake',
				`the peer is a ${socketType ?? 'socket of no type'}; a ${this.#options.socketType} needs ${this.#options.peerTypes.join(' or ')}`,
			);
			return;
		}

		this.#phase = Phase.Established;
		this.#handler.onReady();
	}

	#fail(kind: ZmtpFailure, detail: string): void {
		this.destroy();
		this.#handler.onFailure(kind, detail);
	}
}
