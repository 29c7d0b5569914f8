/**
The sparse mesh's picks (`--fanout`), with time and randomness as arguments: k picks from the
candidates, a full mesh while the mesh is small, a uniform sample whatever order members arrive in,
a dead pick replaced (at once after a quiet spell, with doubling delays when picks keep dying), and
the member table's dial plan and coupling flags built on them.
*/

import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import fc from 'fast-check';
import {describe, expect, test} from 'vitest';
import {DEFAULT_FANOUT, FanoutPicker, type FanoutPicks} from '../../source/cluster/membership/fanout.js';
import {ConfigError, resolveConfig} from '../../source/config.js';
import {CLI_PATH} from '../helpers/headless-process.js';
import {MemberTable} from '../../source/cluster/membership/member-table.js';
import type {Member} from '../../source/cluster/protocol.js';
import {seededUniform} from '../../source/mesh/model/random.js';

const ids = (count: number, from = 0) => Array.from({length: count}, (_, index) => `m${from + index}`);

function picksOf(result: FanoutPicks): string[] {
	expect(result.mode).toBe('sparse');
	return result.mode === 'sparse' ? [...result.picks].sort() : [];
}

describe('picks', () => {
	test('k distinct picks among the candidates once the mesh is larger than the full-mesh size; all before', () => {
		fc.assert(fc.property(
			fc.integer({min: 1, max: 12}),
			fc.integer({min: 0, max: 40}),
			fc.integer({min: 0, max: 200}),
			fc.integer({min: 0, max: 2 ** 32 - 1}),
			(k, fullMeshUpTo, count, seed) => {
				const picker = new FanoutPicker({k, fullMeshUpTo, random: seededUniform(seed)});
				const candidates = ids(count);
				const result = picker.update(candidates, 0);
				if (count <= Math.max(k, fullMeshUpTo)) {
					expect(result).toEqual({mode: 'all'});
					return;
				}

				const picks = picksOf(result);
				expect(picks).toHaveLength(k);
				expect(new Set(picks).size).toBe(k);
				for (const id of picks) {
					expect(candidates).toContain(id);
				}
			},
		));
	});

	test('the same seed makes the same picks (randomness is an argument)', () => {
		const run = (seed: number) => picksOf(new FanoutPicker({k: 8, fullMeshUpTo: 8, random: seededUniform(seed)}).update(ids(500), 0));
		expect(run(42)).toEqual(run(42));
		expect(run(42)).not.toEqual(run(43));
	});

	test('members arriving one by one, the first (the seed everyone joins through) included, are each picked with probability k/n', () => {
		const k = 4;
		const n = 40;
		const trials = 3000;
		const counts = new Map<string, number>();
		for (let trial = 0; trial < trials; trial++) {
			const picker = new FanoutPicker({k, fullMeshUpTo: k, random: seededUniform(trial + 1), backoffStartMs: 0, backoffMaxMs: 0});
			let result: FanoutPicks = {mode: 'all'};
			// The seed first, then the rest in the seed's order: the same order for every joiner.
			for (let size = 1; size <= n; size++) {
				result = picker.update(ids(size), size);
			}

			for (const id of picksOf(result)) {
				counts.set(id, (counts.get(id) ?? 0) + 1);
			}
		}

		const expected = (trials * k) / n;
		// Binomial(3000, 0.1): standard deviation about 16; 6 of them is a bound a correct sampler does not reach.
		for (const id of ids(n)) {
			expect(Math.abs((counts.get(id) ?? 0) - expected), `${id} picked ${counts.get(id) ?? 0} times of ${trials}, expected about ${expected}`).toBeLessThan(100);
		}
	});

	test('hysteresis: sparse past the full-mesh size, full again only at three quarters of it', () => {
		const picker = new FanoutPicker({k: 8, fullMeshUpTo: 32, random: seededUniform(1)});
		expect(picker.update(ids(32), 0).mode).toBe('all');
		expect(picker.update(ids(33), 1).mode).toBe('sparse');
		expect(picksOf(picker.update(ids(25), 2))).toHaveLength(8);
		expect(picker.update(ids(24), 3).mode).toBe('all');
		expect(picker.sparse).toBe(false);
	});
});

