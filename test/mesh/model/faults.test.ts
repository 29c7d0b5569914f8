import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {NO_INBOUND_FAULT, type InboundFault} from '../../../source/mesh/model/fault-types.js';
import {combineInbound, FaultError, FaultPlan, ReleaseQueue} from '../../../source/mesh/model/faults.js';
import {seededUniform} from '../../../source/mesh/model/random.js';

const probability = fc.double({min: 0, max: 1, noNaN: true});
const delay = fc.integer({min: 0, max: 5000});
const inboundFault: fc.Arbitrary<InboundFault> = fc.record({
	drop: probability,
	delayMs: delay,
	jitterMs: delay,
	duplicate: probability,
	blackhole: fc.boolean(),
});

function plan(seed = 1, options?: {maxHeld?: number}): FaultPlan<number, string> {
	return new FaultPlan<number, string>(seededUniform(seed), options);
}

/** Send messages 0..count-1 from `peer`, one every `everyMs`, and collect what comes out, in order. */
function run(faults: FaultPlan<number, string>, peer: string, count: number, everyMs: number): {delivered: number[]; dropped: number} {
	const delivered: number[] = [];
	let dropped = 0;
	let nowMs = 0;
	for (let index = 0; index < count; index++, nowMs += everyMs) {
		delivered.push(...faults.releaseInbound(nowMs));
		const decision = faults.inbound(peer, index, nowMs);
		if (decision.dropped) {
			dropped++;
		} else {
			for (let copy = 0; copy < decision.now; copy++) {
				delivered.push(index);
			}
		}
	}

	delivered.push(...faults.releaseInbound(Number.POSITIVE_INFINITY));
	return {delivered, dropped};
}

describe('combining a peer fault with the all-peers fault', () => {
	it('combines chances as independent events, adds delays, and blackholes if either does', () => {
		fc.assert(
			fc.property(inboundFault, inboundFault, (a, b) => {
				const combined = combineInbound(a, b)!;
				expect(combined.drop).toBeCloseTo(1 - (1 - a.drop) * (1 - b.drop), 12);
				expect(combined.duplicate).toBeCloseTo(1 - (1 - a.duplicate) * (1 - b.duplicate), 12);
				expect(combined.delayMs).toBe(a.delayMs + b.delayMs);
				expect(combined.jitterMs).toBe(a.jitterMs + b.jitterMs);
				expect(combined.blackhole).toBe(a.blackhole || b.blackhole);
				expect(combined.drop).toBeGreaterThanOrEqual(Math.max(a.drop, b.drop) - 1e-12);
				expect(combined.drop).toBeLessThanOrEqual(1);
				expect(combineInbound(b, a)!.drop).toBeCloseTo(combined.drop, 12);
			}),
		);
	});

	it('leaves a fault unchanged when the other side has none', () => {
		fc.assert(
			fc.property(inboundFault, (a) => {
				expect(combineInbound(a, undefined)).toEqual(a);
				expect(combineInbound(undefined, a)).toEqual(a);
				expect(combineInbound(a, NO_INBOUND_FAULT)).toEqual(a);
			}),
		);
		expect(combineInbound(undefined, undefined)).toBeUndefined();
	});

	it('is what the plan applies to a peer', () => {
		const faults = plan();
		faults.setInbound('all', {drop: 0.5, delayMs: 100});
		faults.setInbound('p', {drop: 0.5, delayMs: 50, jitterMs: 10});
		expect(faults.inboundFor('p')).toEqual({drop: 0.75, delayMs: 150, jitterMs: 10, duplicate: 0, blackhole: false});
		expect(faults.inboundFor('q')).toEqual({drop: 0.5, delayMs: 100, jitterMs: 0, duplicate: 0, blackhole: false});
	});
});

