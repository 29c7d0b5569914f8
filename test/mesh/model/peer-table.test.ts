import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {MAX_LAMPORT_TIME, MAX_UNWITNESSED_STEP, MIN_PERSISTENCE_MS, observe} from '../../../source/mesh/model/lamport.js';
import {MAX_INCARNATION_AHEAD_MS, PeerTable, type PeerTableOptions} from '../../../source/mesh/model/peer-table.js';
import type {WireMessage} from '../../../source/mesh/model/wire.js';

const options: PeerTableOptions = {
	ttlMs: 5000,
	evictionGraceMs: 3000,
	maxPeers: 1024,
	maxLamportJump: 1_000_000,
	wallClockOffsetMs: 0,
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

				let newest = stamps[0]!;
				for (const next of stamps) {
					if (next.incarnation > newest.incarnation || (next.incarnation === newest.incarnation && next.lamportTime > newest.lamportTime)) {
						newest = next;
					}
				}

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

	it('lets a node with no live peer adopt the mesh time from its second peer: no late-joiner deadlock', () => {
		const table = new PeerTable(options);
		// One voice alone is not believed, however many ids it uses on its connection...
		expect(table.admit(message('veteran', 5_000_000), 0, 0, 'tcp://a')).toEqual({admitted: false, reason: 'lamport-jump'});
		expect(table.admit(message('alias', 5_000_001), 1, 0, 'tcp://a')).toEqual({admitted: false, reason: 'lamport-jump'});
		// ...a second peer on another connection that agrees is.
		expect(table.admit(message('elder', 5_000_040), 2, 0, 'tcp://b')).toMatchObject({admitted: true, change: 'joined'});
		const clock = observe(0, 5_000_040);
		// The first one's next message, a tick later, is no leap any more.
		expect(table.admit(message('veteran', 5_000_050), 100, clock, 'tcp://a')).toMatchObject({admitted: true, change: 'joined'});
	});

	it('lets a node whose only peer is far ahead adopt its time from its second message, not from a burst', () => {
		const table = new PeerTable(options);
		expect(table.admit(message('only', 5_000_000), 0, 0, 'tcp://a')).toMatchObject({admitted: false, reason: 'lamport-jump'});
		expect(table.admit(message('only', 5_000_001), 1, 0, 'tcp://a')).toMatchObject({admitted: false, reason: 'lamport-jump'});
		expect(table.admit(message('only', 5_000_002), 1 + MIN_PERSISTENCE_MS, 0, 'tcp://a')).toMatchObject({admitted: true});
	});

	it('refuses any Lamport time over 2^52, to a lone node and from a known peer', () => {
		const table = new PeerTable(options);
		expect(table.admit(message('x', Number.MAX_SAFE_INTEGER), 0, 0, 'tcp://a')).toEqual({admitted: false, reason: 'lamport-jump'});
		expect(table.admit(message('y', MAX_LAMPORT_TIME + 1), 0, 0, 'tcp://b')).toEqual({admitted: false, reason: 'lamport-jump'});
		// Not even two sources make it so, nor one that persists.
		expect(table.admit(message('x', MAX_LAMPORT_TIME + 2), 1000, 0, 'tcp://a')).toEqual({admitted: false, reason: 'lamport-jump'});
		table.admit(message('near', MAX_LAMPORT_TIME - 10), 2000, MAX_LAMPORT_TIME - 20, 'tcp://c');
		expect(table.admit(message('near', MAX_LAMPORT_TIME + 1), 2001, MAX_LAMPORT_TIME - 9, 'tcp://c')).toMatchObject({
			admitted: false,
			reason: 'lamport-jump',
			quarantined: {id: 'near'},
		});
	});

	it('in a live mesh, refuses one message a million ahead, and leaps past the jump bound even with two voices', () => {
		const table = new PeerTable(options);
		table.admit(message('b', 100), 0, 0, 'tcp://b');
		table.admit(message('c', 101), 0, 101, 'tcp://c');
		const clock = 102;
		expect(table.admit(message('evil', clock + 1_000_000), 10, clock, 'tcp://evil')).toEqual({admitted: false, reason: 'lamport-jump'});
		// A live peer that leaps (where no one else claims to be) is quarantined until its next sound message.
		expect(table.admit(message('b', clock + 600_000), 11, clock, 'tcp://b')).toMatchObject({reason: 'lamport-jump', quarantined: {id: 'b'}});
		expect(table.admit(message('b', clock + 1), 12, clock, 'tcp://b')).toMatchObject({admitted: true});
		// A step a live mesh can take between two messages passes at once.
		expect(table.admit(message('c', clock + MAX_UNWITNESSED_STEP), 13, clock, 'tcp://c')).toMatchObject({admitted: true});
		// Past the jump bound, a second voice does not help while live peers speak.
		const later = clock + MAX_UNWITNESSED_STEP + 1;
		expect(table.admit(message('d', later + 2_000_000), 14, later, 'tcp://d')).toMatchObject({admitted: false});
		expect(table.admit(message('e', later + 2_000_000), 15, later, 'tcp://e')).toMatchObject({admitted: false});
		// Within it, two connections that agree (a healed partition) are believed.
		expect(table.admit(message('f', later + 500_000), 16, later, 'tcp://f')).toMatchObject({admitted: false});
		expect(table.admit(message('g', later + 500_010), 17, later, 'tcp://g')).toMatchObject({admitted: true});
	});

	it('quarantines a peer for a leap only when it came through the peer\'s own link: a spoofer cannot', () => {
		const table = new PeerTable(options);
		table.admit(message('genuine', 10), 0, 0, 'tcp://genuine');
		expect(table.admit(message('genuine', 600_000), 1, 11, 'tcp://spoofer')).toEqual({admitted: false, reason: 'lamport-jump'});
		expect(table.stateOf(table.get('genuine')!, 2)).toBe('alive');
		expect(table.admit(message('genuine', 600_000), 3, 11, 'tcp://genuine')).toMatchObject({quarantined: {id: 'genuine'}});
		expect(table.stateOf(table.get('genuine')!, 4)).toBe('quarantined');
	});

	it('forgets claims after the TTL: an old leap witnesses nothing', () => {
		const table = new PeerTable(options);
		table.admit(message('a', 5_000_000), 0, 0, 'tcp://a');
		table.sweep(options.ttlMs + 1);
		expect(table.admit(message('b', 5_000_000), options.ttlMs + 2, 0, 'tcp://b')).toMatchObject({admitted: false});
	});

	it('one connection alone never moves a clock by more than the unwitnessed step per message in a burst, whatever it sends and under whatever ids', () => {
		const sent = fc.record({
			id: fc.constantFrom('a', 'b', 'c'),
			lamportTime: fc.oneof(fc.nat({max: 50_000}), fc.nat({max: Number.MAX_SAFE_INTEGER})),
			incarnation: fc.nat({max: 3}),
			afterMs: fc.nat({max: 1}),
		});
		fc.assert(
			// All within MIN_PERSISTENCE_MS: a burst, which is no persistence.
			fc.property(fc.array(sent, {maxLength: MIN_PERSISTENCE_MS - 1}), (messages) => {
				const table = new PeerTable(options);
				let clock = 0;
				let nowMs = 0;
				for (const {id, lamportTime, incarnation, afterMs} of messages) {
					nowMs += afterMs;
					if (table.admit(message(id, lamportTime, incarnation), nowMs, clock, 'tcp://one').admitted) {
						const next = observe(clock, lamportTime);
						expect(next - clock).toBeLessThanOrEqual(MAX_UNWITNESSED_STEP + 1);
						clock = next;
					}
				}
			}),
		);
	});
});

