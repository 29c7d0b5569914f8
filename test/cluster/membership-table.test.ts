/**
The member table's rules, with time as an argument: merge per id (incarnation, then state), death
by silence, redial with backoff, forgetting and tombstones, static members, bounds on hostile
gossip, and one dial per endpoint per backoff step.
*/

import fc from 'fast-check';
import {describe, expect, test} from 'vitest';
import {endpointRefusal} from '../../source/cluster/membership/endpoints.js';
import {MemberTable, type MemberTableOptions} from '../../source/cluster/membership/member-table.js';
import type {Member, MemberState} from '../../source/cluster/protocol.js';

const TTL_MS = 5000;
const RECONNECT_MS = 60_000;

function table(overrides: Partial<MemberTableOptions> = {}): MemberTable {
	return new MemberTable({selfId: 'self', selfEndpoint: 'tcp://10.0.0.1:5555', maxMembers: 100, ttlMs: TTL_MS, reconnectTimeoutMs: RECONNECT_MS, ...overrides});
}

function member(id: string, fields: Partial<Member> = {}): Member {
	return {id, endpoint: `tcp://10.0.0.${id.length + 1}:5555`, control: 'tcp://10.0.0.9:5556', incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0, ...fields};
}

describe('endpoints', () => {
	test.each([
		['tcp://10.0.0.1:5555', undefined],
		['tcp://[fd00::1]:5555', undefined],
		['tcp://chorus-0.chorus.default.svc:5555', undefined],
		['tcp://0.0.0.0:5555', 'not-unicast'],
		['tcp://224.0.0.1:5555', 'not-unicast'],
		['tcp://239.255.255.250:5555', 'not-unicast'],
		['tcp://255.255.255.255:5555', 'not-unicast'],
		['tcp://[::]:5555', 'not-unicast'],
		['tcp://[ff02::1]:5555', 'not-unicast'],
		['tcp://*:5555', 'bad-endpoint'],
		['tcp://10.0.0.1:0', 'bad-endpoint'],
		['tcp://10.0.0.1:70000', 'bad-endpoint'],
		['udp://10.0.0.1:5555', 'bad-endpoint'],
		['ipc:///tmp/x', 'bad-endpoint'],
		['tcp://10.0.0.1', 'bad-endpoint'],
		['tcp://a..b:1', 'bad-endpoint'],
		[`tcp://${'a'.repeat(400)}:1`, 'bad-endpoint'],
		[42, 'bad-endpoint'],
	])('%s: %s', (endpoint, refusal) => {
		expect(endpointRefusal(endpoint)).toBe(refusal);
	});
});

