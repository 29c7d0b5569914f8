/**
Lamport clock arithmetic. Pure: the caller owns the clock value.

A node's clock increments on each of its own ticks and, when it admits a peer's message, becomes
max(local, remote) + 1, so the order of admitted events is consistent across the mesh.
*/

/** The clock after one local event (a tick). */
export function tick(localTime: number): number {
	return localTime + 1;
}

/** The clock after admitting a message stamped `remoteTime`. */
export function observe(localTime: number, remoteTime: number): number {
	return Math.max(localTime, remoteTime) + 1;
}

/**
Whether a remote stamp would drag the local clock forward by more than `maxJump`.

A peer is never refused for being behind: only a leap ahead is suspect, since one forged stamp near
2^53 would otherwise push every clock in the mesh to the end of its range for good.
*/
export function exceedsForwardJump(localTime: number, remoteTime: number, maxJump: number): boolean {
	return remoteTime - localTime > maxJump;
}

/** A clock that only ever moves forward; a small holder around the pure functions above. */
export class LamportClock {
	#time: number;

	constructor(initialTime = 0) {
		this.#time = initialTime;
	}

	get time(): number {
		return this.#time;
	}

	tick(): number {
		this.#time = tick(this.#time);
		return this.#time;
	}

	observe(remoteTime: number): number {
		this.#time = observe(this.#time, remoteTime);
		return this.#time;
	}
}
