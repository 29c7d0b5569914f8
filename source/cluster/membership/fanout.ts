/**
The sparse mesh: which k members this node subscribes to (`--fanout`), memberlist's bounded
fan-out for a mesh whose data plane is PUB/SUB.

Pure: time and randomness are arguments. The member table (member-table.ts) hands over the ids of
the members that may be picked (alive or suspect, not static, not ourselves) on every plan, and
subscribes to the picks it gets back.

- Full mesh while the mesh is small (`fullMeshUpTo` members): every candidate is picked, as before
  fan-out existed. Past it, the picks are trimmed to k at random; back at three quarters of it, the
  mesh is full again (a margin, so that a mesh of about that size does not switch back and forth).
- Picks are a uniform sample of the candidates, kept so as members arrive (reservoir sampling,
  Knuth's Algorithm R: the n-th candidate displaces a random pick with probability k/n). So every
  member is picked by about k others whatever the order it was learned in: the seed everyone joins
  through is not picked by everyone, and a member that joins late or restarts is heard too.
- A pick that leaves the candidates (dead, forgotten) is replaced by a uniform draw from the
  candidates not picked. The first replacement after a quiet spell is immediate; more within
  `quietMs` (a minute) wait 1 s, 2 s, 4 s … up to `backoffMaxMs` (30 s), so a flapping mesh does not make us redial
  in a loop. Displacing live picks for newcomers backs off the same way (it costs a link each).
- A random k-out graph is connected with high probability for k of 8 (and strongly connected as a
  directed graph for k ≥ 2 once n is large, in the limit); subscriptions are one-way: we hear our k,
  and about k others hear us.
*/

import type {Uniform} from '../../mesh/model/random.js';

export type FanoutPolicy = {
	/** Members subscribed to, besides static peers, once the mesh is larger than `fullMeshUpTo`. */
	k: number;
	/** Up to this many candidates every one is subscribed to (a full mesh). */
	fullMeshUpTo: number;
};

/** `--fanout` left out: a full mesh up to 32 members, 8 beyond (see the README's cost model). */
export const DEFAULT_FANOUT: FanoutPolicy = {k: 8, fullMeshUpTo: 32};

export type FanoutOptions = FanoutPolicy & {
	random: Uniform;
	/** The delay after the second change within `quietMs`; doubled for each further one. @default 1000 */
	backoffStartMs?: number;
	/** @default 30_000 */
	backoffMaxMs?: number;
	/** Changes further apart than this count as the first again (no delay). @default 2 × backoffMaxMs */
	quietMs?: number;
};

/** What the picker decided: `all` (a full mesh) or the picks, and whether they changed. */
export type FanoutPicks = {mode: 'all'} | {mode: 'sparse'; picks: ReadonlySet<string>};

/** A rate limit on link changes: the first after a quiet spell at once, then with doubling delays. */
export class ChangeBackoff {
	readonly #startMs: number;
	readonly #maxMs: number;
	readonly #quietMs: number;
	#lastAtMs = Number.NEGATIVE_INFINITY;
	#nextAtMs = Number.NEGATIVE_INFINITY;
	#streak = 0;

	constructor(startMs: number, maxMs: number, quietMs: number) {
		this.#startMs = startMs;
		this.#maxMs = maxMs;
		this.#quietMs = quietMs;
	}

	allowed(nowMs: number): boolean {
		return nowMs >= this.#nextAtMs;
	}

	/** When the next change may be made (−∞: at once). */
	get nextAtMs(): number {
		return this.#nextAtMs;
	}

	record(nowMs: number): void {
		this.#streak = nowMs - this.#lastAtMs < this.#quietMs ? this.#streak + 1 : 0;
		this.#lastAtMs = nowMs;
		this.#nextAtMs = nowMs + Math.min(this.#maxMs, this.#startMs * 2 ** Math.min(this.#streak, 30));
	}
}

export class FanoutPicker {
	readonly #k: number;
	readonly #fullMeshUpTo: number;
	readonly #random: Uniform;
	/** Picks, with when each was picked (a pick's silence counts from then: member-table.ts). */
	readonly #picks = new Map<string, number>();
	/** Candidates the sample has taken into account (Algorithm R's stream so far). */
	readonly #seen = new Set<string>();
	readonly #refill: ChangeBackoff;
	readonly #displace: ChangeBackoff;
	#sparse = false;
	/** A pick was lost since the last refill: the next refill is a replacement, rate-limited. */
	#lost = false;

