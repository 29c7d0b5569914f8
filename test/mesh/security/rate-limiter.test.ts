import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {RateLimiter} from '../../../source/mesh/security/rate-limiter.js';

/** The limiter as it was specified first: a Map kept in order of use by deleting and re-inserting. */
class ReferenceLimiter {
	readonly buckets = new Map<string, {tokens: number; ratePerS: number; lastMs: number}>();
	constructor(readonly limiter: RateLimiter, readonly maxKeys: number) {}

	allow(key: string, hz: number | undefined, nowMs: number): boolean {
		const ratePerS = this.limiter.ratePerS(hz);
		let bucket = this.buckets.get(key);
		if (bucket === undefined) {
			if (this.buckets.size >= this.maxKeys) {
				this.buckets.delete(this.buckets.keys().next().value!);
			}

			bucket = {tokens: ratePerS, ratePerS, lastMs: nowMs};
		} else {
			bucket.tokens = Math.min(ratePerS, bucket.tokens + (Math.max(0, nowMs - bucket.lastMs) / 1000) * bucket.ratePerS);
			bucket.ratePerS = ratePerS;
			bucket.lastMs = nowMs;
			this.buckets.delete(key);
		}

		this.buckets.set(key, bucket);
		if (bucket.tokens < 1) {
			return false;
		}

		bucket.tokens -= 1;
		return true;
	}

	prune(nowMs: number): void {
		for (const [key, bucket] of this.buckets) {
			if (bucket.tokens + ((nowMs - bucket.lastMs) / 1000) * bucket.ratePerS >= bucket.ratePerS) {
				this.buckets.delete(key);
			}
		}
	}
}

describe('rate limiter bookkeeping', () => {
	it('drops the least recently used peer when full, not the first one seen', () => {
		const limiter = new RateLimiter({maxKeys: 2, defaultRatePerS: 2});
		// A spends its burst, B arrives, A is used again: B is now the least recently used.
		expect([limiter.allow('a', undefined, 0), limiter.allow('a', undefined, 0)]).toEqual([true, true]);
		limiter.allow('b', undefined, 0);
		expect(limiter.allow('a', undefined, 0)).toBe(false);
		limiter.allow('c', undefined, 0);
		expect(limiter.size).toBe(2);
		// A kept its empty bucket; B was dropped and starts afresh.
		expect(limiter.allow('a', undefined, 0)).toBe(false);
		expect(limiter.allow('b', undefined, 0)).toBe(true);
	});

	it('decides every message as the Map-ordered limiter did, through evictions, prunes and forgets', () => {
		const step = fc.oneof(
			fc.record({kind: fc.constant('allow' as const), key: fc.integer({min: 0, max: 7}), hz: fc.option(fc.integer({min: 1, max: 20}), {nil: undefined}), advanceMs: fc.integer({min: 0, max: 400})}),
			fc.record({kind: fc.constant('prune' as const)}),
		);
		fc.assert(
			fc.property(fc.array(step, {maxLength: 300}), fc.integer({min: 1, max: 6}), (steps, maxKeys) => {
				const limiter = new RateLimiter({maxKeys, defaultRatePerS: 3, factor: 1});
				const reference = new ReferenceLimiter(limiter, maxKeys);
				let nowMs = 0;
				for (const item of steps) {
					if (item.kind === 'prune') {
						limiter.prune(nowMs);
						reference.prune(nowMs);
					} else {
						nowMs += item.advanceMs;
						const key = `tcp://127.0.0.1:${item.key}`;
						expect(limiter.allow(key, item.hz, nowMs)).toBe(reference.allow(key, item.hz, nowMs));
					}

					expect(limiter.size).toBe(reference.buckets.size);
				}
			}),
		);
	});

	it('forgets a peer, and keeps working when every bucket is gone', () => {
		const limiter = new RateLimiter({maxKeys: 2, defaultRatePerS: 1});
		limiter.allow('a', undefined, 0);
		limiter.allow('b', undefined, 0);
		limiter.forget('a');
		limiter.forget('b');
		limiter.forget('never-seen');
		expect(limiter.size).toBe(0);
		expect([limiter.allow('c', undefined, 0), limiter.allow('d', undefined, 0), limiter.allow('e', undefined, 0)]).toEqual([true, true, true]);
		expect(limiter.size).toBe(2);
	});
});
