// Partitions by shape, as properties over any set of member ids.
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {PartitionError, partitionPlan, type PartitionPlan} from '../../source/cluster/partition-shapes.js';

/** Distinct ids, as members have: 2 to 40 of them. */
const memberIds = (min = 2) => fc.uniqueArray(fc.stringMatching(/^[a-z][a-z\d-]{0,11}$/), {minLength: min, maxLength: 40});

/** Whether `member` hears `peer` under the plan: not blackholed (a member always hears itself). */
function hears(plan: PartitionPlan, member: string, peer: string): boolean {
	return member === peer || !plan.blackholes.get(member)!.has(peer);
}

function heardBy(plan: PartitionPlan, member: string, ids: readonly string[]): string[] {
	return ids.filter((peer) => hears(plan, member, peer)).sort();
}

describe('partition shapes', () => {
	it('halves: no link across the halves is open, every link inside a half is', () => {
		fc.assert(fc.property(memberIds(), (ids) => {
			const plan = partitionPlan(ids, 'halves');
			const [left, right] = plan.groups as [string[], string[]];
			expect([...left, ...right].sort()).toEqual([...ids].sort());
			expect(left.length - right.length).toBeGreaterThanOrEqual(0);
			expect(left.length - right.length).toBeLessThanOrEqual(1);
			for (const a of ids) {
				for (const b of ids) {
					const sameHalf = left.includes(a) === left.includes(b);
					expect(hears(plan, a, b)).toBe(sameHalf);
				}
			}
		}));
	});

	it('isolate: the selected member hears no one and no one hears it; the rest hear each other', () => {
		fc.assert(fc.property(memberIds(), fc.nat(), (ids, pick) => {
			const selected = ids[pick % ids.length]!;
			const plan = partitionPlan(ids, 'isolate', selected);
			for (const a of ids) {
				for (const b of ids) {
					const open = a === b || (a !== selected && b !== selected);
					expect(hears(plan, a, b)).toBe(open);
				}
			}
		}));
	});

	it('bridge: the bridge hears everyone and everyone hears it; the two sides do not hear each other', () => {
		fc.assert(fc.property(memberIds(3), fc.option(fc.nat()), (ids, pick) => {
			const selected = pick === null ? undefined : ids[pick % ids.length]!;
			const plan = partitionPlan(ids, 'bridge', selected);
			const bridge = plan.bridge!;
			if (selected !== undefined) {
				expect(bridge).toBe(selected);
			}

			expect(plan.blackholes.get(bridge)!.size).toBe(0);
			const [left, right] = (plan.groups as [string[], string[]]).map((group) => group.filter((id) => id !== bridge));
			expect(Math.abs(left!.length - right!.length)).toBeLessThanOrEqual(1);
			for (const a of ids) {
				expect(hears(plan, a, bridge)).toBe(true);
				for (const b of ids) {
					if (a !== bridge && b !== bridge) {
						expect(hears(plan, a, b)).toBe(left!.includes(a) === left!.includes(b));
					}
				}
			}
		}));
	});

	it('ring: every member hears a majority (itself included), and no two hear the same one', () => {
		fc.assert(fc.property(memberIds(3), (ids) => {
			const plan = partitionPlan(ids, 'ring');
			const views = ids.map((member) => heardBy(plan, member, ids));
			for (const [index, view] of views.entries()) {
				expect(view).toContain(ids[index]);
				expect(view.length).toBeGreaterThan(ids.length / 2);
			}

			expect(new Set(views.map((view) => view.join(','))).size).toBe(ids.length);
		}));
	});

	it('never blackholes a member from itself, and gives every member an entry', () => {
		fc.assert(fc.property(memberIds(3), fc.constantFrom('halves', 'isolate', 'bridge', 'ring' as const), (ids, shape) => {
			const plan = partitionPlan(ids, shape, ids[0]);
			expect([...plan.blackholes.keys()].sort()).toEqual([...ids].sort());
			for (const [member, peers] of plan.blackholes) {
				expect(peers.has(member)).toBe(false);
			}
		}));
	});

	it('is the same partition whatever the order of the ids', () => {
		const plan = partitionPlan(['m-3', 'm-1', 'm-4', 'm-2'], 'halves');
		expect(plan.groups).toEqual([['m-1', 'm-2'], ['m-3', 'm-4']]);
		expect([...plan.blackholes.get('m-1')!].sort()).toEqual(['m-3', 'm-4']);
	});

	it('refuses what cannot be made, in one line', () => {
		expect(() => partitionPlan(['a'], 'halves')).toThrow(PartitionError);
		expect(() => partitionPlan(['a', 'b'], 'isolate')).toThrow(/needs a member to isolate/);
		expect(() => partitionPlan(['a', 'b'], 'isolate', 'c')).toThrow(/c is not a member/);
		expect(() => partitionPlan(['a', 'b'], 'bridge')).toThrow(/at least three/);
	});
});
