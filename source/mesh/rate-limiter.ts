/**
Per-peer rate limit: a token bucket per connection. A peer may send ten times the rate it announces
(`hz`), or a default rate when it announces none, with a burst of one second's worth. Pure: the
caller passes the monotonic time in milliseconds.
*/

export type RateLimiterOptions = {
	/** How many times its announced rate a peer may send. @default 10 */
	factor: number;
	/** Messages per second for a peer that announces no rate. @default 100 */
	defaultRatePerS: number;
	/** No announced rate lifts the limit above this (or above the default rate, if that is higher). @default 10_000 */
	maxRatePerS: number;
	/** Buckets kept at most; the least recently used goes first. @default 4096 */
	maxKeys: number;
};

export const DEFAULT_RATE_LIMITS: RateLimiterOptions = {
	factor: 10,
	defaultRatePerS: 100,
	maxRatePerS: 10_000,
	maxKeys: 4096,
};

type Bucket = {tokens: number; ratePerS: number; lastMs: number};

export class RateLimiter {
	readonly #options: RateLimiterOptions;
	readonly #buckets = new Map<string, Bucket>();

	constructor(options: Partial<RateLimiterOptions> = {}) {
		this.#options = {...DEFAULT_RATE_LIMITS, ...options};
	}

	get size(): number {
		return this.#buckets.size;
	}

	/** The rate a peer that announces `announcedHz` may send at, in messages per second. */
	ratePerS(announcedHz: number | undefined): number {
		const {factor, defaultRatePerS, maxRatePerS} = this.#options;
		if (announcedHz === undefined || !Number.isFinite(announcedHz) || announcedHz <= 0) {
			return defaultRatePerS;
		}

		// The cap bounds what a peer can grant itself by announcing; the default is the operator's.
		return Math.min(announcedHz * factor, Math.max(maxRatePerS, defaultRatePerS));
	}

	/** Take one message from `key`'s allowance; false when it has none left (drop the message). */
	allow(key: string, announcedHz: number | undefined, nowMs: number): boolean {
		const ratePerS = this.ratePerS(announcedHz);
		let bucket = this.#buckets.get(key);
		if (bucket === undefined) {
			if (this.#buckets.size >= this.#options.maxKeys) {
				this.#buckets.delete(this.#buckets.keys().next().value!);
			}

			bucket = {tokens: ratePerS, ratePerS, lastMs: nowMs};
		} else {
			// Refill at the rate the peer announced before; a new announcement applies from now on.
			const elapsedS = Math.max(0, nowMs - bucket.lastMs) / 1000;
			bucket.tokens = Math.min(ratePerS, bucket.tokens + elapsedS * bucket.ratePerS);
			bucket.ratePerS = ratePerS;
			bucket.lastMs = nowMs;
			// Least recently used last, so the first key is the one to drop when full.
			this.#buckets.delete(key);
		}

		this.#buckets.set(key, bucket);
		if (bucket.tokens < 1) {
			return false;
		}

		bucket.tokens -= 1;
		return true;
	}

	/** Forget buckets that have refilled completely: they hold nothing a new bucket would not. */
	prune(nowMs: number): void {
		for (const [key, bucket] of this.#buckets) {
			if (bucket.tokens + ((nowMs - bucket.lastMs) / 1000) * bucket.ratePerS >= bucket.ratePerS) {
				this.#buckets.delete(key);
			}
		}
	}

	forget(key: string): void {
		this.#buckets.delete(key);
	}
}