	constructor(options: FanoutOptions) {
		if (!(options.k >= 1)) {
			throw new RangeError(`fanout k must be at least 1, not ${options.k}`);
		}

		this.#k = options.k;
		this.#fullMeshUpTo = Math.max(options.fullMeshUpTo, options.k);
		this.#random = options.random;
		const startMs = options.backoffStartMs ?? 1000;
		const maxMs = options.backoffMaxMs ?? 30_000;
		const quietMs = options.quietMs ?? 2 * maxMs;
		this.#refill = new ChangeBackoff(startMs, maxMs, quietMs);
		this.#displace = new ChangeBackoff(startMs, maxMs, quietMs);
	}

	get sparse(): boolean {
		return this.#sparse;
	}

	/** When `id` became a pick; undefined if it is not one (or the mesh is full). */
	pickedAtMs(id: string): number | undefined {
		return this.#picks.get(id);
	}

	isPicked(id: string): boolean {
		return !this.#sparse || this.#picks.has(id);
	}

	/** When the next replacement of a lost pick may be made (−∞: at once). */
	get nextRefillAtMs(): number {
		return this.#refill.nextAtMs;
	}

	/**
	Decide the picks from the current candidates (member ids, in any stable order). Called on every
	dial plan; cheap when nothing changed (one pass over the candidates).
	*/
	update(candidates: readonly string[], nowMs: number): FanoutPicks {
		const present = new Set(candidates);
		for (const id of this.#picks.keys()) {
			if (!present.has(id)) {
				this.#picks.delete(id);
				this.#lost = true;
			}
		}

		for (const id of this.#seen) {
			if (!present.has(id)) {
				// A member that comes back is new to the sample again.
				this.#seen.delete(id);
			}
		}

		if (this.#sparse && present.size <= Math.floor((this.#fullMeshUpTo * 3) / 4)) {
			this.#sparse = false;
			this.#picks.clear();
			this.#seen.clear();
			this.#lost = false;
		} else if (!this.#sparse && present.size > this.#fullMeshUpTo) {
			// Every candidate was subscribed: the sample starts as all of them, trimmed below.
			this.#sparse = true;
			for (const id of candidates) {
				this.#picks.set(id, nowMs);
				this.#seen.add(id);
			}
		}

		if (!this.#sparse) {
			return {mode: 'all'};
		}

		this.#trim();
		this.#refillLost(candidates, nowMs);
		this.#sampleArrivals(candidates, nowMs);
		return {mode: 'sparse', picks: new Set(this.#picks.keys())};
	}

	/** Down to k, uniformly at random (after the switch to sparse, or if k was lowered). */
	#trim(): void {
		if (this.#picks.size <= this.#k) {
			return;
		}

		const ids = [...this.#picks.keys()];
		shuffle(ids, this.#random);
		for (const id of ids.slice(this.#k)) {
			this.#picks.delete(id);
		}
	}

	/** Fill free slots with uniform draws from the candidates not picked; replacements are rate-limited. */
	#refillLost(candidates: readonly string[], nowMs: number): void {
		if (this.#picks.size >= this.#k || (this.#lost && !this.#refill.allowed(nowMs))) {
			return;
		}

		const free = candidates.filter((id) => !this.#picks.has(id));
		if (free.length === 0) {
			return;
		}

		const wanted = Math.min(this.#k - this.#picks.size, free.length);
		for (let index = 0; index < wanted; index++) {
			// A partial Fisher–Yates: the first `wanted` of a shuffle of the free candidates.
			const chosen = index + Math.floor(this.#random() * (free.length - index));
			[free[index], free[chosen]] = [free[chosen]!, free[index]!];
			this.#picks.set(free[index]!, nowMs);
			this.#seen.add(free[index]!);
		}

		if (this.#lost) {
			this.#lost = false;
			this.#refill.record(nowMs);
		}
	}

	/** Algorithm R over candidates the sample has not seen: the n-th displaces a random pick with probability k/n. */
	#sampleArrivals(candidates: readonly string[], nowMs: number): void {
		if (this.#seen.size === candidates.length) {
			return;
		}

		if (this.#picks.size < this.#k) {
			// Slots still free are the refill's (rate-limited after a loss): newcomers wait for it.
			return;
		}

		if (!this.#displace.allowed(nowMs)) {
			return;
		}

		let displaced = false;
		for (const id of candidates) {
			if (this.#seen.has(id)) {
				continue;
			}

			this.#seen.add(id);
			if (this.#random() * this.#seen.size < this.#k) {
				const picks = [...this.#picks.keys()];
				this.#picks.delete(picks[Math.floor(this.#random() * picks.length)]!);
				this.#picks.set(id, nowMs);
				displaced = true;
			}
		}

		if (displaced) {
			this.#displace.record(nowMs);
		}
	}
}

function shuffle<T>(items: T[], random: Uniform): void {
	for (let index = items.length - 1; index > 0; index--) {
		const other = Math.floor(random() * (index + 1));
		[items[index], items[other]] = [items[other]!, items[index]!];
	}
}
