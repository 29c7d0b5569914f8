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
How late the latest ticks ran, summarised as p50, p99 and max. A ring of doubles; a summary selects
its three order statistics in a scratch copy (quickselect, no allocation). Sorting a copied number[]
with a comparator boxed a number per comparison, 15 KiB a second for one snapshot a second; sorting
the typed array natively took 6–8 µs for 128 samples, and a snapshot of every node of a 1,000-node
mesh in one process spent half its time there (bench/optimizations.md). Selection takes about half.
*/
export class LatenessWindow {
	readonly #samples: Float64Array;
	readonly #scratch: Float64Array;
	#count = 0;
	#next = 0;

	constructor(sizeTicks = LATENESS_WINDOW_TICKS) {
		this.#samples = new Float64Array(sizeTicks);
		this.#scratch = new Float64Array(sizeTicks);
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
		const scratch = this.#scratch;
		const samples = this.#samples;
		let max = samples[0]!;
		for (let index = 0; index < count; index++) {
			const sample = samples[index]!;
			scratch[index] = sample;
			if (sample > max) {
				max = sample;
			}
		}

		// The value at rank ⌊q·count⌋ of the sorted window, as a sort would give it.
		const at = (q: number) => round(selectRank(scratch, count, Math.min(count - 1, Math.floor(q * count))), 1);
		return {p50: at(0.5), p99: at(0.99), max: round(max, 1)};
	}
}

/**
The value of rank `rank` (0-based) among `values[0..count)`, as it would stand in their sorted order:
Hoare's selection, which reorders those values in place. Every value is a finite number here.
*/
function selectRank(values: Float64Array, count: number, rank: number): number {
	let low = 0;
	let high = count - 1;
	while (low < high) {
		const pivot = values[(low + high) >> 1]!;
		let left = low;
		let right = high;
		while (left <= right) {
			while (values[left]! < pivot) {
				left++;
			}

			while (values[right]! > pivot) {
				right--;
			}

			if (left <= right) {
				const swap = values[left]!;
				values[left] = values[right]!;
				values[right] = swap;
				left++;
				right--;
			}
		}

		if (rank <= right) {
			high = right;
		} else if (rank >= left) {
			low = left;
		} else {
			return values[rank]!;
		}
	}

	return values[rank]!;
}

export function round(value: number, digits: number): number {
	const scale = 10 ** digits;
	return Math.round(value * scale) / scale;
}