describe('incarnations from the future', () => {
	const wall = 1_764_130_000_000;

	it('refuses one more than a day ahead of our wall clock, and it never touches the genuine peer', () => {
		const table = new PeerTable({...options, wallClockOffsetMs: wall});
		expect(table.admit(message('p', 10, wall - 5000), 0, 0)).toMatchObject({admitted: true});
		expect(table.admit(message('p', 11, Number.MAX_SAFE_INTEGER), 100, 11)).toEqual({admitted: false, reason: 'incarnation-ahead'});
		expect(table.admit(message('p', 12, wall + 100 + MAX_INCARNATION_AHEAD_MS + 1), 100, 11)).toEqual({
			admitted: false,
			reason: 'incarnation-ahead',
		});
		expect(table.stateOf(table.get('p')!, 101)).toBe('alive');
		expect(table.get('p')).toMatchObject({incarnation: wall - 5000, lamportTime: 10});
		expect(table.admit(message('p', 13, wall - 5000), 200, 12)).toMatchObject({admitted: true, change: 'updated'});
		// A day ahead exactly is a clock that is off, not a forgery: still admitted.
		expect(table.admit(message('q', 1, wall + 300 + MAX_INCARNATION_AHEAD_MS), 300, 14)).toMatchObject({admitted: true});
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
