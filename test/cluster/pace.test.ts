import {describe, expect, test} from 'vitest';
import {Pace, PULL_SLOWDOWN} from '../../source/cluster/membership/pace.js';

describe('an interval that stretches while nothing changes', () => {
	test('doubles with each quiet round up to its slowest, and a change brings it back', () => {
		const pace = new Pace(2000, PULL_SLOWDOWN);
		expect(pace.everyMs).toBe(2000);
		const waits: number[] = [];
		for (let round = 0; round < 6; round++) {
			pace.quiet();
			waits.push(pace.everyMs);
		}

		expect(waits).toEqual([4000, 8000, 16_000, 16_000, 16_000, 16_000]);
		// Back to the interval: the caller must move a timer set for later.
		expect(pace.changed()).toBe(true);
		expect(pace.everyMs).toBe(2000);
		// Already at the interval: nothing to move.
		expect(pace.changed()).toBe(false);
		expect(pace.everyMs).toBe(2000);
	});

	test('a slowdown of 2 stops at twice the interval; of 1, never stretches', () => {
		const step = new Pace(1000, 2);
		step.quiet();
		step.quiet();
		expect(step.everyMs).toBe(2000);
		const fixed = new Pace(1000, 1);
		fixed.quiet();
		expect(fixed.everyMs).toBe(1000);
		expect(fixed.changed()).toBe(false);
	});
});