describe('merge rule', () => {
	const states: MemberState[] = ['alive', 'suspect', 'dead'];
	const rank = (state: MemberState) => states.indexOf(state);

	test('the highest incarnation wins, then the later state, whatever the order gossip arrives in', () => {
		fc.assert(fc.property(
			fc.array(fc.record({incarnation: fc.integer({min: 0, max: 5}), state: fc.constantFrom(...states)}), {minLength: 1, maxLength: 12}),
			(updates) => {
				const members = table();
				for (const update of updates) {
					members.merge([member('m', update)], 0);
				}

				let best = updates[0]!;
				for (const update of updates) {
					if (update.incarnation > best.incarnation || (update.incarnation === best.incarnation && rank(update.state) > rank(best.state))) {
						best = update;
					}
				}

				const got = members.get('m')!;
				expect({incarnation: got.incarnation, state: got.state}).toEqual(best);
			},
		));
	});

	test('merging is idempotent and ignores order: two tables fed the same news in different orders agree', () => {
		fc.assert(fc.property(
			fc.array(fc.record({id: fc.constantFrom('a', 'b', 'c'), incarnation: fc.integer({min: 0, max: 3}), state: fc.constantFrom(...states)}), {maxLength: 20}),
			fc.integer(),
			(updates, seed) => {
				const one = table();
				const two = table();
				for (const update of updates) {
					one.merge([member(update.id, update)], 0);
				}

				const shuffled = [...updates].sort((a, b) => ((JSON.stringify(a).length * seed) % 7) - ((JSON.stringify(b).length * seed) % 7));
				for (const update of [...shuffled, ...shuffled]) {
					two.merge([member(update.id, update)], 0);
				}

				const view = (members: MemberTable) => members.members().map(({id, incarnation, state}) => ({id, incarnation, state})).sort((a, b) => a.id.localeCompare(b.id));
				expect(view(two)).toEqual(view(one));
			},
		));
	});

	test('our own ears refute gossip: a member heard within its TTL stays alive when gossip says dead at the same incarnation', () => {
		const members = table();
		members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 7}, 1000);
		members.merge([member('m', {endpoint: 'tcp://10.0.0.2:5555', incarnation: 7, state: 'dead'})], 1100);
		expect(members.get('m')!.state).toBe('alive');
		// Gossip of a newer incarnation is believed, and so is dead news once we stopped hearing it.
		members.merge([member('m', {endpoint: 'tcp://10.0.0.2:5555', incarnation: 7, state: 'dead'})], 1000 + TTL_MS);
		expect(members.get('m')!.state).toBe('dead');
	});

	test('gossip about this node itself is ignored', () => {
		const members = table();
		members.merge([member('self', {state: 'dead', incarnation: 99})], 0);
		expect(members.size).toBe(0);
	});
});

describe('liveness', () => {
	test('alive, suspect after half the TTL of silence, dead after the TTL, forgotten after the reconnect timeout', () => {
		const members = table();
		const joined = members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1}, 0);
		expect(joined.map((event) => event.kind)).toEqual(['member-joined']);
		expect(members.sweep(TTL_MS / 2 + 1)).toEqual([]);
		expect(members.get('m')!.state).toBe('suspect');
		expect(members.sweep(TTL_MS).map((event) => event.kind)).toEqual(['member-dead']);
		expect(members.sweep(TTL_MS + RECONNECT_MS - 1)).toEqual([]);
		expect(members.sweep(TTL_MS + RECONNECT_MS).map((event) => event.kind)).toEqual(['member-forgotten']);
		expect(members.get('m')).toBeUndefined();
	});

	test('members() lists a record anew only when it changed: state, control, coupling; the same frozen entry otherwise', () => {
		const members = table();
		members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1}, 0);
		const [first] = members.members(100);
		expect(first).toMatchObject({id: 'm', state: 'alive', legacy: true, coupled: true});
		expect(Object.isFrozen(first)).toBe(true);
		expect(members.members(200)[0]).toBe(first);
		members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', control: 'tcp://10.0.0.2:5556', incarnation: 1}, 300);
		const [withControl] = members.members(300);
		expect(withControl).not.toBe(first);
		expect(withControl).toMatchObject({control: 'tcp://10.0.0.2:5556', legacy: false, coupled: true});
		members.sweep(300 + (TTL_MS / 2) + 1);
		expect(members.members(300 + (TTL_MS / 2) + 1)[0]).toMatchObject({state: 'suspect', coupled: true});
		// Past its TTL it is no longer coupled, before any sweep says dead.
		expect(members.members(300 + TTL_MS)[0]).toMatchObject({state: 'suspect', coupled: false});
		expect(members.members()[0]).not.toHaveProperty('coupled');
	});

	test('a forgotten member never comes back through gossip; it does when it speaks again with a new incarnation', () => {
		const members = table();
		members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1}, 0);
		members.sweep(TTL_MS);
		members.sweep(TTL_MS + RECONNECT_MS);
		const later = TTL_MS + RECONNECT_MS + 1;
		members.merge([member('m', {endpoint: 'tcp://10.0.0.2:5555', incarnation: 1, state: 'alive'})], later);
		expect(members.get('m')).toBeUndefined();
		members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1}, later);
		expect(members.get('m')).toBeUndefined();
		expect(members.refused().forgotten).toBe(2);
		members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 2}, later);
		expect(members.get('m')!.state).toBe('alive');
	});

	test('a dead member heard again at the same incarnation (a healed partition) is alive again', () => {
		const members = table();
		members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1}, 0);
		members.sweep(TTL_MS);
		expect(members.get('m')!.state).toBe('dead');
		const events = members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1}, TTL_MS + 2000);
		expect(events.map((event) => [event.kind, event.reason])).toEqual([['member-joined', 'alive again']]);
	});

	test('static members (--peer, legacy included) are never forgotten', () => {
		const members = table();
		members.pin('tcp://10.0.0.7:5555');
		members.heard({id: 'py', endpoint: 'tcp://10.0.0.7:5555', incarnation: 0}, 0);
		expect(members.get('py')).toMatchObject({legacy: true, static: true});
		members.sweep(TTL_MS);
		members.sweep(TTL_MS + RECONNECT_MS * 10);
		expect(members.get('py')!.state).toBe('dead');
		// And the plan never touches its link: the node keeps it.
		expect(members.plan(TTL_MS + RECONNECT_MS * 10)).toEqual({subscribe: [], unsubscribe: []});
	});

	test('a member learned from gossip and never heard is dead after its TTL', () => {
		const members = table();
		members.merge([member('ghost')], 0);
		expect(members.sweep(TTL_MS - 1)).toEqual([]);
		expect(members.get('ghost')!.state).toBe('alive');
		expect(members.sweep(TTL_MS).map((event) => [event.kind, event.reason])).toEqual([['member-dead', 'never heard in 5000 ms']]);
	});
});

