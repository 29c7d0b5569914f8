/** Small statistics for benchmark samples. */

export function median(values: readonly number[]): number {
	return quantile(values, 0.5);
}

/** The q-quantile with linear interpolation; NaN for no samples. */
export function quantile(values: readonly number[], q: number): number {
	const finite = values.filter((value) => Number.isFinite(value));
	if (finite.length === 0) {
		return Number.NaN;
	}

	const sorted = [...finite].sort((a, b) => a - b);
	const position = (sorted.length - 1) * q;
	const lower = Math.floor(position);
	const upper = Math.ceil(position);
	return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (position - lower);
}

export function mean(values: readonly number[]): number {
	return values.length === 0 ? Number.NaN : values.reduce((sum, value) => sum + value, 0) / values.length;
}

export function round(value: number, digits = 0): number {
	const scale = 10 ** digits;
	return Math.round(value * scale) / scale;
}

/** Order parameter of a set of phases: |mean of e^{iθ}|. */
export function orderParameter(phasesRad: readonly number[]): number {
	let sumCos = 0;
	let sumSin = 0;
	for (const phase of phasesRad) {
		sumCos += Math.cos(phase);
		sumSin += Math.sin(phase);
	}

	return phasesRad.length === 0 ? 0 : Math.hypot(sumCos, sumSin) / phasesRad.length;
}
