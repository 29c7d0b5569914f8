import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {
	estimatedPeerPhase,
	instantStep,
	orderParameter,
	phaseDifference,
	standardNormal,
	step,
	wrapPhase,
} from '../../../source/mesh/model/kuramoto.js';
import {seededUniform} from '../../../source/mesh/model/random.js';

const finite = fc.double({min: -1e9, max: 1e9, noNaN: true});

describe('wrapPhase', () => {
	it('keeps every finite phase in (−π, π]', () => {
		fc.assert(
			fc.property(finite, (phase) => {
				const wrapped = wrapPhase(phase);
				expect(wrapped).toBeGreaterThan(-Math.PI);
				expect(wrapped).toBeLessThanOrEqual(Math.PI);
			}),
		);
	});

	it('keeps the angle: cos and sin are unchanged', () => {
		fc.assert(
			fc.property(fc.double({min: -1000, max: 1000, noNaN: true}), (phase) => {
				const wrapped = wrapPhase(phase);
				expect(Math.cos(wrapped)).toBeCloseTo(Math.cos(phase), 6);
				expect(Math.sin(wrapped)).toBeCloseTo(Math.sin(phase), 6);
			}),
		);
	});

	it('maps −π to π and leaves π alone', () => {
		expect(wrapPhase(-Math.PI)).toBe(Math.PI);
		expect(wrapPhase(Math.PI)).toBe(Math.PI);
		expect(wrapPhase(3 * Math.PI)).toBeCloseTo(Math.PI, 12);
	});

	it('phase differences wrap the short way round', () => {
		expect(phaseDifference(3, -3)).toBeCloseTo(2 * Math.PI - 6, 12);
		expect(phaseDifference(-3, 3)).toBeCloseTo(6 - 2 * Math.PI, 12);
	});
});

describe('step', () => {
	const base = {phaseRad: 0, omegaRadPerS: 0, coupling: 2.5, noiseSigma: 0, dtS: 0.1, peers: [], xi: 0};

	it('advances by ω·dt when alone and noiseless', () => {
		expect(step({...base, omegaRadPerS: Math.PI, dtS: 0.1})).toBeCloseTo(Math.PI * 0.1, 12);
	});

	it('pulls toward a peer ahead, scaled by K/N and the weight', () => {
		const peer = {phaseRad: 0.5, ageS: 0, weight: 1};
		const expected = (2.5 / 2) * Math.sin(0.5) * 0.1;
		expect(step({...base, peers: [peer]})).toBeCloseTo(expected, 12);
		expect(step({...base, peers: [{...peer, weight: 0}]})).toBe(0);
	});

	it('compensates a peer\'s delay with its announced ω', () => {
		expect(estimatedPeerPhase({phaseRad: 1, omegaRadPerS: 2, ageS: 0.25, weight: 1})).toBeCloseTo(1.5, 12);
		expect(estimatedPeerPhase({phaseRad: 1, ageS: 0.25, weight: 1})).toBe(1);
	});

	it('scales the noise with √dt', () => {
		expect(step({...base, noiseSigma: 0.5, dtS: 0.04, xi: 1})).toBeCloseTo(0.5 * 0.2, 12);
	});

	it('synchronises a population of oscillators (r rises above 0.95)', () => {
		const random = seededUniform(7);
		const omegas = Array.from({length: 8}, () => Math.PI + 0.3 * standardNormal(random));
		let phases = omegas.map(() => (random() * 2 - 1) * Math.PI);
		for (let tickIndex = 0; tickIndex < 200; tickIndex++) {
			const current = phases;
			phases = current.map((phase, index) =>
				step({
					phaseRad: phase,
					omegaRadPerS: omegas[index]!,
					coupling: 2.5,
					noiseSigma: 0.05,
					dtS: 0.1,
					peers: current.filter((_, other) => other !== index).map((phaseRad) => ({phaseRad, ageS: 0, weight: 1})),
					xi: standardNormal(random),
				}),
			);
		}

		expect(orderParameter(phases)).toBeGreaterThan(0.95);
	});
});

describe('instantStep', () => {
	const base = {phaseRad: 0, omegaRadPerS: 0, coupling: 2, noiseSigma: 0, dtS: 0.1, peers: [], xi: 0};

	it('advances by ω·dt when alone and noiseless', () => {
		expect(instantStep({...base, omegaRadPerS: Math.PI})).toBeCloseTo(Math.PI * 0.1, 12);
	});

	it('adds the noise once, scaled with √dt', () => {
		expect(instantStep({...base, noiseSigma: 0.5, dtS: 0.04, xi: 1})).toBeCloseTo(0.1, 12);
	});

	it('holds a locked pair still: both moving at Ω, no pull beyond the lock', () => {
		// Two oscillators ω 3 and 2, K 2: locked at Ω = 2.5 with sin Δ = Δω/K = 0.5.
		const delta = Math.asin(0.5);
		const next = instantStep({
			...base,
			omegaRadPerS: 2,
			phaseRad: 0,
			peers: [{phaseRad: delta + 2.5 * 0.1, velocityRadPerS: 2.5, weight: 1}],
		});
		expect(next).toBeCloseTo(0.25, 3);
	});

	it('is second order: halving dt cuts the error four times', () => {
		// One oscillator pulled toward a fixed peer: dθ/dt = sin(1 − θ); exact solution known.
		const exact = (t: number) => 1 - 2 * Math.atan(Math.tan(0.5) * Math.exp(-t));
		const errorWith = (dtS: number) => {
			let phase = 0;
			for (let step = 0; step < Math.round(1 / dtS); step++) {
				phase = instantStep({...base, coupling: 2, dtS, peers: [{phaseRad: 1, velocityRadPerS: 0, weight: 1}]});
				base.phaseRad = phase;
			}

			base.phaseRad = 0;
			return Math.abs(phase - exact(1));
		};

		const ratio = errorWith(0.1) / errorWith(0.05);
		expect(ratio).toBeGreaterThan(3.5);
		expect(ratio).toBeLessThan(4.5);
	});
});

describe('orderParameter', () => {
	it('is 1 for equal phases and near 0 for evenly spread ones', () => {
		expect(orderParameter([0.3, 0.3, 0.3])).toBeCloseTo(1, 12);
		expect(orderParameter([0, (2 * Math.PI) / 3, (-2 * Math.PI) / 3])).toBeCloseTo(0, 12);
		expect(orderParameter([])).toBe(0);
	});

	it('stays in [0, 1]', () => {
		fc.assert(
			fc.property(fc.array(finite, {minLength: 1, maxLength: 50}), (phases) => {
				const r = orderParameter(phases);
				expect(r).toBeGreaterThanOrEqual(0);
				expect(r).toBeLessThanOrEqual(1 + 1e-12);
			}),
		);
	});
});

describe('standardNormal', () => {
	it('has mean near 0 and variance near 1 for a seeded generator', () => {
		const random = seededUniform(42);
		const draws = Array.from({length: 20_000}, () => standardNormal(random));
		const mean = draws.reduce((sum, x) => sum + x, 0) / draws.length;
		const variance = draws.reduce((sum, x) => sum + (x - mean) ** 2, 0) / draws.length;
		expect(Math.abs(mean)).toBeLessThan(0.05);
		expect(Math.abs(variance - 1)).toBeLessThan(0.05);
		expect(draws.every(Number.isFinite)).toBe(true);
	});
});
