/**
Kuramoto phase dynamics. Pure functions: time steps and random draws are arguments.
*/

const TWO_PI = 2 * Math.PI;

/** Wrap an angle into (−π, π]. */
export function wrapPhase(phaseRad: number): number {
	let wrapped = phaseRad % TWO_PI; // In (−2π, 2π).
	if (wrapped <= -Math.PI) {
		wrapped += TWO_PI;
	} else if (wrapped > Math.PI) {
		wrapped -= TWO_PI;
	}

	return wrapped;
}

/** The signed difference `to − from`, wrapped into (−π, π]. */
export function phaseDifference(fromRad: number, toRad: number): number {
	return wrapPhase(toRad - fromRad);
}

/** One standard normal draw from two uniform draws in [0, 1) (Box–Muller). */
export function standardNormal(uniform: () => number): number {
	// 1 − u keeps the logarithm's argument in (0, 1].
	const u1 = 1 - uniform();
	const u2 = uniform();
	return Math.sqrt(-2 * Math.log(u1)) * Math.cos(TWO_PI * u2);
}

export type CoupledPeer = {
	phaseRad: number;
	/** The peer's natural frequency, when it announced one; enables delay compensation. */
	omegaRadPerS?: number;
	/** Seconds since the peer's phase was received. */
	ageS: number;
	/** Coupling weight in [0, 1]. */
	weight: number;
};

export type StepInput = {
	phaseRad: number;
	omegaRadPerS: number;
	coupling: number;
	noiseSigma: number;
	/** Measured seconds since the previous step. */
	dtS: number;
	peers: readonly CoupledPeer[];
	/** One standard normal draw, ξ ~ N(0, 1). */
	xi: number;
};

/**
The peer's phase extrapolated to now: a phase received `ageS` ago has since advanced by ω·age, so
coupling to the raw value would pull toward the past.
*/
export function estimatedPeerPhase(peer: CoupledPeer): number {
	return peer.omegaRadPerS === undefined ? peer.phaseRad : peer.phaseRad + peer.omegaRadPerS * peer.ageS;
}

/**
One Euler–Maruyama step:
θ ← θ + ω·dt + (K/N)·Σ wj·sin(θ̂j − θ)·dt + σ·√dt·ξ, with N = peers + 1. The result is wrapped.

The node's step before issue 15, kept as the plain form of the model; the node now uses
`instantStep`, which compares phases at one instant.
*/
export function step(input: StepInput): number {
	const {phaseRad, omegaRadPerS, coupling, noiseSigma, dtS, peers, xi} = input;
	let pull = 0;
	for (const peer of peers) {
		pull += peer.weight * Math.sin(estimatedPeerPhase(peer) - phaseRad);
	}

	const n = peers.length + 1;
	const next = phaseRad + omegaRadPerS * dtS + (coupling / n) * pull * dtS + noiseSigma * Math.sqrt(dtS) * xi;
	return wrapPhase(next);
}

/**
A peer as seen from one step: its phase estimated at the step's end (our `now`), and the velocity
that carries that estimate back to the step's start. Both ends of the step then compare our phase
and the peer's at the same instant.
*/
export type PeerAtInstant = {
	phaseRad: number;
	velocityRadPerS: number;
	/** Coupling weight in [0, 1]. */
	weight: number;
};

export type InstantStepInput = {
	/** Our phase at the step's start. */
	phaseRad: number;
	omegaRadPerS: number;
	coupling: number;
	noiseSigma: number;
	/** Measured seconds since the previous step. */
	dtS: number;
	peers: readonly PeerAtInstant[];
	/** One standard normal draw, ξ ~ N(0, 1). */
	xi: number;
};

/**
One stochastic Heun step (predictor–corrector) of dθ = [ω + (K/N)·Σ wj·sin(θj − θ)]·dt + σ·dW, with
N = peers + 1, every sine taken between our phase and a peer's at the same instant: at the step's
start (peer phases carried back by their velocity) and at its end (our predicted phase). Euler with
our phase at the start against peers' phases at the end leads every peer by Ω·dt, a phase lag that
makes the collective frequency run fast by about K·r²·sin(Ω·dt)/2. The result is wrapped.
*/
export function instantStep(input: InstantStepInput): number {
	const {phaseRad, omegaRadPerS, coupling, noiseSigma, dtS, peers, xi} = input;
	const scale = coupling / (peers.length + 1);
	let pullAtStart = 0;
	for (const peer of peers) {
		pullAtStart += peer.weight * Math.sin(peer.phaseRad - peer.velocityRadPerS * dtS - phaseRad);
	}

	const driftAtStart = omegaRadPerS + scale * pullAtStart;
	// Additive noise: the same increment in the predictor and the corrector.
	const noise = noiseSigma * Math.sqrt(dtS) * xi;
	const predicted = phaseRad + driftAtStart * dtS + noise;
	let pullAtEnd = 0;
	for (const peer of peers) {
		pullAtEnd += peer.weight * Math.sin(peer.phaseRad - predicted);
	}

	const driftAtEnd = omegaRadPerS + scale * pullAtEnd;
	return wrapPhase(phaseRad + ((driftAtStart + driftAtEnd) / 2) * dtS + noise);
}

/** The order parameter r = |mean of e^{iθ}|, from 0 (incoherent) to 1 (in step). */
export function orderParameter(phasesRad: Iterable<number>): number {
	let sumCos = 0;
	let sumSin = 0;
	let count = 0;
	for (const phase of phasesRad) {
		sumCos += Math.cos(phase);
		sumSin += Math.sin(phase);
		count++;
	}

	if (count === 0) {
		return 0;
	}

	return Math.hypot(sumCos, sumSin) / count;
}