describe('replacing a pick that dies', () => {
	test('after a quiet spell a dead pick is replaced at once by a candidate not picked; the rest stay', () => {
		fc.assert(fc.property(fc.integer({min: 0, max: 2 ** 32 - 1}), fc.integer({min: 0, max: 7}), (seed, victimIndex) => {
			const picker = new FanoutPicker({k: 8, fullMeshUpTo: 8, random: seededUniform(seed)});
			const candidates = ids(100);
			const before = picksOf(picker.update(candidates, 0));
			const victim = before[victimIndex]!;
			const after = picksOf(picker.update(candidates.filter((id) => id !== victim), 60_000));
			expect(after).toHaveLength(8);
			expect(after).not.toContain(victim);
			const kept = before.filter((id) => id !== victim);
			expect(after.filter((id) => kept.includes(id))).toEqual(kept);
			expect(picker.pickedAtMs(after.find((id) => !kept.includes(id))!)).toBe(60_000);
		}));
	});

	test('picks that keep dying are replaced after 1 s, 2 s, 4 s … up to the cap, so a flapping mesh does not thrash', () => {
		const picker = new FanoutPicker({k: 4, fullMeshUpTo: 4, random: seededUniform(7), backoffStartMs: 1000, backoffMaxMs: 8000});
		let alive = ids(200);
		let nowMs = 0;
		picksOf(picker.update(alive, nowMs));
		const delays: number[] = [];
		for (let round = 0; round < 6; round++) {
			const picks = picksOf(picker.update(alive, nowMs));
			expect(picks).toHaveLength(4);
			// One pick dies; step in 100 ms until it is replaced.
			alive = alive.filter((id) => id !== picks[0]);
			const diedAtMs = nowMs;
			while (picksOf(picker.update(alive, nowMs)).length < 4) {
				nowMs += 100;
			}

			delays.push(nowMs - diedAtMs);
			expect(nowMs - diedAtMs).toBeLessThan(60_000);
		}

		expect(delays).toEqual([0, 1000, 2000, 4000, 8000, 8000]);
		// Quiet for longer than twice the cap: the next replacement is immediate again.
		nowMs += 16_001;
		const picks = picksOf(picker.update(alive, nowMs));
		alive = alive.filter((id) => id !== picks[0]);
		expect(picksOf(picker.update(alive, nowMs))).toHaveLength(4);
	});

	test('down to k candidates, every one is picked; below three quarters of the full-mesh size, a full mesh again', () => {
		const picker = new FanoutPicker({k: 4, fullMeshUpTo: 4, random: seededUniform(3)});
		picksOf(picker.update(ids(10), 0));
		expect(picksOf(picker.update(ids(4), 120_000))).toEqual(ids(4));
		expect(picker.update(ids(3), 240_000)).toEqual({mode: 'all'});
	});
});

