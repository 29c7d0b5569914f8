/**
The mesh's dynamics without the network: 50 nodes each ticking at its own instants (staggered
within the period, as real nodes are), each coupling through `peerAtInstant` to its peers' latest
messages and stepping with `instantStep`, against the ideal all-to-all RK4 simulation of the same
oscillators (the fidelity benchmark's reference). Pure and seeded: virtual time, no sockets, no
sleeps. It tells a bias of the step (the mesh's r or Ω off the reference for every population)
from the dependence of one trajectory on its start (issue 15).
*/

import {describe, expect, it} from 'vitest';
import {instantStep, step, wrapPhase, type PeerAtInstant} from '../../../source/mesh/model/kuramoto.js';
import {PeerMotion, peerAtInstant} from '../../../source/mesh/model/phase-estimator.js';
import {seededUniform} from '../../../source/mesh/model/random.js';
import {meanField, observe, population, simulateReference, type Observation} from '../../../bench/lib/reference-kuramoto.js';

type Scheme = 'instant' | 'euler-before-issue-15';
type Emulation = {
	omegasRadPerS: number[];
	initialPhasesRad: number[];
	coupling: number;
	hz: number;
	fromS: number;
	toS: number;
	scheme?: Scheme;
	/** False: each peer coupled at its phase as last heard, not carried to the instant. */
	carry?: boolean;
	seed: number;
};

/**
Every node ticks every period from its own offset; a message is read at the reader's first tick after
it was sent (the arrival time the node records). Every node has its peers' initial phases at t = 0,
as the reference does (the bench starts its reference where the mesh is coupled for the same reason).
r and Ω are sampled every 200 ms, each phase carried from its node's latest tick by that
node's velocity over its latest step.
*/
function emulate(options: Emulation): Observation {
	const {omegasRadPerS: omegas, coupling, hz, scheme = 'instant', carry = true} = options;
	const n = omegas.length;
	const periodMs = 1000 / hz;
	const random = seededUniform(options.seed);
	const offsetsMs = omegas.map(() => random() * periodMs);
	const phases = [...options.initialPhasesRad];
	const velocities = [...omegas];
	const lastTickMs = omegas.map(() => 0);
	// What each node published: [sentMs, phase] in order; the reader keeps how far it has read.
	const published: Array<Array<[number, number]>> = phases.map((phase) => [[0, phase]]);
	const readUpTo = phases.map(() => phases.map(() => 0));
	const motions = phases.map(() => phases.map(() => new PeerMotion()));
	const latest = phases.map(() => phases.map(() => ({phaseRad: 0, lastSeenMs: Number.NaN})));
	const ticks: Array<[number, number]> = [];
	for (let node = 0; node < n; node++) {
		for (let atMs = offsetsMs[node]! + periodMs; atMs <= options.toS * 1000 + periodMs; atMs += periodMs) {
			ticks.push([atMs, node]);
		}
	}

	ticks.sort((a, b) => a[0] - b[0]);
	const times: number[] = [];
	const r: number[] = [];
	const psi: number[] = [];
	let nextSampleMs = options.fromS * 1000;
	const phasesAt = (atMs: number) => phases.map((phase, index) => phase + (velocities[index]! * (atMs - lastTickMs[index]!)) / 1000);
	for (const [nowMs, node] of ticks) {
		for (; nextSampleMs < nowMs && nextSampleMs <= options.toS * 1000 + 1e-6; nextSampleMs += 200) {
			const field = meanField(phasesAt(nextSampleMs));
			times.push(nextSampleMs / 1000);
			r.push(field.r);
			psi.push(field.psiRad);
		}

		const coupled: PeerAtInstant[] = [];
		const before: Array<{phaseRad: number; omegaRadPerS: number; ageS: number; weight: number}> = [];
		for (let peer = 0; peer < n; peer++) {
			if (peer === node) {
				continue;
			}

			const messages = published[peer]!;
			const seen = latest[node]![peer]!;
			for (let index = readUpTo[node]![peer]!; index < messages.length; index++) {
				const [sentMs, phase] = messages[index]!;
				motions[node]![peer]!.observe(1, phase, sentMs, nowMs, omegas[peer]);
				seen.phaseRad = phase;
				seen.lastSeenMs = nowMs;
			}

			readUpTo[node]![peer] = messages.length;
			if (Number.isNaN(seen.lastSeenMs)) {
				continue;
			}

			const observed = {...seen, omegaRadPerS: omegas[peer], weight: 1, motion: motions[node]![peer]!};
			coupled.push(carry ? peerAtInstant(observed, nowMs, periodMs) : {phaseRad: seen.phaseRad, velocityRadPerS: 0, weight: 1});
			// The node before issue 15: the peer's phase aged by its announced ω from when it came off our queue (now).
			before.push({phaseRad: seen.phaseRad, omegaRadPerS: omegas[peer]!, ageS: (nowMs - seen.lastSeenMs) / 1000, weight: 1});
		}

		const dtS = (nowMs - lastTickMs[node]!) / 1000;
		const common = {phaseRad: phases[node]!, omegaRadPerS: omegas[node]!, coupling, noiseSigma: 0, dtS, xi: 0};
		const next = scheme === 'instant' ? instantStep({...common, peers: coupled}) : step({...common, peers: before});
		const expected = omegas[node]! * dtS;
		velocities[node] = (expected + wrapPhase(next - phases[node]! - expected)) / dtS;
		phases[node] = next;
		lastTickMs[node] = nowMs;
		published[node]!.push([nowMs, next]);
	}

	return observe(times, r, psi);
}