describe('bounds', () => {
	test('10,000 fake members: at most maxMembers kept, the rest refused and counted', () => {
		const members = table({maxMembers: 50});
		const fakes = Array.from({length: 10_000}, (_, index) => member(`fake-${index}`, {endpoint: `tcp://10.9.${index >> 8}.${index & 255}:5555`}));
		members.merge(fakes, 0);
		expect(members.size).toBe(50);
		const refused = members.refused();
		expect(refused['too-many-members']).toBe(10_000 - 50);
		const plan = members.plan(0);
		expect(plan.subscribe).toHaveLength(50);
	});

	test('hostile entries are refused with a reason, never thrown', () => {
		const members = table();
		const hostile: unknown[] = [
			null, 42, 'x', [], {id: 'a'}, member('b', {endpoint: 'tcp://224.0.0.1:5555'}), member('c', {endpoint: 'tcp://0.0.0.0:1'}),
			member('d', {endpoint: 'ipc:///etc/passwd'}), member('\u001B[2J', {}), member('e', {incarnation: -1}), member('f', {incarnation: 1.5}),
			member('g', {state: 'zombie' as MemberState}), {...member('h'), incarnation: Number.POSITIVE_INFINITY}, member('i', {control: 'tcp://255.255.255.255:1'}),
		];
		expect(() => members.merge(hostile, 0)).not.toThrow();
		expect(() => members.merge({not: 'a list'}, 0)).not.toThrow();
		expect(members.members().map((entry) => entry.id)).toEqual(['i']);
		// A bad control endpoint is dropped, the member kept as data-only.
		expect(members.get('i')).toMatchObject({legacy: true});
		expect(members.get('i')!.control).toBeUndefined();
		expect(members.refused()).toMatchObject({'bad-member': 11, 'not-unicast': 2, 'bad-endpoint': 1});
	});

	test('with CURVE, only endpoints the allow file lists', () => {
		const members = table({endpointAllowed: (endpoint) => endpoint === 'tcp://10.0.0.2:5555'});
		members.merge([member('a', {endpoint: 'tcp://10.0.0.2:5555'}), member('b', {endpoint: 'tcp://10.0.0.3:5555'})], 0);
		expect(members.members().map((entry) => entry.id)).toEqual(['a']);
		expect(members.refused()['not-allowed']).toBe(1);
	});

	test('a join past the bound is refused with too-many-members', () => {
		const members = table({maxMembers: 1});
		expect(members.announce({id: 'a', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1}, 0).result).toEqual({ok: true});
		expect(members.announce({id: 'b', endpoint: 'tcp://10.0.0.3:5555', incarnation: 1}, 0).result).toMatchObject({ok: false, error: 'too-many-members'});
		expect(members.announce({id: 'c', endpoint: 'nonsense', incarnation: 1}, 0).result).toMatchObject({ok: false, error: 'bad-request'});
	});
});