describe('the member table with a fan-out', () => {
	const TTL_MS = 5000;
	const member = (index: number): Member => ({
		id: `m${index}`,
		endpoint: `tcp://10.0.${Math.floor(index / 200)}.${(index % 200) + 2}:5555`,
		control: `tcp://10.0.${Math.floor(index / 200)}.${(index % 200) + 2}:5556`,
		incarnation: 1,
		state: 'alive',
		legacy: false,
		changedAtMs: 0,
	});
	const newTable = (seed: number) => {
		const table = new MemberTable({
			selfId: 'self', selfEndpoint: 'tcp://10.9.9.9:5555', maxMembers: 2000, ttlMs: TTL_MS, reconnectTimeoutMs: 600_000,
			fanout: {k: 8, fullMeshUpTo: 32}, random: seededUniform(seed),
		});
		const staticEndpoint = 'tcp://10.8.8.8:5555';
		table.pin(staticEndpoint);
		return {table, staticEndpoint};
	};

	/** Apply plans as membership does, with every subscribed member heard at `nowMs` except the silent ones. */
	function drive(table: MemberTable, subscribed: Set<string>, nowMs: number, silent: (id: string) => boolean = () => false): void {
		table.sweep(nowMs);
		const plan = table.plan(nowMs);
		for (const endpoint of plan.unsubscribe) {
			subscribed.delete(endpoint);
		}

		for (const endpoint of plan.subscribe) {
			subscribed.add(endpoint);
		}

		for (const record of table.records()) {
			if (subscribed.has(record.endpoint) && !silent(record.id) && !record.static) {
				table.heard({id: record.id, endpoint: record.endpoint, incarnation: record.incarnation}, nowMs);
			}
		}
	}

	test('a full mesh up to 32 members, then 8 links, never the static peer\'s; the rest known, not coupled, and not aged dead', () => {
		fc.assert(fc.property(fc.integer({min: 0, max: 2 ** 32 - 1}), fc.integer({min: 33, max: 1000}), (seed, size) => {
			const {table, staticEndpoint} = newTable(seed);
			const subscribed = new Set<string>();
			table.merge(Array.from({length: 20}, (_, index) => member(index)), 0);
			drive(table, subscribed, 0);
			expect(subscribed.size).toBe(20);
			table.merge(Array.from({length: size}, (_, index) => member(index)), 100);
			for (let nowMs = 100; nowMs <= 30_000; nowMs += 500) {
				drive(table, subscribed, nowMs);
				expect(subscribed.size).toBeLessThanOrEqual(8);
			}

			expect(subscribed.size).toBe(8);
			expect(subscribed.has(staticEndpoint)).toBe(false);
			const members = table.members(30_000);
			expect(members.filter((entry) => entry.coupled)).toHaveLength(8);
			expect(new Set(members.filter((entry) => entry.coupled).map((entry) => entry.endpoint))).toEqual(subscribed);
			// Known only: alive on gossip's word, 30 s after we learned of them without hearing them.
			expect(members.filter((entry) => entry.state !== 'alive')).toEqual([]);
			expect(table.coupledCount(30_000)).toBe(8);
		}), {numRuns: 30});
	});

	test('a pick that falls silent is dead after its TTL and replaced in the same plan; a fresh pick never heard is dropped a TTL after it was picked, not declared dead', () => {
		const {table} = newTable(5);
		const subscribed = new Set<string>();
		table.merge(Array.from({length: 100}, (_, index) => member(index)), 0);
		drive(table, subscribed, 0);
		const first = new Set([...table.records()].filter((record) => subscribed.has(record.endpoint)).map((record) => record.id));
		const victim = [...first][0]!;
		// The victim falls silent, and so does every member picked from now on (it never answers).
		const silent = (id: string) => id === victim || !first.has(id);
		let nowMs = 0;
		let victimDiedAtMs: number | undefined;
		let fresh: {id: string; endpoint: string; atMs: number} | undefined;
		const newPick = () => [...table.records()].find((record) => subscribed.has(record.endpoint) && !first.has(record.id) && record.state !== 'dead');
		while (fresh === undefined || subscribed.has(fresh.endpoint)) {
			nowMs += 100;
			drive(table, subscribed, nowMs, silent);
			if (victimDiedAtMs === undefined && table.get(victim)!.state === 'dead') {
				victimDiedAtMs = nowMs;
				const picked = newPick();
				// Replaced in the same plan (the first replacement after a quiet spell is immediate).
				expect(picked).toBeDefined();
				fresh = {id: picked!.id, endpoint: picked!.endpoint, atMs: nowMs};
			}

			expect(nowMs).toBeLessThan(60_000);
		}

		// The victim, heard and then silent: dead a TTL after it was last heard (at 0).
		expect(victimDiedAtMs).toBeGreaterThanOrEqual(TTL_MS);
		expect(victimDiedAtMs).toBeLessThanOrEqual(TTL_MS + 200);
		// The fresh pick, learned at 0 and never heard: dropped a TTL after it was picked (not after we
		// learned of it), and left alive, as gossip has it: we spread no guess.
		expect(nowMs - fresh.atMs).toBeGreaterThanOrEqual(TTL_MS);
		expect(nowMs - fresh.atMs).toBeLessThanOrEqual(TTL_MS + 200);
		const freshId = fresh.id;
		const listed = table.members(nowMs).find((entry) => entry.id === freshId)!;
		expect(listed).toMatchObject({state: 'alive', coupled: false});
		// And replaced (after the backoff of a second replacement: 1 s), by another than itself. Dead
		// members are probed with backoff besides (a short subscription a step): not counted here.
		const picked = () => [...table.records()].filter((record) => record.state !== 'dead' && subscribed.has(record.endpoint));
		for (let step = 0; step < 12; step++) {
			drive(table, subscribed, nowMs + (step * 100), silent);
		}

		expect(picked()).toHaveLength(8);
		expect(picked().map((record) => record.id)).not.toContain(freshId);
		// Coupled: the seven first picks still heard; the newest pick is not heard (it is silent too).
		expect(table.coupledCount(nowMs + 1100)).toBe(7);
	});
});

describe('--fanout', () => {
	test('k, all, or left out: a full mesh up to 32 members, 8 beyond', () => {
		expect(resolveConfig({}).fanout).toEqual(DEFAULT_FANOUT);
		expect(DEFAULT_FANOUT).toEqual({k: 8, fullMeshUpTo: 32});
		expect(resolveConfig({fanout: '4'}).fanout).toEqual({k: 4, fullMeshUpTo: 4});
		expect(resolveConfig({fanout: 'all'}).fanout).toBeUndefined();
		for (const bad of ['0', '-1', '2.5', 'many', '']) {
			expect(() => resolveConfig({fanout: bad}), bad).toThrow(ConfigError);
		}
	});

	test('a bad --fanout is one line and exit code 2', async () => {
		const result = await promisify(execFile)(process.execPath, [CLI_PATH, '--headless', '--fanout', '0']).then(
			() => ({code: 0, stderr: ''}),
			(error: unknown) => error as {code: number; stderr: string},
		);
		expect(result.code).toBe(2);
		expect(result.stderr.trim().split('\n')).toEqual(['chorus-tui: --fanout: 0 is too small; it must be at least 1']);
	});
});
