/**
The yardsticks the fidelity benchmark holds the mesh against: an ideal all-to-all Kuramoto
simulation (RK4, fixed dt, every oscillator sees every other at the same instant, no delay) with
the mesh's own normalisation, and the infinite-N self-consistency curve for Gaussian frequencies.
*/

import {standardNormal} from '../../source/mesh/model/kuramoto.js';
import {seededUniform} from '../../source/mesh/model/random.js';

/** ω_i = base + spread·x_i with x_i standard normal, and initial phases uniform in (−π, π], from one seed. */
export function population(n: number, seed: number, baseRadPerS = Math.PI, spreadRadPerS = 0.3): {omegasRadPerS: number[]; initialPhasesRad: number[]} {
	const random = seededUniform(seed);
	const omegasRadPerS = Array.from({length: n}, () => baseRadPerS + spreadRadPerS * standardNormal(random));
	const initialPhasesRad = omegasRadPerS.map(() => (random() * 2 - 1) * Math.PI);
	return {omegasRadPerS, initialPhasesRad};
}

export type Observation = {
	/** Mean and standard deviation of the order parameter r over the window. */
	rMean: number;
	rStd: number;
	/** Collective frequency: the slope of the mean-field phase ψ, unwrapped, over the window. */
	omegaRadPerS: number;
};

/** Summarise r and ψ sampled at `timesS` (the window only). */
export function observe(timesS: readonly number[], r: readonly number[], psiRad: readonly number[]): Observation {
	const n = r.length;
	const rMean = r.reduce((sum, value) => sum + value, 0) / n;
	const rStd = Math.sqrt(r.reduce((sum, value) => sum + (value - rMean) ** 2, 0) / n);
	// Unwrap ψ sample to sample (a sample is well under half a turn apart), then least squares.
	const unwrapped: number[] = [];
	for (const [index, psi] of psiRad.entries()) {
		if (index === 0) {
			unwrapped.push(psi);
		} else {
			const step = psi - psiRad[index - 1]!;
			unwrapped.push(unwrapped[index - 1]! + Math.atan2(Math.sin(step), Math.cos(step)));
		}
	}

	const meanT = timesS.reduce((sum, value) => sum + value, 0) / n;
	const meanPsi = unwrapped.reduce((sum, value) => sum + value, 0) / n;
	let covariance = 0;
	let variance = 0;
	for (let index = 0; index < n; index++) {
		covariance += (timesS[index]! - meanT) * (unwrapped[index]! - meanPsi);
		variance += (timesS[index]! - meanT) ** 2;
	}

	return {rMean, rStd, omegaRadPerS: covariance / variance};
}

/** r and ψ of a set of phases. */
export function meanField(phasesRad: ArrayLike<number>): {r: number; psiRad: number} {
	let sumCos = 0;
	let sumSin = 0;
	for (let index = 0; index < phasesRad.length; index++) {
		sumCos += Math.cos(phasesRad[index]!);
		sumSin += Math.sin(phasesRad[index]!);
	}

	return {r: Math.hypot(sumCos, sumSin) / phasesRad.length, psiRad: Math.atan2(sumSin, sumCos)};
}

