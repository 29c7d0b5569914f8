/**
An interval that stretches while nothing changes: each quiet round doubles the wait, up to
`maxSlowdown` times the interval, and any sign of change brings it back to the interval.

Membership paces its anti-entropy pulls with it (membership.ts), up to 8 times the gossip interval.
A settled 20-node mesh spent most of what gossip cost on pulls that said "nothing new", each a
request and a reply in code too cold to be fast (about half a millisecond of CPU a pair).
memberlist's push/pull runs every 30 s for that reason; here a settled mesh still pulls every 16 s
at the default interval, and a change quickens every node it meets (its own list changes, or a
pull shows that two lists differ).
*/

/** Anti-entropy pulls in a settled mesh: at most this many times less often than the gossip interval. */
export const PULL_SLOWDOWN = 8;

export class Pace {
	readonly #intervalMs: number;
	readonly #maxMs: number;
	#everyMs: number;

	constructor(intervalMs: number, maxSlowdown: number) {
		this.#intervalMs = intervalMs;
		this.#maxMs = intervalMs * maxSlowdown;
		this.#everyMs = intervalMs;
	}

	/** The wait before the next round. */
	get everyMs(): number {
		return this.#everyMs;
	}

	/** A round found nothing new: wait twice as long next time, up to the slowest. */
	quiet(): void {
		this.#everyMs = Math.min(this.#everyMs * 2, this.#maxMs);
	}

	/** Something changed: back to the interval. True when that shortened the wait (a timer must move). */
	changed(): boolean {
		const shortened = this.#everyMs > this.#intervalMs;
		this.#everyMs = this.#intervalMs;
		return shortened;
	}
}
