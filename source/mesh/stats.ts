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

/** How late the latest ticks ran, summarised as p50, p99 and max. */
export class LatenessWindow {
	readonly #samples: number[] = [];
	readonly #sizeTicks: number;

	constructor(sizeTicks = LATENESS_WINDOW_TICKS) {
		this.#sizeTicks = sizeTicks;
	}

	/** One listener at most (the metrics histogram): a field check per tick costs nothing when unset. */
	#observer: ((lateMs: number) => void) | undefined;

	record(lateMs: number): void {
		if (this.#samples.length >= this.#sizeTicks) {
			this.#samples.shift();
		}

		const late = Math.max(0, lateMs);
		this.#samples.push(late);
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
		if (this.#samples.length === 0) {
			return {p50: 0, p99: 0, max: 0};
		}

		const sorted = [...this.#samples].sort((a, b) => a - b);
		const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!, 1);
		return {p50: at(0.5), p99: at(0.99), max: round(sorted.at(-1)!, 1)};
	}
}

export function round(value: number, digits: number): number {
	const scale = 10 ** digits;
	return Math.round(value * scale) / scale;
}
