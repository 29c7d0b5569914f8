/**
The optional send time (`sent_ms`) end to end in the pure core: on the wire, into the peer record's
motion, and out as a phase estimate. Legacy messages, which have none, change nothing.
*/

import {describe, expect, it} from 'vitest';
import {peerAtInstant} from '../../../source/mesh/model/phase-estimator.js';
import {PeerTable, type PeerTableOptions} from '../../../source/mesh/model/peer-table.js';
import {decode, encode, type WireMessage} from '../../../source/mesh/model/wire.js';

const state = {nodeId: 'a1', phaseRad: 0.5, lamportTime: 7, incarnation: 1000, omegaRadPerS: 3, hz: 10, endpoint: 'tcp://127.0.0.1:5555'};

describe('sent_ms on the wire', () => {
	it('is encoded when given and decoded back', () => {
		const frame = encode({...state, sentMs: 1_764_000_000_123.25});
		expect(JSON.parse(frame)).toMatchObject({sent_ms: 1_764_000_000_123.25});
		const decoded = decode(frame);
		expect(decoded.ok && decoded.message.sentMs).toBe(1_764_000_000_123.25);
	});

	it('is left out when not given, so the frame is what it was', () => {
		expect(encode(state)).not.toContain('sent_ms');
		const decoded = decode('{"node_id": "ee15c401", "phase": 0.0, "lamport_time": 64}');
		expect(decoded.ok && decoded.message.sentMs).toBeUndefined();
	});

	it('is refused when it is not a finite number', () => {
		expect(decode('{"node_id": "x", "phase": 0, "lamport_time": 1, "sent_ms": "soon"}')).toEqual({ok: false, reason: 'bad-type'});
		expect(decode('{"node_id": "x", "phase": 0, "lamport_time": 1, "sent_ms": 1e400}')).toEqual({ok: false, reason: 'non-finite'});
		expect(decode('{"node_id": "x", "phase": 0, "lamport_time": 1, "sent_ms": null}').ok).toBe(true);
	});
});

describe('the peer record keeps the motion of what its peer sends', () => {
	const options: PeerTableOptions = {ttlMs: 5000, evictionGraceMs: 3000, maxPeers: 1024, maxLamportJump: 1_000_000, wallClockOffsetMs: 0, legacyAdmission: false};
	const message = (lamportTime: number, phaseRad: number, sentMs?: number): WireMessage => ({nodeId: 'p', lamportTime, incarnation: 5, phaseRad, weight: 1, omegaRadPerS: 3, sentMs});

	it('feeds every admitted message, not a refused one, and estimates from them', () => {
		const table = new PeerTable(options);
		for (let index = 1; index <= 5; index++) {
			table.admit(message(index, 0.25 * index, 1_000_000 + index * 100), index * 100 + 5, index);
		}

		table.admit(message(3, 9, 2_000_000), 600, 6);
		const peer = table.get('p')!;
		expect(peer.motion.size).toBe(5);
		expect(peer.motion.velocityRadPerS()).toBeCloseTo(2.5, 9);
		// Our monotonic 0 is wall clock 1 000 000: the clocks agree, so the age is exact.
		const estimate = peerAtInstant(peer, 700, 100, 1_000_000);
		expect(estimate.phaseRad).toBeCloseTo(1.25 + 2.5 * 0.2, 9);
	});

	it('keeps the legacy estimate for a peer that sends no timestamp', () => {
		const table = new PeerTable(options);
		table.admit(message(1, 1), 1000, 1);
		const peer = table.get('p')!;
		expect(peer.motion.size).toBe(0);
		expect(peerAtInstant(peer, 1100, 100)).toEqual({phaseRad: 1 + 3 * 0.1, velocityRadPerS: 3, weight: 1});
	});
});
