/**
Paces requests to each control endpoint below the rate a node grants one client (the control
server's `clientRatePerS`, 50 a second with a burst of as many): a partition of a large mesh sends
a member one `link` fault per peer it must not hear, and past the rate the member would refuse
them (`rate-limited`). The generic cell rate algorithm: one number per endpoint, the time the
next request would be due at the steady rate.
*/

import {performance} from 'node:perf_hooks';

export type PacerOptions = {
	/**
	Requests a second to one endpoint.
	@default 40
	*/
	ratePerS?: number;
	/**
	Requests sent at once before the pace applies.
	@default 40
	*/
	burst?: number;
	/** Monotonic clock (performance.now); tests pass their own. */
	now?: () => number;
};

/** Endpoints remembered at most; idle ones are forgotten first (they are due already). */
const MAX_ENDPOINTS = 4096;

export class ControlPacer {
	readonly #intervalMs: number;
	readonly #toleranceMs: number;
	readonly #now: () => number;
	/** Endpoint → theoretical arrival time of its next request (monotonic ms). */
	readonly #due = new Map<string, number>();

	constructor(options: PacerOptions = {}) {
		this.#intervalMs = 1000 / (options.ratePerS ?? 40);
		this.#toleranceMs = ((options.burst ?? 40) - 1) * this.#intervalMs;
		this.#now = options.now ?? (() => performance.now());
	}

	/** Milliseconds to wait before a request to `endpoint` may go; the slot is taken. */
	reserve(endpoint: string): number {
		const nowMs = this.#now();
		if (this.#due.size >= MAX_ENDPOINTS && !this.#due.has(endpoint)) {
			for (const [known, dueMs] of this.#due) {
				if (dueMs <= nowMs) {
					this.#due.delete(known);
				}
			}
		}

		const dueMs = Math.max(this.#due.get(endpoint) ?? nowMs, nowMs);
		this.#due.set(endpoint, dueMs + this.#intervalMs);
		return Math.max(0, dueMs - this.#toleranceMs - nowMs);
	}

	/** Wait for a slot to `endpoint`. */
	async take(endpoint: string): Promise<void> {
		const waitMs = this.reserve(endpoint);
		if (waitMs > 0) {
			await new Promise((resolve) => {
				setTimeout(resolve, waitMs);
			});
		}
	}
}
