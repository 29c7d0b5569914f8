import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {exceedsForwardJump, LamportClock, observe, tick} from '../../../source/mesh/model/lamport.js';

describe('lamport', () => {
	it('ticks by one', () => {
		expect(tick(41)).toBe(42);
	});

	it('observing takes the max and adds one', () => {
		expect(observe(10, 64)).toBe(65);
		expect(observe(64, 10)).toBe(65);
		expect(observe(7, 7)).toBe(8);
	});

	it('bounds forward jumps only, never a peer that is behind', () => {
		expect(exceedsForwardJump(100, 100 + 1_000_000, 1_000_000)).toBe(false);
		expect(exceedsForwardJump(100, 100 + 1_000_001, 1_000_000)).toBe(true);
		expect(exceedsForwardJump(5_000_000, 0, 1_000_000)).toBe(false);
	});

	it('never goes backwards, whatever it observes and in whatever order', () => {
		fc.assert(
			fc.property(
				fc.array(fc.oneof(fc.constant<'tick'>('tick'), fc.nat({max: Number.MAX_SAFE_INTEGER - 10})), {maxLength: 200}),
				(operations) => {
					const clock = new LamportClock();
					let previous = clock.time;
					for (const operation of operations) {
						const next = operation === 'tick' ? clock.tick() : clock.observe(operation);
						expect(next).toBeGreaterThan(previous);
						if (operation !== 'tick') {
							expect(next).toBeGreaterThan(operation);
						}

						previous = next;
					}
				},
			),
		);
	});
});
