/**
What the network layer refused, counted exactly and reported at a bounded rate: a flood of refusals
(thousands of connections, a PING storm) must not become a flood of events in the operator's log.
*/

/** Counts by reason; `report` says whether an event is due now for that key. */
export class RefusalTally<Reason extends string> {
	readonly counts: Partial<Record<Reason, number>> = {};
	readonly #intervalMs: number;
	/** Per event key: when its last event went out, and how many were refused since. */
	readonly #lastEventMs = new Map<string, number>();
	readonly #sinceEvent = new Map<string, number>();
	/** Keys are bounded: reasons are few, endpoints are our own peers'; this caps them anyway. */
	readonly #maxKeys: number;

	constructor(intervalMs: number, maxKeys = 4096) {
		this.#intervalMs = intervalMs;
		this.#maxKeys = maxKeys;
	}

	/**
	Count one refusal. Returns how many refusals under `key` (default: the reason) the event now due
	stands for, or 0 when the last event for that key was less than the interval ago.
	*/
	count(reason: Reason, nowMs: number, key: string = reason): number {
		this.counts[reason] = (this.counts[reason] ?? 0) + 1;
		const pending = (this.#sinceEvent.get(key) ?? 0) + 1;
		const lastMs = this.#lastEventMs.get(key);
		if (lastMs !== undefined && nowMs - lastMs < this.#intervalMs) {
			this.#sinceEvent.set(key, pending);
			return 0;
		}

		if (lastMs === undefined && this.#lastEventMs.size >= this.#maxKeys) {
			this.#lastEventMs.clear();
			this.#sinceEvent.clear();
		}

		this.#lastEventMs.set(key, nowMs);
		this.#sinceEvent.set(key, 0);
		return pending;
	}

	/** The counts, a copy. */
	snapshot(): Partial<Record<Reason, number>> {
		return {...this.counts};
	}
}