describe('dial plan', () => {
	/** Run the plan every 100 ms for `durationMs`; count dials per endpoint and check each step opens at most one. */
	function simulate(members: MemberTable, fromMs: number, durationMs: number): Map<string, number[]> {
		const dials = new Map<string, number[]>();
		for (let nowMs = fromMs; nowMs <= fromMs + durationMs; nowMs += 100) {
			members.sweep(nowMs);
			for (const endpoint of members.plan(nowMs).subscribe) {
				dials.set(endpoint, [...(dials.get(endpoint) ?? []), nowMs]);
			}
		}

		return dials;
	}

	test('a settled plan is skipped only when a plan in full would change nothing (any sequence of hearings, gossip, joins, time)', () => {
		const ids = ['a', 'b', 'c', 'd'];
		const endpointOf = (id: string) => `tcp://10.0.1.${ids.indexOf(id) + 1}:5555`;
		const operation = fc.oneof(
			fc.record({kind: fc.constant('heard' as const), id: fc.constantFrom(...ids), incarnation: fc.integer({min: 1, max: 2})}),
			fc.record({kind: fc.constant('gossip' as const), id: fc.constantFrom(...ids), incarnation: fc.integer({min: 1, max: 2}), state: fc.constantFrom<MemberState>('alive', 'suspect', 'dead')}),
			fc.record({kind: fc.constant('join' as const), id: fc.constantFrom(...ids), incarnation: fc.integer({min: 1, max: 2})}),
			fc.record({kind: fc.constant('wait' as const), ms: fc.constantFrom(0, 300, 1000, 2600, 4000)}),
			fc.record({kind: fc.constant('step' as const)}),
		);
		fc.assert(fc.property(fc.array(operation, {maxLength: 80}), (operations) => {
			const settled = table({backoffStartMs: 500, backoffMaxMs: 4000, probeMs: 700});
			const full = table({backoffStartMs: 500, backoffMaxMs: 4000, probeMs: 700, settledPlans: false});
			let nowMs = 0;
			for (const op of operations) {
				for (const members of [settled, full]) {
					switch (op.kind) {
						case 'heard': {
							members.heard({id: op.id, endpoint: endpointOf(op.id), incarnation: op.incarnation}, nowMs);
							break;
						}

						case 'gossip': {
							members.merge([member(op.id, {endpoint: endpointOf(op.id), incarnation: op.incarnation, state: op.state})], nowMs);
							break;
						}

						case 'join': {
							members.announce({id: op.id, endpoint: endpointOf(op.id), incarnation: op.incarnation}, nowMs);
							break;
						}

						case 'wait': {
							break;
						}

						case 'step': {
							members.sweep(nowMs);
							break;
						}
					}
				}

				if (op.kind === 'wait') {
					nowMs += op.ms;
				}

				const [mine, reference] = [settled.plan(nowMs), full.plan(nowMs)];
				const sorted = (plan: {subscribe: string[]; unsubscribe: string[]}) => ({subscribe: [...plan.subscribe].sort(), unsubscribe: [...plan.unsubscribe].sort()});
				expect(sorted(mine)).toEqual(sorted(reference));
			}
		}), {numRuns: 1000});
	});

	test('a member never heard is dialled once, given its TTL, then redialled with doubling backoff until forgotten', () => {
		const members = table({backoffStartMs: 1000, backoffMaxMs: 8000, probeMs: 1500});
		members.merge([member('ghost', {endpoint: 'tcp://10.0.0.50:5555'})], 0);
		const dials = simulate(members, 0, TTL_MS + RECONNECT_MS + 10_000).get('tcp://10.0.0.50:5555')!;
		const gaps = dials.slice(1).map((at, index) => at - dials[index]!);
		// The first dial lasts the TTL; each probe then lasts 1.5 s, followed by 1, 2, 4, 8, 8 … s.
		expect(gaps.slice(0, 4)).toEqual([TTL_MS + 1000, 1500 + 2000, 1500 + 4000, 1500 + 8000]);
		expect(gaps.every((gap) => gap >= 2500)).toBe(true);
		// Forgotten after the reconnect timeout: no dial after that.
		expect(dials.at(-1)!).toBeLessThanOrEqual(TTL_MS + RECONNECT_MS);
		expect(members.get('ghost')).toBeUndefined();
	});

	test('ten thousand ids on one endpoint: one dial, not ten thousand', () => {
		const members = table({maxMembers: 100_000});
		members.merge(Array.from({length: 10_000}, (_, index) => member(`id-${index}`, {endpoint: 'tcp://10.0.0.60:5555'})), 0);
		const dials = simulate(members, 0, TTL_MS - 100);
		expect(dials.get('tcp://10.0.0.60:5555')).toEqual([0]);
	});

	test('a live member keeps its link; when it dies the link is closed and probed with backoff; heard again, kept', () => {
		const members = table();
		members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1}, 0);
		expect(members.plan(0)).toEqual({subscribe: ['tcp://10.0.0.2:5555'], unsubscribe: []});
		expect(members.plan(1000)).toEqual({subscribe: [], unsubscribe: []});
		members.sweep(TTL_MS);
		expect(members.plan(TTL_MS)).toEqual({subscribe: [], unsubscribe: ['tcp://10.0.0.2:5555']});
		expect(members.plan(TTL_MS + 999).subscribe).toEqual([]);
		expect(members.plan(TTL_MS + 1000).subscribe).toEqual(['tcp://10.0.0.2:5555']);
		members.heard({id: 'm', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1}, TTL_MS + 1200);
		expect(members.plan(TTL_MS + 3000)).toEqual({subscribe: [], unsubscribe: []});
		expect(members.get('m')!.state).toBe('alive');
	});

	test('a member silenced by our own blackhole is dead to us but keeps its link, with no backoff; lifted, the old rules apply', () => {
		const members = table();
		const endpoint = 'tcp://10.0.0.2:5555';
		members.heard({id: 'm', endpoint, incarnation: 1}, 0);
		members.heard({id: 'n', endpoint: 'tcp://10.0.0.3:5555', incarnation: 1}, 0);
		expect(members.plan(0).subscribe).toEqual([endpoint, 'tcp://10.0.0.3:5555']);
		// A partition held for many TTLs: both dead, only n's link (not silenced by us) is dropped.
		for (let nowMs = TTL_MS; nowMs <= TTL_MS * 6; nowMs += 500) {
			members.sweep(nowMs);
			const plan = members.plan(nowMs, new Set(['m']));
			expect(plan.unsubscribe.includes(endpoint), `at ${nowMs} ms`).toBe(false);
			expect(plan.subscribe.includes(endpoint)).toBe(false);
		}

		expect(members.get('m')!.state).toBe('dead');
		expect(members.plan(TTL_MS * 6, 'all').unsubscribe).toEqual([]);
		// Lifted with m still silent (it really died): dropped and probed as any dead member.
		expect(members.plan(TTL_MS * 6 + 100)).toEqual({subscribe: [], unsubscribe: [endpoint]});
		expect(members.plan(TTL_MS * 6 + 1100).subscribe).toEqual([endpoint]);
	});

	test('this node\'s own endpoint is never dialled', () => {
		const members = table();
		members.merge([member('other-name', {endpoint: 'tcp://10.0.0.1:5555'})], 0);
		expect(members.plan(0).subscribe).toEqual([]);
	});
});