describe('changing faults at run time', () => {
	it('patches only the fields given, and removes a fault patched back to all zero', () => {
		const faults = plan();
		expect(faults.inboundActive).toBe(false);
		expect(faults.setInbound('p', {drop: 0.3})).toEqual({
			direction: 'inbound',
			target: 'p',
			fault: {...NO_INBOUND_FAULT, drop: 0.3},
		});
		faults.setInbound('p', {delayMs: 200});
		expect(faults.inForce()).toEqual({peers: {p: {...NO_INBOUND_FAULT, drop: 0.3, delayMs: 200}}});
		expect(faults.inboundActive).toBe(true);
		faults.setInbound('p', {drop: 0});
		expect(faults.inForce().peers.p).toEqual({...NO_INBOUND_FAULT, delayMs: 200});
		expect(faults.setInbound('p', {delayMs: 0})).toEqual({direction: 'inbound', target: 'p', fault: undefined});
		expect(faults.inForce()).toEqual({peers: {}});
		expect(faults.inboundActive).toBe(false);
	});

	it('keeps the all-peers and outbound faults apart from the per-peer ones', () => {
		const faults = plan();
		faults.setInbound('all', {blackhole: true});
		faults.setOutbound({drop: 1});
		expect(faults.inForce()).toEqual({all: {...NO_INBOUND_FAULT, blackhole: true}, peers: {}, outbound: {drop: 1, delayMs: 0, jitterMs: 0}});
		expect(faults.outboundEngaged).toBe(true);
		expect(faults.setOutbound({drop: 0})).toEqual({direction: 'outbound', fault: undefined});
		expect(faults.outboundEngaged).toBe(false);
		expect(faults.inForce()).toEqual({all: {...NO_INBOUND_FAULT, blackhole: true}, peers: {}});
	});

	it('clears everything and reports what it cleared', () => {
		const faults = plan();
		faults.setInbound('all', {drop: 0.1});
		faults.setInbound('a', {duplicate: 1});
		faults.setInbound('b', {blackhole: true});
		faults.setOutbound({delayMs: 50});
		expect(faults.clear()).toEqual([
			{direction: 'inbound', target: 'all', fault: undefined},
			{direction: 'inbound', target: 'a', fault: undefined},
			{direction: 'inbound', target: 'b', fault: undefined},
			{direction: 'outbound', fault: undefined},
		]);
		expect(faults.inForce()).toEqual({peers: {}});
		expect(faults.clear()).toEqual([]);
	});

	it('hands out copies, so a caller cannot change the faults in force by accident', () => {
		const faults = plan();
		faults.setInbound('p', {drop: 0.3});
		faults.inForce().peers.p!.drop = 1;
		faults.inboundFor('p')!.drop = 1;
		expect(faults.inForce().peers.p!.drop).toBe(0.3);
	});

	it.each([
		[{drop: 1.5}, 'drop must be a probability from 0 to 1, not 1.5'],
		[{drop: -0.1}, 'drop must be a probability'],
		[{drop: Number.NaN}, 'drop must be a probability'],
		[{duplicate: '0.5'}, 'duplicate must be a probability'],
		[{delayMs: -1}, 'delayMs must be a number of milliseconds from 0 to 60000, not -1'],
		[{jitterMs: Number.POSITIVE_INFINITY}, 'jitterMs must be a number of milliseconds'],
		[{delayMs: 1e9}, 'delayMs must be a number of milliseconds'],
		[{blackhole: 'yes'}, 'blackhole must be true or false'],
		[{loss: 0.5}, "unknown inbound fault 'loss'"],
	])('refuses %j with one line naming the field, and changes nothing', (patch, message) => {
		const faults = plan();
		faults.setInbound('p', {drop: 0.2});
		expect(() => faults.setInbound('p', patch as Partial<InboundFault>)).toThrow(FaultError);
		expect(() => faults.setInbound('p', patch as Partial<InboundFault>)).toThrow(message);
		expect(faults.inForce()).toEqual({peers: {p: {...NO_INBOUND_FAULT, drop: 0.2}}});
	});

	it('refuses a bad target or outbound field', () => {
		const faults = plan();
		expect(() => faults.setInbound('', {drop: 1})).toThrow("fault target must be 'all' or a peer id");
		expect(() => faults.setInbound('bad\u001B[2Jid', {drop: 1})).toThrow(FaultError);
		expect(() => faults.setOutbound({duplicate: 1} as never)).toThrow("unknown outbound fault 'duplicate'");
		expect(() => faults.setOutbound({drop: 2})).toThrow('drop must be a probability');
		expect(faults.inForce()).toEqual({peers: {}});
	});
});