/**
dθi/dt = ωi + (K/N)·Σj sin(θj − θi), N counting i itself (the mesh's normalisation, N = peers + 1),
integrated with RK4 at `dtS` from `initialPhasesRad`; r and ψ are sampled every `sampleEveryS`
from `fromS` to `toS`.
*/
export function simulateReference(options: {
	omegasRadPerS: readonly number[];
	initialPhasesRad: readonly number[];
	coupling: number;
	dtS: number;
	fromS: number;
	toS: number;
	sampleEveryS: number;
}): Observation {
	const {omegasRadPerS: omegas, coupling, dtS} = options;
	const n = omegas.length;
	let phases = Float64Array.from(options.initialPhasesRad);
	const derivative = (theta: Float64Array): Float64Array => {
		// Σj sin(θj − θi) = C·sin(... ) through the mean field: O(N) per evaluation.
		let sumCos = 0;
		let sumSin = 0;
		for (let index = 0; index < n; index++) {
			sumCos += Math.cos(theta[index]!);
			sumSin += Math.sin(theta[index]!);
		}

		const out = new Float64Array(n);
		for (let index = 0; index < n; index++) {
			const pull = sumSin * Math.cos(theta[index]!) - sumCos * Math.sin(theta[index]!);
			out[index] = omegas[index]! + (coupling / n) * pull;
		}

		return out;
	};

	const shifted = (theta: Float64Array, slope: Float64Array, by: number): Float64Array => {
		const out = new Float64Array(n);
		for (let index = 0; index < n; index++) {
			out[index] = theta[index]! + by * slope[index]!;
		}

		return out;
	};

	const times: number[] = [];
	const rs: number[] = [];
	const psis: number[] = [];
	const steps = Math.round(options.toS / dtS);
	const sampleEvery = Math.round(options.sampleEveryS / dtS);
	for (let step = 0; step <= steps; step++) {
		const t = step * dtS;
		if (step % sampleEvery === 0 && t >= options.fromS - 1e-9) {
			const {r, psiRad} = meanField(phases);
			times.push(t);
			rs.push(r);
			psis.push(psiRad);
		}

		const k1 = derivative(phases);
		const k2 = derivative(shifted(phases, k1, dtS / 2));
		const k3 = derivative(shifted(phases, k2, dtS / 2));
		const k4 = derivative(shifted(phases, k3, dtS));
		const next = new Float64Array(n);
		for (let index = 0; index < n; index++) {
			next[index] = phases[index]! + (dtS / 6) * (k1[index]! + 2 * k2[index]! + 2 * k3[index]! + k4[index]!);
		}

		phases = next;
	}

	return observe(times, rs, psis);
}

/** The critical coupling of the infinite-N model for ω ~ N(ω̄, s²): Kc = 2/(π·g(0)) = s·√(8/π). */
export function criticalCoupling(spreadRadPerS: number): number {
	return spreadRadPerS * Math.sqrt(8 / Math.PI);
}

/**
The infinite-N order parameter for ω ~ N(ω̄, s²): the r > 0 solving
r = K·r·∫ cos²φ·g(K·r·sin φ) dφ over (−π/2, π/2) (the locked oscillators; the drifting ones cancel
for a symmetric g), or 0 below Kc.
*/
export function selfConsistentR(coupling: number, spreadRadPerS: number): number {
	if (coupling <= criticalCoupling(spreadRadPerS)) {
		return 0;
	}

	const gaussian = (omega: number) => Math.exp(-(omega ** 2) / (2 * spreadRadPerS ** 2)) / (spreadRadPerS * Math.sqrt(2 * Math.PI));
	// Right-hand side over r: K·∫cos²φ·g(Kr sin φ) dφ, decreasing in r; find where it equals 1.
	const ratio = (r: number) => {
		const steps = 2000;
		let sum = 0;
		for (let step = 0; step < steps; step++) {
			const phi = -Math.PI / 2 + ((step + 0.5) * Math.PI) / steps;
			sum += Math.cos(phi) ** 2 * gaussian(coupling * r * Math.sin(phi));
		}

		return (coupling * sum * Math.PI) / steps;
	};

	let low = 0;
	let high = 1;
	for (let iteration = 0; iteration < 60; iteration++) {
		const middle = (low + high) / 2;
		if (ratio(middle) > 1) {
			low = middle;
		} else {
			high = middle;
		}
	}

	return (low + high) / 2;
}

/** Where a curve sampled at increasing `xs` first crosses `level` (linear between samples); NaN if never. */
export function crossing(xs: readonly number[], ys: readonly number[], level: number): number {
	for (let index = 1; index < xs.length; index++) {
		const before = ys[index - 1]!;
		const after = ys[index]!;
		if (before < level && after >= level) {
			return xs[index - 1]! + ((level - before) / (after - before)) * (xs[index]! - xs[index - 1]!);
		}
	}

	return Number.NaN;
}
