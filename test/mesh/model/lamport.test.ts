import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {
	exceedsForwardJump,
	LamportClock,
	LeapWitnesses,
	MAX_LAMPORT_TIME,
	MAX_UNWITNESSED_STEP,
	observe,
	tick,
} from '../../../source/mesh/model/lamport.js';

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

	describe('leap witnesses', () => {
		const witnesses = () => new LeapWitnesses({maxJump: 1_000_000, maxAgeMs: 5000, maxSources: 3});

		it('calls a leap what is more than the unwitnessed step ahead, or past 2^52 wherever we are', () => {
			const leaps = witnesses();
			expect(leaps.step).toBe(MAX_UNWITNESSED_STEP);
			expect(leaps.isLeap(100, 100 + MAX_UNWITNESSED_STEP)).toBe(false);
			expect(leaps.isLeap(100, 101 + MAX_UNWITNESSED_STEP)).toBe(true);
			expect(leaps.isLeap(5_000_000, 0)).toBe(false);
			expect(leaps.isLeap(MAX_LAMPORT_TIME, MAX_LAMPORT_TIME + 1)).toBe(true);
			// A small jump bound is the step too.
			expect(new LeapWitnesses({maxJump: 100, maxAgeMs: 5000, maxSources: 3}).step).toBe(100);
		});

		it('needs another connection under another id, and remembers at most maxSources connections', () => {
			const leaps = witnesses();
			expect(leaps.refusesLeap('c1', 'a', 5_000_000, 0, 0, false)).toBe(true);
			expect(leaps.refusesLeap('c1', 'b', 5_000_000, 0, 0, false)).toBe(true);
			expect(leaps.refusesLeap('c2', 'b', 5_000_000, 0, 0, false)).toBe(true);
			expect(leaps.refusesLeap('c3', 'c', 5_000_000, 0, 0, false)).toBe(false);
			for (const connection of ['c4', 'c5', 'c6']) {
				leaps.refusesLeap(connection, connection, 9_000_000, 0, 1, false);
			}

			expect(leaps.size).toBe(3);
			leaps.sweep(6000);
			expect(leaps.size).toBe(0);
		});
	});
});
