/**
Incremental ZMTP 3 frame decoder: fed TCP chunks split anywhere, it hands out whole frames.

This is the receive hot path. A frame that lies inside one chunk is handed out as a view of that
chunk (no copy); only a frame split across chunks is copied, once, into a buffer of its exact size.
A view keeps its whole chunk alive, which is fine for messages that are parsed and let go.
*/

import {FLAG_COMMAND, FLAG_LONG, FLAG_MORE} from './frame.js';

/** The stream broke the protocol or a limit; the connection must be closed. */
export class ZmtpStreamError extends Error {
	constructor(
		readonly reason: 'oversize' | 'protocol',
		readonly detail: string,
	) {
		super(detail);
		this.name = 'ZmtpStreamError';
	}
}

export type FrameDecoderLimits = {
	/** Largest message frame body accepted; a larger size is refused as soon as its header arrives. */
	maxFrameBytes: number;
	/** Largest command frame body (READY, SUBSCRIBE …) accepted. */
	maxCommandBytes: number;
};

/** Receives each frame: its flags byte (MORE, COMMAND; LONG cleared) and its body. */
export type OnFrame = (flags: number, body: Buffer) => void;

/** Flag bits the spec reserves; libzmq never sets them, so a set one means garbage. */
const RESERVED_BITS = ~(FLAG_MORE | FLAG_LONG | FLAG_COMMAND) & 0xff;
const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
	readonly #limits: FrameDecoderLimits;
	readonly #onFrame: OnFrame;
	/** A header split across chunks: its bytes so far. */
	readonly #header = Buffer.alloc(9);
	#headerHave = 0;
	/** A body split across chunks: its buffer, how much of it has arrived, and its flags. */
	#body: Buffer | undefined;
	#bodyHave = 0;
	#bodyFlags = 0;
	#stopped = false;

	constructor(limits: FrameDecoderLimits, onFrame: OnFrame) {
		this.#limits = limits;
		this.#onFrame = onFrame;
	}

	/** Hand out no more frames (the connection is being closed); later chunks are ignored. */
	stop(): void {
		this.#stopped = true;
	}

	/** Feed the next chunk; throws ZmtpStreamError when the stream is bad. */
	push(chunk: Buffer): void {
		if (this.#stopped) {
			return;
		}

		const length = chunk.length;
		let offset = 0;
		if (this.#body !== undefined || this.#headerHave > 0) {
			offset = this.#continueSplitFrame(chunk);
		}

		// The common case: whole frames inside this chunk, handed out as views.
		while (offset < length && !this.#stopped) {
			const flags = chunk[offset]!;
			let size: number;
			let start: number;
			if ((flags & FLAG_LONG) === 0) {
				if (offset + 2 > length) {
					break;
				}

				size = chunk[offset + 1]!;
				start = offset + 2;
			} else {
				if (offset + 9 > length) {
					break;
				}

				size = readLongSize(chunk, offset + 1);
				start = offset + 9;
			}

			this.#check(flags, size);
			const end = start + size;
			if (end > length) {
				this.#startSplitBody(flags, size, chunk, start);
				return;
			}

			offset = end;
			this.#onFrame(flags & ~FLAG_LONG, size === 0 ? EMPTY : chunk.subarray(start, end));
		}

		if (offset < length && !this.#stopped) {
			// A header cut by the end of the chunk.
			chunk.copy(this.#header, 0, offset, length);
			this.#headerHave = length - offset;
		}
	}

	/** Complete a header or a body that began in an earlier chunk; returns where whole frames resume. */
	#continueSplitFrame(chunk: Buffer): number {
		let offset = 0;
		if (this.#headerHave > 0) {
			const flags = this.#header[0]!;
			const need = (flags & FLAG_LONG) === 0 ? 2 : 9;
			const take = Math.min(need - this.#headerHave, chunk.length);
			chunk.copy(this.#header, this.#headerHave, 0, take);
			this.#headerHave += take;
			offset = take;
			if (this.#headerHave < need) {
				return chunk.length;
			}

			this.#headerHave = 0;
			const size = need === 2 ? this.#header[1]! : readLongSize(this.#header, 1);
			this.#check(flags, size);
			if (offset + size <= chunk.length) {
				const body = size === 0 ? EMPTY : chunk.subarray(offset, offset + size);
				this.#onFrame(flags & ~FLAG_LONG, body);
				return offset + size;
			}

			this.#startSplitBody(flags, size, chunk, offset);
			return chunk.length;
		}

		const body = this.#body!;
		const take = Math.min(body.length - this.#bodyHave, chunk.length);
		chunk.copy(body, this.#bodyHave, 0, take);
		this.#bodyHave += take;
		if (this.#bodyHave < body.length) {
			return chunk.length;
		}

		this.#body = undefined;
		this.#onFrame(this.#bodyFlags, body);
		return take;
	}

	#startSplitBody(flags: number, size: number, chunk: Buffer, start: number): void {
		const body = Buffer.allocUnsafe(size);
		chunk.copy(body, 0, start);
		this.#body = body;
		this.#bodyHave = chunk.length - start;
		this.#bodyFlags = flags & ~FLAG_LONG;
	}

	#check(flags: number, size: number): void {
		if ((flags & RESERVED_BITS) !== 0) {
			throw new ZmtpStreamError('protocol', `reserved flag bits set (flags 0x${flags.toString(16)})`);
		}

		if ((flags & FLAG_COMMAND) !== 0) {
			if ((flags & FLAG_MORE) !== 0) {
				throw new ZmtpStreamError('protocol', 'a command frame with MORE set');
			}

			if (size > this.#limits.maxCommandBytes) {
				throw new ZmtpStreamError('protocol', `a ${size}-byte command (limit ${this.#limits.maxCommandBytes})`);
			}
		} else if (size > this.#limits.maxFrameBytes) {
			throw new ZmtpStreamError('oversize', `a ${size}-byte frame (limit ${this.#limits.maxFrameBytes})`);
		}
	}
}

/** An 8-byte big-endian size; anything past 2^53 is reported as Infinity, which every limit refuses. */
function readLongSize(bytes: Buffer, at: number): number {
	const high = bytes.readUInt32BE(at);
	const low = bytes.readUInt32BE(at + 4);
	return high >= 0x20_00_00 ? Number.POSITIVE_INFINITY : high * 2 ** 32 + low;
}
