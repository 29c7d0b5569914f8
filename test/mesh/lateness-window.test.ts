import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {LatenessWindow, round} from '../../source/mesh/stats.js';

/** The summary as a reader means it: the last `size` samples (negative ones as 0), sorted, read at p50, p99 and the top. */
function reference(samples: number[], size: number): {p50: number; p99: number; max: number} {
	const sorted = samples.slice(-size).map((sample) => Math.max(0, sample)).sort((a, b) => a - b);
	const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!, 1);
	return {p50: at(0.5), p99: at(0.99), max: round(sorted.at(-1)!, 1)};
}

describe('LatenessWindow', () => {
	it('summarises the latest window of samples, before and after it wraps', () => {
		fc.assert(fc.property(
			fc.integer({min: 1, max: 16}),
			fc.array(fc.double({min: -50, max: 500, noNaN: true}), {minLength: 1, maxLength: 60}),
			(size, samples) => {
				const window = new LatenessWindow(size);
				for (const [index, sample] of samples.entries()) {
					window.record(sample);
					expect(window.summary()).toEqual(reference(samples.slice(0, index + 1), size));
				}
			},
		));
	});

	it('reads the same order statistics as a sort, over many ties and full windows', () => {
		fc.assert(fc.property(
			fc.integer({min: 1, max: 200}),
			// Few distinct values: ties everywhere, where a selection's partitioning is easiest to get wrong.
			fc.array(fc.oneof(fc.integer({min: 0, max: 4}), fc.double({min: 0, max: 200, noNaN: true})), {minLength: 1, maxLength: 400}),
			(size, samples) => {
				const window = new LatenessWindow(size);
				for (const sample of samples) {
					window.record(sample);
				}

				expect(window.summary()).toEqual(reference(samples, size));
				// A second summary reads the same: the selection reorders only its scratch copy.
				expect(window.summary()).toEqual(reference(samples, size));
			},
		));
	});

	it('reads zeros while empty', () => {
		expect(new LatenessWindow().summary()).toEqual({p50: 0, p99: 0, max: 0});
	});
});
