/**
The recording's writer: lines go into a bounded queue and a write stream (through gzip when the
name ends in .gz) drains it in the background, so that a slow disk never stalls a tick. When the
queue is full, snapshots are dropped first (the next one says as much again); events and actions
are kept, up to a hard bound that only a disk stalled for minutes reaches. The drops are counted
and the trailer, the file's last line, says so.
*/

import {createWriteStream, type WriteStream} from 'node:fs';
import {once} from 'node:events';
import type {Writable} from 'node:stream';
import zlib from 'node:zlib';
import {isGzipName} from './format.js';

export type RecordingWriterOptions = {
	/**
	Bytes queued before snapshots are dropped.
	@default 4 MiB
	*/
	maxQueuedBytes?: number;
	/**
	Bytes queued before events and actions are dropped too: the memory bound.
	@default 32 MiB
	*/
	hardMaxQueuedBytes?: number;
	/**
	How often a gzip stream is flushed to the file, so that a killed process loses at most this much.
	@default 2000
	*/
	gzipFlushMs?: number;
};

/** What kind of line: snapshots may be dropped under pressure, the rest may not. */
export type LineKind = 'snapshot' | 'other';

type Queued = {line: string; kind: LineKind};

export class RecordingWriter {
	readonly #file: WriteStream;
	readonly #out: Writable;
	readonly #gzip: zlib.Gzip | undefined;
	readonly #maxQueuedBytes: number;
	readonly #hardMaxQueuedBytes: number;
	#queue: Queued[] = [];
	#queuedBytes = 0;
	#draining = false;
	#closing = false;
	#error: Error | undefined;
	readonly #flushTimer: NodeJS.Timeout | undefined;
	/** Lines handed to the stream. */
	written = 0;
	/** Bytes of lines handed to the stream (before gzip). */
	writtenBytes = 0;
	droppedSnapshots = 0;
	droppedEvents = 0;

	constructor(file: string, options: RecordingWriterOptions = {}) {
		this.#maxQueuedBytes = options.maxQueuedBytes ?? 4 * 1024 * 1024;
		this.#hardMaxQueuedBytes = options.hardMaxQueuedBytes ?? 32 * 1024 * 1024;
		this.#file = createWriteStream(file, {flags: 'w'});
		this.#file.on('error', (error) => {
			this.#fail(error);
		});
		if (isGzipName(file)) {
			this.#gzip = zlib.createGzip();
			this.#gzip.on('error', (error) => {
				this.#fail(error);
			});
			this.#gzip.pipe(this.#file);
			this.#out = this.#gzip;
			this.#flushTimer = setInterval(() => {
				this.#gzip?.flush(zlib.constants.Z_SYNC_FLUSH);
			}, options.gzipFlushMs ?? 2000);
			this.#flushTimer.unref();
		} else {
			this.#out = this.#file;
		}
	}

	/** Resolves once the file is open; rejects with why it cannot be (a missing folder, no permission). */
	async opened(): Promise<void> {
		if (this.#error) {
			throw this.#error;
		}

		await Promise.race([
			once(this.#file, 'open'),
			once(this.#file, 'error').then(([error]) => {
				throw error as Error;
			}),
		]);
	}

	/** The first write error, if the disk refused: recording stops, the node goes on. */
	get error(): Error | undefined {
		return this.#error;
	}

	get queuedBytes(): number {
		return this.#queuedBytes;
	}

	/** Queue one line (with its newline). Never blocks; may drop a snapshot when the queue is full. */
	write(line: string, kind: LineKind): void {
		if (this.#closing || this.#error) {
			return;
		}

		if (this.#queuedBytes + line.length > this.#maxQueuedBytes) {
			if (kind === 'snapshot') {
				this.droppedSnapshots++;
				return;
			}

			this.#dropQueuedSnapshots(line.length);
			if (this.#queuedBytes + line.length > this.#hardMaxQueuedBytes) {
				this.droppedEvents++;
				return;
			}
		}

		this.#queue.push({line, kind});
		this.#queuedBytes += line.length;
		if (!this.#draining) {
			this.#draining = true;
			// Off the caller's turn: the tick that produced the line is not the one that writes it.
			setImmediate(() => {
				void this.#drain();
			});
		}
	}

	/** Make room for `needed` bytes by dropping queued snapshots, oldest first. */
	#dropQueuedSnapshots(needed: number): void {
		const kept: Queued[] = [];
		for (const item of this.#queue) {
			if (item.kind === 'snapshot' && this.#queuedBytes + needed > this.#maxQueuedBytes) {
				this.#queuedBytes -= item.line.length;
				this.droppedSnapshots++;
			} else {
				kept.push(item);
			}
		}

		this.#queue = kept;
	}

	async #drain(): Promise<void> {
		while (this.#queue.length > 0 && !this.#error) {
			// Hand over what is queued as one chunk: fewer writes, and the queue is empty again at once.
			const batch = this.#queue;
			this.#queue = [];
			let chunk = '';
			for (const item of batch) {
				chunk += item.line;
			}

			this.#queuedBytes -= chunk.length;
			this.written += batch.length;
			this.writtenBytes += Buffer.byteLength(chunk);
			if (!this.#out.write(chunk)) {
				// The disk is behind: wait here (the node's ticks go on); new lines queue meanwhile.
				// eslint-disable-next-line no-await-in-loop -- one write at a time is what draining is.
				await drainedOrClosed(this.#out);
			}
		}

		this.#draining = false;
	}

	/** Write `lastLine` after everything queued, then close the file. */
	async close(lastLine: string): Promise<void> {
		if (this.#closing) {
			return;
		}

		clearInterval(this.#flushTimer);
		while (this.#draining && !this.#error) {
			// eslint-disable-next-line no-await-in-loop -- polling the drain that runs already.
			await new Promise((resolve) => {
				setTimeout(resolve, 5);
			});
		}

		if (this.#queue.length > 0) {
			await this.#drain();
		}

		this.#closing = true;
		if (this.#error) {
			this.#file.destroy();
			return;
		}

		this.written++;
		this.writtenBytes += Buffer.byteLength(lastLine);
		const finished = once(this.#file, 'close').catch(() => undefined);
		this.#out.end(lastLine);
		await finished;
	}

	#fail(error: Error): void {
		this.#error ??= error;
		this.#queue = [];
		this.#queuedBytes = 0;
	}
}

/**
Resolve when `stream` drains, closes or fails, and leave no listener behind: a recorder waits here
at every slow write for hours.
*/
async function drainedOrClosed(stream: Writable): Promise<void> {
	await new Promise<void>((resolve) => {
		const done = () => {
			stream.off('drain', done);
			stream.off('close', done);
			stream.off('error', done);
			resolve();
		};

		stream.on('drain', done);
		stream.on('close', done);
		stream.on('error', done);
	});
}
