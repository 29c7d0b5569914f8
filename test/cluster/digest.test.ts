import fc from 'fast-check';
import {describe, expect, test} from 'vitest';
import {MemberListDigest, memberListDigest} from '../../source/cluster/digest.js';
import type {Member} from '../../source/cluster/protocol.js';

const memberArbitrary: fc.Arbitrary<Member> = fc.record({
	id: fc.string({minLength: 1, maxLength: 8}),
	endpoint: fc.integer({min: 1, max: 65_535}).map((port) => `tcp://10.0.0.1:${port}`),
	control: fc.option(fc.integer({min: 1, max: 65_535}).map((port) => `tcp://10.0.0.1:${port}`), {nil: undefined}),
	incarnation: fc.nat(),
	state: fc.constantFrom('alive', 'suspect', 'dead'),
	legacy: fc.boolean(),
	changedAtMs: fc.nat(),
}).map(({control, ...member}) => (control === undefined ? member : {...member, control}));

describe('memberListDigest', () => {
	test('is the same in any order, so two nodes that see the mesh alike agree', () => {
		fc.assert(fc.property(fc.array(memberArbitrary, {maxLength: 20}), fc.func(fc.integer()), (members, key) => {
			const shuffled = members.map((member, index) => ({member, rank: key(index)})).sort((a, b) => a.rank - b.rank).map(({member}) => member);
			expect(memberListDigest(shuffled)).toBe(memberListDigest(members));
		}));
	});

	test('changes with any field a merge reads, and not with changedAtMs', () => {
		const base: Member = {id: 'a', endpoint: 'tcp://10.0.0.1:5555', control: 'tcp://10.0.0.1:5556', incarnation: 7, state: 'alive', legacy: false, changedAtMs: 1};
		const other: Member = {id: 'b', endpoint: 'tcp://10.0.0.2:5555', incarnation: 3, state: 'alive', legacy: true, changedAtMs: 1};
		const digest = memberListDigest([base, other]);
		for (const changed of [
			{...base, id: 'c'},
			{...base, endpoint: 'tcp://10.0.0.1:5557'},
			{...base, control: 'tcp://10.0.0.1:5558'},
			{...base, incarnation: 8},
			{...base, state: 'suspect' as const},
			{...base, legacy: true},
			{...base, observer: true as const},
		]) {
			expect(memberListDigest([changed, other]), JSON.stringify(changed)).not.toBe(digest);
		}

		const {control: _, ...withoutControl} = base;
		expect(memberListDigest([withoutControl, other])).not.toBe(digest);
		expect(memberListDigest([other])).not.toBe(digest);
		expect(memberListDigest([{...base, changedAtMs: 99}, other])).toBe(digest);
	});

	test('MemberListDigest: the same digest for the same entries, or equal ones; another when one changes', () => {
		const a: Member = {id: 'a', endpoint: 'tcp://10.0.0.1:5555', incarnation: 1, state: 'alive', legacy: true, changedAtMs: 1};
		const digests = new MemberListDigest();
		const first = digests.of([a]);
		expect(digests.of([a])).toBe(first);
		expect(digests.of([{...a}])).toBe(first);
		expect(digests.of([{...a, state: 'dead'}])).not.toBe(first);
	});
});
