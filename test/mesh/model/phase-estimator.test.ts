import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {instantStep, orderParameter, standardNormal, wrapPhase} from '../../../source/mesh/model/kuramoto.js';
import {OFFSET_WINDOW, PeerMotion, VELOCITY_WINDOW, peerAtInstant, type ObservedPeer} from '../../../source/mesh/model/phase-estimator.js';
import {seededUniform} from '../../../source/mesh/model/random.js';

/** A peer record as the peer table keeps it, fed one message at a time. */
function observedPeer(omegaRadPerS?: number): ObservedPeer & {receive: (phaseRad: number, sentMs: number | undefined, arrivalMs: number, incarnation?: number) => void} {
	const peer = {
		phaseRad: 0,
		omegaRadPerS,
		lastSeenMs: 0,
		weight: 1,
		motion: new PeerMotion(),
		receive(phaseRad: number, sentMs: number | undefined, arrivalMs: number, incarnation = 1) {
			peer.phaseRad = phaseRad;
			peer.lastSeenMs = arrivalMs;
			peer.motion.observe(incarnation, phaseRad, sentMs, arrivalMs, omegaRadPerS);
		},
	};
	return peer;
}

describe('PeerMotion', () => {
	it('reads the phase velocity from the send times, whatever the arrival jitter', () => {
		const peer = observedPeer(3);
		const random = seededUniform(3);
		for (let index = 0; index < 20; index++) {
			const sentMs = 1_000_000 + index * 100;
			peer.receive(wrapPhase(2.5 * index * 0.1), sentMs, 5 + index * 100 + random() * 60);
		}

		// The announced ω is 3; the phase moves at 2.5, which is what counts.
		expect(peer.motion.velocityRadPerS()).toBeCloseTo(2.5, 9);
	});

	it('unwraps around the announced ω, so a phase moving more than π between messages reads right', () => {
		const peer = observedPeer(4);
		for (let index = 0; index < 10; index++) {
			peer.receive(wrapPhase(4.2 * index), index * 1000, index * 1000);
		}

		expect(peer.motion.velocityRadPerS()).toBeCloseTo(4.2, 9);
	});

	it('shrugs off one outlier (the median)', () => {
		const peer = observedPeer(3);
		for (let index = 0; index < 8; index++) {
			peer.receive(wrapPhase(3 * index * 0.1 + (index === 5 ? 0.4 : 0)), index * 100, index * 100);
		}

		expect(peer.motion.velocityRadPerS()).toBeCloseTo(3, 9);
	});

	it('takes the median of the last slopes, odd or even in number, in any order', () => {
		// Steps of 100 ms with small phase advances (no wrap): each slope is advance / 0.1 s.
		fc.assert(fc.property(fc.array(fc.double({min: -0.3, max: 0.3, noNaN: true}), {minLength: 1, maxLength: 12}), (advances) => {
			const peer = observedPeer(0);
			let phase = 0;
			peer.receive(phase, 0, 0);
			for (const [index, advance] of advances.entries()) {
				phase += advance;
				peer.receive(wrapPhase(phase), (index + 1) * 100, (index + 1) * 100);
			}

			const slopes = advances.slice(-(VELOCITY_WINDOW - 1)).map((advance) => advance / 0.1).sort((a, b) => a - b);
			const middle = slopes.length >> 1;
			const median = slopes.length % 2 === 1 ? slopes[middle]! : (slopes[middle - 1]! + slopes[middle]!) / 2;
			expect(peer.motion.velocityRadPerS()).toBeCloseTo(median, 9);
		}));
	});

	it('starts over on a new incarnation and on a message without a send time', () => {
		const peer = observedPeer(3);
		peer.receive(0, 0, 10);
		peer.receive(0.3, 100, 110);
		expect(peer.motion.size).toBe(2);
		peer.receive(1, 200, 210, 2);
		expect(peer.motion.size).toBe(1);
		expect(peer.motion.velocityRadPerS()).toBeUndefined();
		peer.receive(1.3, undefined, 310, 2);
		expect(peer.motion.size).toBe(0);
		expect(peer.motion.clockOffsetMs(100)).toBeUndefined();
	});

	it('takes a host clock offset out of the age: the minimum of (arrival − send)', () => {
		// The sender's clock is 1 h ahead of ours, a 3 ms network delay, and our tick reads the queue
		// at a drifting point of the sender's period: the estimate is the offset plus the 3 ms.
		const peer = observedPeer(3);
		const offsetMs = -3_600_000;
		for (let index = 0; index < OFFSET_WINDOW; index++) {
			const sentOurClockMs = index * 100;
			const queueWaitMs = (index * 37) % 100;
			peer.receive(0, sentOurClockMs - offsetMs, sentOurClockMs + 3 + queueWaitMs);
		}

		expect(Math.abs(peer.motion.clockOffsetMs(100)! - offsetMs - 3)).toBeLessThanOrEqual(3);
	});

	it('with ticks in lockstep, takes clocks to agree when the bounds allow it', () => {
		// Our tick reads every message of this peer 70 ms after it was sent, always: the offset is
		// anywhere in [70 − 100, 70], and 0 is in there.
		const peer = observedPeer(3);
		for (let index = 0; index < 30; index++) {
			peer.receive(0, index * 100, index * 100 + 70);
		}

		expect(peer.motion.clockOffsetMs(100)).toBeCloseTo(0, 12);
	});

	it('with ticks in lockstep and a clock 5 s ahead, takes the middle of the bounds', () => {
		const peer = observedPeer(3);
		for (let index = 0; index < 30; index++) {
			peer.receive(0, 5000 + index * 100, index * 100 + 70);
		}

		// Anywhere in [−5030, −4930].
		expect(peer.motion.clockOffsetMs(100)).toBeCloseTo(-4980, 9);
	});

	it('bounds the wait with our previous read of the link, so a late tick does not move it', () => {
		// Sent every 100 ms; we read 10 ms after each, except one read 80 ms late. Same clock: the true
		// offset is 0, and the message read right after our late read pins it within [−10, 10].
		const peer = observedPeer(3);
		for (let index = 0; index < 10; index++) {
			peer.receive(0, index * 100, index * 100 + (index === 4 ? 90 : 10));
		}

		expect(peer.motion.clockOffsetMs(100)).toBeCloseTo(0, 12);
	});

	it('takes the middle of the bounds when they rule out agreeing clocks', () => {
		// Sent at 20, 120, …, read at 50, 150, …: zero is within [−70, 30]. From a host whose clock is
		// 1 s behind, the bounds are [930, 1030].
		const agreeing = observedPeer(3);
		const behind = observedPeer(3);
		for (let index = 0; index < 10; index++) {
			agreeing.receive(0, index * 100 + 20, index * 100 + 50);
			behind.receive(0, index * 100 + 20 - 1000, index * 100 + 50);
		}

		expect(agreeing.motion.clockOffsetMs(100)).toBeCloseTo(0, 12);
		expect(behind.motion.clockOffsetMs(100)).toBeCloseTo(980, 9);
	});

	it('counts messages read together as one read', () => {
		// Two messages found in one read (a sender twice our rate): the second did not come after the first was read.
		const peer = observedPeer(3);
		for (let index = 0; index < 10; index++) {
			peer.receive(0, index * 100, index * 100 + 60);
			peer.receive(0, index * 100 + 50, index * 100 + 60.01);
		}

		// Bounds: upper 10 (the second of each pair), lower 60 − 100 = −40 (each first, read after the previous read).
		expect(peer.motion.clockOffsetMs(100)).toBeCloseTo(0, 12);
	});
});