function reference({omegasRadPerS, initialPhasesRad, coupling, fromS, toS}: Emulation): Observation {
	return simulateReference({omegasRadPerS, initialPhasesRad, coupling, dtS: 0.01, fromS, toS, sampleEveryS: 0.2});
}

/** 20 nodes (the bench runs 50; the step's accuracy does not depend on N, and 20 keeps the test fast), 5 s after 5 s. */
function setup(seed: number, coupling: number, hz: number, scheme?: Scheme): Emulation {
	return {...population(20, seed), coupling, hz, fromS: 5, toS: 10, scheme, seed};
}

describe('the mesh step over staggered nodes, against RK4', () => {
	it.each([
		[0.5, 10, [3000, 3001, 3002]],
		[0.8, 10, [3000, 3001]],
		[0.8, 5, [3000]],
		[0.8, 20, [3000]],
	])('coupled from t = 0 at K = %s and %s Hz, seeds %j: it follows the reference seed by seed, r within 0.005 and Ω within a thousandth', (coupling, hz, seeds) => {
		for (const seed of seeds) {
			const options = setup(seed, coupling, hz);
			const mesh = emulate(options);
			const ideal = reference(options);
			expect(Math.abs(mesh.rMean - ideal.rMean), `seed ${seed}`).toBeLessThan(0.005);
			expect(Math.abs(mesh.omegaRadPerS - ideal.omegaRadPerS) / ideal.omegaRadPerS, `seed ${seed}`).toBeLessThan(0.001);
		}
	});

	it('the step before issue 15 (Euler, peers aged from our read) fails the same check: Ω runs fast', () => {
		const options = setup(3000, 1, 10, 'euler-before-issue-15');
		const mesh = emulate(options);
		const ideal = reference(options);
		expect((mesh.omegaRadPerS - ideal.omegaRadPerS) / ideal.omegaRadPerS).toBeGreaterThan(0.02);
	});

	it('without the stagger carried (each peer taken as last heard), the same check fails', () => {
		// The sensitivity of the check itself: peers' phases not carried to the instant lag by up to a period.
		const options = setup(3000, 0.8, 5);
		const mesh = emulate({...options, carry: false});
		const ideal = reference(options);
		expect(Math.abs(mesh.omegaRadPerS - ideal.omegaRadPerS) / ideal.omegaRadPerS).toBeGreaterThan(0.001);
	});
});
