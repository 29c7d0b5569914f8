import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {PeerTable, type PeerTableOptions} from '../../../source/mesh/model/peer-table.js';
import type {WireMessage} from '../../../source/mesh/model/wire.js';

const options: PeerTableOptions = {
	ttlMs: 5000,
	evictionGraceMs: 3000,
	maxPeers: 1024,
	maxLamportJump: 1_000_000,
	legacyAdmission: false,
};

function message(nodeId: string, lamportTime: number, incarnation = 0, phaseRad = 0.1): WireMessage {
	return {nodeId, lamportTime, incarnation, phaseRad, weight: 1};
}

describe('admission on (incarnation, lamport_time)', () => {
	it('admits a new peer, then only newer messages of the same incarnation', () => {
		const table = new PeerTable(options);
		expect(table.admit(message('a', 10), 0, 0)).toMatchObject({admitted: true, change: 'joined'});
		expect(table.admit(message('a', 11), 1, 11)).toMatchObject({admitted: true, change: 'updated'});
		expect(table.admit(message('a', 11), 2, 12)).toEqual({admitted: false, reason: 'stale'});
		expect(table.admit(message('a', 5, 0, 2.5), 3, 12)).toEqual({admitted: false, reason: 'stale'});
		expect(table.get('a')?.phaseRad).toBe(0.1);
		expect(table.get('a')?.lamportTime).toBe(11);
	});

	it('admits a restarted peer at once, even with a lower Lamport time', () => {
		const table = new PeerTable(options);
		table.admit(message('a', 500, 1000), 0, 0);
		expect(table.admit(message('a', 1, 2000), 10, 501)).toMatchObject({admitted: true, change: 'restarted'});
		expect(table.stateOf(table.get('a')!, 11)).toBe('restarted');
		expect(table.admit(message('a', 900, 1000), 12, 501)).toEqual({admitted: false, reason: 'stale'});
	});

	it('treats a missing incarnation as 0, like a legacy Python node', () => {
		const table = new PeerTable(options);
		table.admit(message('legacy', 64), 0, 0);
		expect(table.get('legacy')?.incarnation).toBe(0);
		expect(table.admit(message('legacy', 65, 1), 1, 66)).toMatchObject({admitted: true, change: 'restarted'});
	});

	it('is monotonic for any order of delivery: what is admitted only grows, and the newest always wins', () => {
		const stamp = fc.record({incarnation: fc.nat({max: 3}), lamportTime: fc.nat({max: 50})});
		fc.assert(
			fc.property(fc.array(stamp, {minLength: 1, maxLength: 60}), (stamps) => {
				const table = new PeerTable({...options, maxLamportJump: Number.MAX_SAFE_INTEGER});
				let previous: {incarnation: number; lamportTime: number} | undefined;
				for (const [index, {incarnation, lamportTime}] of stamps.entries()) {
					const outcome = table.admit(message('p', lamportTime, incarnation), index, 0);
					if (outcome.admitted) {
						if (previous) {
							const newer =
								incarnation > previous.incarnation ||
								(incarnation === previous.incarnation && lamportTime > previous.lamportTime);
							expect(newer).toBe(true);
						}

						previous = {incarnation, lamportTime};
					} else {
						expect(outcome.reason).toBe('stale');
					}
				}

				const newest = stamps.reduce((best, next) =>
					next.incarnation > best.incarnation ||
					(next.incarnation === best.incarnation && next.lamportTime > best.lamportTime)
						? next
						: best,
				);
				expect(table.get('p')).toMatchObject(newest);
			}),
		);
	});
});

describe('the Lamport forward-jump bound', () => {
	it('quarantines a known peer that leaps ahead, and never refuses one that is behind', () => {
		const table = new PeerTable({...options, maxLamportJump: 100});
		table.admit(message('a', 10), 0, 0);
		const outcome = table.admit(message('a', 10_000), 1, 11);
		expect(outcome).toMatchObject({admitted: false, reason: 'lamport-jump'});
		expect(table.stateOf(table.get('a')!, 2)).toBe('quarantined');
		expect(table.isActive(table.get('a')!, 2)).toBe(false);
		expect(table.admit(message('b', 1), 3, 5000)).toMatchObject({admitted: true});
		// The next sound message lifts the quarantine.
		expect(table.admit(message('a', 20), 4, 5001)).toMatchObject({admitted: true});
		expect(table.stateOf(table.get('a')!, 5)).toBe('alive');
	});

	it('lets a node with no live peer adopt the mesh time: no late-joiner deadlock', () => {
		const table = new PeerTable({...options, maxLamportJump: 100});
		expect(table.admit(message('veteran', 5_000_000), 0, 0)).toMatchObject({admitted: true});
	});
});

describe('liveness', () => {
	it('goes alive → suspect → evicted → removed as a peer stays silent', () => {
		const table = new PeerTable(options);
		table.admit({...message('a', 1), hz: 10}, 0, 0);
		const peer = table.get('a')!;
		expect(table.stateOf(peer, 250)).toBe('alive');
		expect(table.stateOf(peer, 350)).toBe('suspect');
		expect(table.isActive(peer, 5000)).toBe(true);
		expect(table.sweep(5000)).toEqual({evicted: [], removed: []});
		// Out of the coupling the moment the TTL passes, even before a sweep.
		expect(table.isActive(peer, 5001)).toBe(false);
		expect(table.stateOf(peer, 5001)).toBe('evicted');
		expect(table.sweep(5001).evicted.map((p) => p.id)).toEqual(['a']);
		expect(table.ttlRemainingMs(peer, 5001)).toBe(0);
		expect(table.sweep(8000).removed).toEqual([]);
		expect(table.sweep(8001).removed.map((p) => p.id)).toEqual(['a']);
		expect(table.size).toBe(0);
	});

	it('re-admits an evicted peer that speaks again', () => {
		const table = new PeerTable(options);
		table.admit(message('a', 1), 0, 0);
		table.sweep(6000);
		expect(table.admit(message('a', 2), 6500, 3)).toMatchObject({admitted: true, change: 'rejoined'});
		expect(table.stateOf(table.get('a')!, 6501)).toBe('alive');
	});

	it('drains the TTL linearly', () => {
		const table = new PeerTable(options);
		table.admit(message('a', 1), 1000, 0);
		expect(table.ttlRemainingMs(table.get('a')!, 1000)).toBe(5000);
		expect(table.ttlRemainingMs(table.get('a')!, 3500)).toBe(2500);
	});

	it('stays bounded: a full table refuses new peers with a counted reason', () => {
		const table = new PeerTable({...options, maxPeers: 3});
		for (const id of ['a', 'b', 'c']) {
			table.admit(message(id, 1), 0, 0);
		}

		expect(table.admit(message('d', 1), 0, 0)).toEqual({admitted: false, reason: 'peer-limit'});
		expect(table.size).toBe(3);
		table.sweep(6000);
		table.sweep(9001);
		expect(table.admit(message('d', 1), 9002, 0)).toMatchObject({admitted: true});
	});
});

describe('legacy admission (the original node, for comparison only)', () => {
	it('lets the last message win and never evicts', () => {
		const table = new PeerTable({...options, legacyAdmission: true});
		table.admit(message('a', 10, 0, 0.5), 0, 0);
		expect(table.admit(message('a', 3, 0, -2), 1, 11)).toMatchObject({admitted: true});
		expect(table.get('a')?.phaseRad).toBe(-2);
		expect(table.sweep(1_000_000)).toEqual({evicted: [], removed: []});
		expect(table.isActive(table.get('a')!, 1_000_000)).toBe(true);
	});
});