describe('peerAtInstant', () => {
	it('advances a stamped peer by its observed velocity for the time since it was sent', () => {
		const peer = observedPeer(3);
		// Sent every 100 ms, read 0–90 ms later (drifting), same clock: offset ≈ 0.
		for (let index = 0; index <= OFFSET_WINDOW; index++) {
			peer.receive(wrapPhase(2 * index * 0.1), index * 100, index * 100 + ((index * 30) % 100));
		}

		const lastSentMs = OFFSET_WINDOW * 100;
		const estimate = peerAtInstant(peer, lastSentMs + 250, 100);
		expect(estimate.velocityRadPerS).toBeCloseTo(2, 9);
		expect(wrapPhase(estimate.phaseRad - 2 * (lastSentMs + 250) / 1000)).toBeCloseTo(0, 9);
	});

	it('keeps the legacy estimate for a peer that sends no timestamp', () => {
		const withOmega = observedPeer(2);
		withOmega.receive(1, undefined, 1000);
		expect(peerAtInstant(withOmega, 1250, 100)).toEqual({phaseRad: 1.5, velocityRadPerS: 2, weight: 1});
		const python = observedPeer();
		python.receive(1, undefined, 1000);
		expect(peerAtInstant(python, 1250, 100)).toEqual({phaseRad: 1, velocityRadPerS: 0, weight: 1});
	});

	it('uses the announced ω until a second stamped message shows the velocity', () => {
		const peer = observedPeer(2);
		peer.receive(1, 500, 500);
		expect(peerAtInstant(peer, 600, 100).phaseRad).toBeCloseTo(1.2, 9);
	});
});

