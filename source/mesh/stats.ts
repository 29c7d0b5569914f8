/**
The node's statistics: counters of what came in and what became of it, and the window of recent
tick lateness. The node counts; its snapshot reads them.
*/

import type {RejectReason} from './model/wire.js';
import type {NodeStats} from './snapshot.js';

/** Plain fields, incremented on the hot path (one per message) without a call. */
export class NodeCounters {
	received = 0;
	admitted = 0;
	readonly rejected: Partial<Record<RejectReason, number>> = {};
	/** Dropped by an inbound fault, or held by one past the TTL. */
	faultDropped = 0;
	faultDuplicated = 0;
	outboundFaultDropped = 0;

	reject(reason: RejectReason): void {
		this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
	}
}

export const LATENESS_WINDOW_TICKS = 128;

/**
How late the latest ticks ran, summarised as p50, p99 and max. A ring of doubles, sorted in a
typed array for a summary: sorting a copied number[] with a comparator boxed a number per
comparison, 15 KiB a second for one snapshot a second (bench/optimizations.md).
*/
export class LatenessWindow {
	readonly #samples: Float64Array;
	readonly #sorted: Float64Array;
	#count = 0;
	#next = 0;

	constructor(sizeTicks = LATENESS_WINDOW_TICKS) {
		this.#samples = new Float64Array(sizeTicks);
		this.#sorted = new Float64Array(sizeTicks);
	}

	/** One listener at most (the metrics histogram): a field check per tick costs nothing when unset. */
	#observer: ((lateMs: number) => void) | undefined;

	record(lateMs: number): void {
		const late = Math.max(0, lateMs);
		this.#samples[this.#next] = late;
		this.#next = (this.#next + 1) % this.#samples.length;
		this.#count = Math.min(this.#count + 1, this.#samples.length);
		this.#observer?.(late);
	}

	/** Hear every recorded lateness (ms), e.g. for a cumulative histogram; returns the function that stops. */
	observe(observer: (lateMs: number) => void): () => void {
		this.#observer = observer;
		return () => {
			if (this.#observer === observer) {
				this.#observer = undefined;
			}
		};
	}

	summary(): NodeStats['tickLateMs'] {
		const count = this.#count;
		if (count === 0) {
			return {p50: 0, p99: 0, max: 0};
		}

		// Until the ring is full its samples are its first `count` slots; order does not matter here.
		const sorted = this.#sorted.subarray(0, count);
		sorted.set(this.#samples.subarray(0, count));
		sorted.sort();
		const at = (q: number) => round(sorted[Math.min(count - 1, Math.floor(q * count))]!, 1);
		return {p50: at(0.5), p99: at(0.99), max: round(sorted[count - 1]!, 1)};
	}
}

export function round(value: number, digits: number): number {
	const scale = 10 ** digits;
	return Math.round(value * scale) / scale;
}
