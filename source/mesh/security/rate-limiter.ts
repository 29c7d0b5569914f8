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

/**
A bucket is also a link in the list that orders the buckets by last use: a message moves its
bucket to the newest end with a few pointer writes, where re-inserting it into the Map (what keeps a
Map in use order) costs two more hash operations per message.
*/
type Bucket = {
	readonly key: string;
	tokens: number;
	ratePerS: number;
	lastMs: number;
	older: Bucket | undefined;
	newer: Bucket | undefined;
};

export class RateLimiter {
	readonly #options: RateLimiterOptions;
	readonly #buckets = new Map<string, Bucket>();
	/** Least recently used: the one to drop when full. */
	#oldest: Bucket | undefined;
	#newest: Bucket | undefined;

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
			if (this.#oldest !== undefined && this.#buckets.size >= this.#options.maxKeys) {
				this.#remove(this.#oldest);
			}

			bucket = {key, tokens: ratePerS, ratePerS, lastMs: nowMs, older: undefined, newer: undefined};
			this.#buckets.set(key, bucket);
			this.#append(bucket);
		} else {
			// Refill at the rate the peer announced before; a new announcement applies from now on.
			const elapsedS = Math.max(0, nowMs - bucket.lastMs) / 1000;
			bucket.tokens = Math.min(ratePerS, bucket.tokens + elapsedS * bucket.ratePerS);
			bucket.ratePerS = ratePerS;
			bucket.lastMs = nowMs;
			if (bucket !== this.#newest) {
				this.#unlink(bucket);
				this.#append(bucket);
			}
		}

		if (bucket.tokens < 1) {
			return false;
		}

		bucket.tokens -= 1;
		return true;
	}

	/** Forget buckets that have refilled completely: they hold nothing a new bucket would not. */
	prune(nowMs: number): void {
		for (const bucket of this.#buckets.values()) {
			if (bucket.tokens + ((nowMs - bucket.lastMs) / 1000) * bucket.ratePerS >= bucket.ratePerS) {
				this.#remove(bucket);
			}
		}
	}

	forget(key: string): void {
		const bucket = this.#buckets.get(key);
		if (bucket !== undefined) {
			this.#remove(bucket);
		}
	}

	#remove(bucket: Bucket): void {
		this.#buckets.delete(bucket.key);
		this.#unlink(bucket);
	}

	#append(bucket: Bucket): void {
		bucket.older = this.#newest;
		bucket.newer = undefined;
		if (this.#newest === undefined) {
			this.#oldest = bucket;
		} else {
			this.#newest.newer = bucket;
		}

		this.#newest = bucket;
	}

	#unlink(bucket: Bucket): void {
		if (bucket.older === undefined) {
			this.#oldest = bucket.newer;
		} else {
			bucket.older.newer = bucket.newer;
		}

		if (bucket.newer === undefined) {
			this.#newest = bucket.older;
		} else {
			bucket.newer.older = bucket.older;
		}

		bucket.older = undefined;
		bucket.newer = undefined;
	}
}