/**
A mesh simulated without sockets or sleeps: every node ticks at its own offset within the period,
publishes its phase stamped with its send time, and reads what arrived at its next tick (plus an
optional extra delay). The collective frequency must be ω̄, where Euler against peers' latest
phases ran fast (issue 15).
*/
function simulateMesh(options: {n: number; coupling: number; hz: number; extraDelayMs: number; seconds: number; seed: number; senderClockAheadMs: number}) {
	const random = seededUniform(options.seed);
	const omegas = Array.from({length: options.n}, () => Math.PI + 0.3 * standardNormal(random));
	const phases = omegas.map(() => (random() * 2 - 1) * Math.PI);
	const unwrapped = [...phases];
	const periodMs = 1000 / options.hz;
	const offsetsMs = omegas.map(() => random() * periodMs);
	// peers[i][j]: node i's record of node j; inbox[i]: messages published, not yet read.
	const peers = omegas.map(() => omegas.map(() => observedPeer(undefined)));
	const inbox: Array<Array<{from: number; phaseRad: number; sentMs: number}>> = omegas.map(() => []);
	const lastTickMs = offsetsMs.map((offset) => offset - periodMs);
	type Tick = {atMs: number; node: number};
	const ticks: Tick[] = [];
	for (let k = 0; k * periodMs < options.seconds * 1000; k++) {
		for (let node = 0; node < options.n; node++) {
			ticks.push({atMs: k * periodMs + offsetsMs[node]!, node});
		}
	}

	ticks.sort((a, b) => a.atMs - b.atMs);
	const startMs = options.seconds * 1000 * 0.6;
	let startPhases: number[] | undefined;
	for (const {atMs, node} of ticks) {
		if (startPhases === undefined && atMs >= startMs) {
			startPhases = [...unwrapped];
		}

		const due = inbox[node]!.filter((message) => message.sentMs + options.extraDelayMs <= atMs);
		inbox[node] = inbox[node]!.filter((message) => message.sentMs + options.extraDelayMs > atMs);
		for (const message of due) {
			// Arrival as the node stamps it: when its tick read the message, less the injected hold
			// (the node's delay fault stamps the time the message came off the socket).
			const readAtMs = atMs - options.extraDelayMs >= message.sentMs ? atMs - options.extraDelayMs : atMs;
			peers[node]![message.from]!.receive(message.phaseRad, message.sentMs + options.senderClockAheadMs, readAtMs);
		}

		const dtS = (atMs - lastTickMs[node]!) / 1000;
		lastTickMs[node] = atMs;
		const coupled = peers[node]!.filter((peer, other) => other !== node && peer.motion.size > 0).map((peer) => peerAtInstant(peer, atMs, periodMs));
		const next = instantStep({phaseRad: phases[node]!, omegaRadPerS: omegas[node]!, coupling: options.coupling, noiseSigma: 0, dtS, peers: coupled, xi: 0});
		unwrapped[node] = unwrapped[node]! + wrapPhase(next - phases[node]!);
		phases[node] = next;
		for (let other = 0; other < options.n; other++) {
			if (other !== node) {
				inbox[other]!.push({from: node, phaseRad: next, sentMs: atMs});
			}
		}
	}

	const spanS = options.seconds * 0.4;
	const frequencies = unwrapped.map((phase, index) => (phase - startPhases![index]!) / spanS);
	return {
		omegaBar: omegas.reduce((sum, omega) => sum + omega, 0) / options.n,
		collectiveRadPerS: frequencies.reduce((sum, value) => sum + value, 0) / options.n,
		r: orderParameter(phases),
	};
}

describe('a mesh simulated tick by tick (no sockets, no sleeps)', () => {
	it.each([5, 10, 20])('keeps the collective frequency at ω̄ within 0.1 percent at %i Hz, K 2.5, clocks agreeing', (hz) => {
		const {omegaBar, collectiveRadPerS, r} = simulateMesh({n: 20, coupling: 2.5, hz, extraDelayMs: 0, seconds: 30, seed: 11, senderClockAheadMs: 0});
		expect(r).toBeGreaterThan(0.9);
		expect(Math.abs(collectiveRadPerS / omegaBar - 1)).toBeLessThan(0.001);
	});

	it.each([5, 10, 20])('keeps it within 1 percent at %i Hz, K 2.5, every sender\'s clock hours ahead', (hz) => {
		const {omegaBar, collectiveRadPerS, r} = simulateMesh({n: 20, coupling: 2.5, hz, extraDelayMs: 0, seconds: 30, seed: 11, senderClockAheadMs: 1e7});
		expect(r).toBeGreaterThan(0.9);
		expect(Math.abs(collectiveRadPerS / omegaBar - 1)).toBeLessThan(0.01);
	});

	it('keeps it within 2 % with 200 ms of delay on every link', () => {
		const {omegaBar, collectiveRadPerS, r} = simulateMesh({n: 20, coupling: 2.5, hz: 10, extraDelayMs: 200, seconds: 30, seed: 11, senderClockAheadMs: 0});
		expect(r).toBeGreaterThan(0.9);
		expect(Math.abs(collectiveRadPerS / omegaBar - 1)).toBeLessThan(0.02);
	});
});
