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

/**
The largest Lamport time a message may carry. Half the safe range: past 2^53, +1 no longer changes
a double, and a clock that reached it would be refused by every other node for good. A mesh ticking
a million times a second takes 140 years to get here.
*/
export const MAX_LAMPORT_TIME = 2 ** 52;

/**
How far one source may move a clock on its word alone. A live peer is never further ahead of us than
what the mesh adds to a clock while its message travels, a tick or a few: a full mesh of n nodes
adds about 2·n a tick (3 nodes at 10 Hz: 66 a second, measured), so this leaves room for a thousand
nodes five ticks apart. A late joiner to a mesh whose clocks are further on hears a leap, which a
second source (or the same one, again) must confirm.
*/
export const MAX_UNWITNESSED_STEP = 10_000;

/**
Two leaps from one source at least this far apart count as the source standing by its clock; two
read in one burst do not. Half the default publish interval.
*/
export const MIN_PERSISTENCE_MS = 50;

type Claim = {id: string; lamportTime: number; atMs: number};

export type LeapWitnessOptions = {
	/** The bound on any move of the clock while other live peers speak (`--max-lamport-jump`). */
	maxJump: number;
	/** How long a claim can witness another: the peers' TTL. */
	maxAgeMs: number;
	/** At most this many sources remembered (one per connection in a node). */
	maxSources: number;
};

/**
The rule that keeps one source from poisoning a clock, with or without live peers. Pure: the caller
passes the times.

- A stamp over MAX_LAMPORT_TIME is refused.
- A stamp at most `step` = min(maxJump, MAX_UNWITNESSED_STEP) ahead of our clock moves it at once:
  the ordinary case, which costs two comparisons.
- Anything further ahead is a leap, taken only when a witness agrees with it (within `step`):
  - another source, on another connection and under another id, that leapt as far within the TTL:
    a late joiner hears the whole mesh in its first tick and adopts its time from the second
    peer's message (defect 4), while one forged message, or many ids through one connection,
    witness nothing;
  - or, when no other live peer speaks, the same source again, at least MIN_PERSISTENCE_MS later:
    a node whose only peer is far ahead (a two-node mesh where one restarted, the leaf of a star)
    adopts its time from that peer's second message instead of refusing it forever.
- While other live peers speak, no leap beyond maxJump is taken at all: they vouch for the mesh's
  time, and their clocks are where ours is.

What nothing can stop without CURVE: a hostile peer that we dial and that is our only source can lead
us anywhere under MAX_LAMPORT_TIME by persisting; two hostile connections can lead a node with no
other live peer, and move a live mesh by up to maxJump.
*/
export class LeapWitnesses {
	/** How far a stamp may be ahead of our clock and still move it on its sender's word alone. */
	readonly step: number;
	readonly #options: LeapWitnessOptions;
	/** The latest leap each connection claimed. */
	readonly #claims = new Map<string, Claim>();

	constructor(options: LeapWitnessOptions) {
		this.#options = options;
		this.step = Math.min(options.maxJump, MAX_UNWITNESSED_STEP);
	}

	/** Whether moving a clock at `localTime` to `remoteTime` is a leap, which needs a witness. */
	isLeap(localTime: number, remoteTime: number): boolean {
		return remoteTime - localTime > this.step || remoteTime > MAX_LAMPORT_TIME;
	}

	/**
	Whether a leap must be refused; it is remembered either way, as a witness for others.
	`othersLive`: whether any live peer other than the sender speaks.
	*/
	refusesLeap(
		connection: string,
		id: string,
		remoteTime: number,
		localTime: number,
		nowMs: number,
		othersLive: boolean,
	): boolean {
		if (remoteTime > MAX_LAMPORT_TIME) {
			return true;
		}

		const previous = this.#claims.get(connection);
		this.#remember(connection, id, remoteTime, nowMs);
		if (othersLive && remoteTime - localTime > this.#options.maxJump) {
			return true;
		}

		if (this.#witnessedByAnother(connection, id, remoteTime, nowMs)) {
			return false;
		}

		const persisted =
			!othersLive &&
			previous?.id === id &&
			previous.lamportTime < remoteTime &&
			remoteTime - previous.lamportTime <= this.step &&
			nowMs - previous.atMs >= MIN_PERSISTENCE_MS &&
			nowMs - previous.atMs <= this.#options.maxAgeMs;
		return !persisted;
	}

	/** Forget claims older than the TTL. */
	sweep(nowMs: number): void {
		for (const [connection, claim] of this.#claims) {
			if (nowMs - claim.atMs > this.#options.maxAgeMs) {
				this.#claims.delete(connection);
			}
		}
	}

	get size(): number {
		return this.#claims.size;
	}

	#witnessedByAnother(connection: string, id: string, remoteTime: number, nowMs: number): boolean {
		for (const [otherConnection, claim] of this.#claims) {
			if (
				otherConnection !== connection &&
				claim.id !== id &&
				nowMs - claim.atMs <= this.#options.maxAgeMs &&
				Math.abs(claim.lamportTime - remoteTime) <= this.step
			) {
				return true;
			}
		}

		return false;
	}

	#remember(connection: string, id: string, remoteTime: number, nowMs: number): void {
		if (!this.#claims.has(connection) && this.#claims.size >= this.#options.maxSources) {
			this.sweep(nowMs);
			if (this.#claims.size >= this.#options.maxSources) {
				return;
			}
		}

		this.#claims.set(connection, {id, lamportTime: remoteTime, atMs: nowMs});
	}
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