describe('inbound faults', () => {
	it('passes everything at once when no fault is in force, drawing nothing', () => {
		let draws = 0;
		const faults = new FaultPlan<number, string>(() => {
			draws++;
			return 0;
		});
		expect(faults.inbound('p', 1, 0)).toEqual({dropped: false, now: 1, held: 0});
		faults.setInbound('q', {drop: 1});
		expect(faults.inbound('p', 2, 0)).toEqual({dropped: false, now: 1, held: 0});
		expect(draws).toBe(0);
	});

	it('drops everything from a blackholed peer and nothing from the others', () => {
		const faults = plan();
		faults.setInbound('p', {blackhole: true});
		expect(run(faults, 'p', 100, 100)).toEqual({delivered: [], dropped: 100});
		expect(run(faults, 'q', 100, 100).dropped).toBe(0);
	});

	it('drops about the fraction asked for', () => {
		for (const drop of [0.1, 0.3, 0.5, 1]) {
			const faults = plan(7);
			faults.setInbound('all', {drop});
			const {dropped, delivered} = run(faults, 'p', 10_000, 100);
			expect(dropped + delivered.length).toBe(10_000);
			expect(Math.abs(dropped / 10_000 - drop)).toBeLessThan(0.03);
		}
	});

	it('makes the same decisions from the same seed, and others from another seed', () => {
		const decisions = (seed: number) => {
			const faults = plan(seed);
			faults.setInbound('p', {drop: 0.5, duplicate: 0.2, delayMs: 100, jitterMs: 300});
			return run(faults, 'p', 500, 100);
		};

		expect(decisions(42)).toEqual(decisions(42));
		expect(decisions(42)).not.toEqual(decisions(43));
	});

	it('holds a delayed message until its release time, and not a moment longer', () => {
		const faults = plan();
		faults.setInbound('p', {delayMs: 1000});
		expect(faults.inbound('p', 7, 500)).toEqual({dropped: false, now: 0, held: 1});
		expect(faults.heldInbound).toBe(1);
		expect(faults.releaseInbound(1499.9)).toEqual([]);
		expect(faults.releaseInbound(1500)).toEqual([7]);
		expect(faults.heldInbound).toBe(0);
	});

	it('delivers a duplicated message twice', () => {
		const faults = plan();
		faults.setInbound('p', {duplicate: 1});
		expect(faults.inbound('p', 1, 0)).toEqual({dropped: false, now: 2, held: 0});
		faults.setInbound('p', {delayMs: 10});
		expect(faults.inbound('p', 2, 0)).toEqual({dropped: false, now: 0, held: 2});
		expect(faults.releaseInbound(10)).toEqual([2, 2]);
	});

	it('delays every message exactly once, releasing in order of release time: jitter reorders', () => {
		fc.assert(
			fc.property(fc.integer({min: 0, max: 2 ** 32 - 1}), delay, fc.integer({min: 1, max: 2000}), (seed, delayMs, jitterMs) => {
				const faults = plan(seed);
				faults.setInbound('p', {delayMs, jitterMs});
				const {delivered, dropped} = run(faults, 'p', 200, 100);
				expect(dropped).toBe(0);
				expect([...delivered].sort((a, b) => a - b)).toEqual(Array.from({length: 200}, (_, index) => index));
			}),
			{numRuns: 50},
		);

		const faults = plan(3);
		faults.setInbound('p', {delayMs: 100, jitterMs: 500});
		const {delivered} = run(faults, 'p', 200, 100);
		const inversions = delivered.filter((value, index) => index > 0 && value < delivered[index - 1]!).length;
		expect(inversions).toBeGreaterThan(10);
	});

	it('keeps held messages in flight when the fault is cleared', () => {
		const faults = plan();
		faults.setInbound('p', {delayMs: 1000});
		faults.inbound('p', 1, 0);
		faults.clear();
		expect(faults.inbound('p', 2, 100)).toEqual({dropped: false, now: 1, held: 0});
		expect(faults.releaseInbound(1000)).toEqual([1]);
	});

	it('drops what it cannot hold once its queue is full', () => {
		const faults = plan(1, {maxHeld: 3});
		faults.setInbound('p', {delayMs: 1000});
		for (let index = 0; index < 3; index++) {
			expect(faults.inbound('p', index, 0)).toEqual({dropped: false, now: 0, held: 1});
		}

		expect(faults.inbound('p', 3, 0)).toEqual({dropped: true, reason: 'overflow'});
		faults.discardHeld();
		expect(faults.heldInbound).toBe(0);
	});
});

describe('outbound faults', () => {
	it('sends, drops, or holds what this node publishes', () => {
		const faults = plan();
		expect(faults.outbound('a', 0)).toBe('send');
		faults.setOutbound({drop: 1});
		expect(faults.outbound('b', 0)).toBe('dropped');
		faults.setOutbound({drop: 0, delayMs: 300});
		expect(faults.outbound('c', 0)).toBe('held');
		expect(faults.outbound('d', 100)).toBe('held');
		faults.setOutbound({delayMs: 0});
		expect(faults.outboundEngaged).toBe(true);
		expect(faults.outbound('e', 150)).toBe('send');
		expect(faults.releaseOutbound(299)).toEqual([]);
		expect(faults.releaseOutbound(400)).toEqual(['c', 'd']);
		expect(faults.outboundEngaged).toBe(false);
	});

	it('drops about the fraction asked for, reproducibly', () => {
		const decisions = (seed: number) => {
			const faults = plan(seed);
			faults.setOutbound({drop: 0.3});
			return Array.from({length: 5000}, (_, index) => faults.outbound(String(index), index));
		};

		const first = decisions(9);
		expect(decisions(9)).toEqual(first);
		expect(Math.abs(first.filter((decision) => decision === 'dropped').length / 5000 - 0.3)).toBeLessThan(0.03);
	});
});

describe('the release queue', () => {
	it('releases in order of release time, ties in arrival order', () => {
		fc.assert(
			fc.property(fc.array(fc.integer({min: 0, max: 50}), {maxLength: 300}), fc.array(fc.integer({min: 0, max: 60})), (times, cuts) => {
				const queue = new ReleaseQueue<{atMs: number; arrival: number}>();
				for (const [arrival, atMs] of times.entries()) {
					queue.push({atMs, arrival}, atMs);
				}

				const released = [];
				for (const cut of [...cuts].sort((a, b) => a - b)) {
					const due = queue.releaseDue(cut);
					expect(due.every((item) => item.atMs <= cut)).toBe(true);
					released.push(...due);
				}

				released.push(...queue.releaseDue(Number.POSITIVE_INFINITY));
				expect(queue.size).toBe(0);
				const expected = times.map((atMs, arrival) => ({atMs, arrival})).sort((a, b) => a.atMs - b.atMs || a.arrival - b.arrival);
				expect(released).toEqual(expected);
			}),
		);
	});
});
