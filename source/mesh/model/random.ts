/**
Seeded randomness, so that a test or a scenario can reproduce a run exactly.
*/

/** A uniform generator on [0, 1), like Math.random. */
export type Uniform = () => number;

/** mulberry32: tiny, fast, and good enough for simulation noise and fault draws. */
export function seededUniform(seed: number): Uniform {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d_2b_79_f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
	};
}

/** A random 8-hex-digit node id, the form the original Python nodes use. */
export function randomNodeId(uniform: Uniform): string {
	let id = '';
	for (let index = 0; index < 8; index++) {
		id += Math.floor(uniform() * 16).toString(16);
	}

	return id;
}
