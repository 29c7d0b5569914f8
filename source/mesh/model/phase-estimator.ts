/**
Where a peer's phase is now, from the messages it sent: its observed phase velocity and, when it
stamps its messages with the send time, the age of its last phase measured from that time. Pure: the
caller passes every time (its monotonic clock for arrivals, the sender's wall clock as the sender
wrote it).

Why not θ_j + ω_j·(now − arrival): the peer's phase moves at the mesh's collective frequency once
coupled, not at its natural ω_j, and a message waits in our queue until our tick reads it, so the
arrival time is when we looked, not when the phase was taken. Both errors lean the same way for
every peer and add up to a phase lag in the coupling (issue 15).
*/

import {wrapPhase, type PeerAtInstant} from './kuramoto.js';

/** How many recent messages the phase velocity is taken from (their consecutive slopes' median). */
export const VELOCITY_WINDOW = 8;
/** How many recent messages the clock offset is estimated over: several seconds at 10 Hz. */
export const OFFSET_WINDOW = 64;
/** How many messages between two estimates of the clock offset, once the window holds that many. */
const OFFSET_REFRESH = 8;
/**
Arrivals closer than this came off the link in one read: our node stamps each message as it reads
it, and one read of a link takes microseconds.
*/
const SAME_READ_MS = 1;

/**
A peer's recent messages: phase, the sender's send time (wall-clock ms, undefined from legacy
peers), our arrival time (monotonic ms: when we read it off its link) and the time we read that link
before. Ring buffers, so that a message costs no allocation.
*/
export class PeerMotion {
	readonly #phaseRad = new Float64Array(OFFSET_WINDOW);
	readonly #sentMs = new Float64Array(OFFSET_WINDOW);
	readonly #arrivalMs = new Float64Array(OFFSET_WINDOW);
	/** Our read of the peer's link before the one that found the message: it came after then. NaN when unknown. */
	readonly #readBeforeMs = new Float64Array(OFFSET_WINDOW);
	#count = 0;
	#next = 0;
	#incarnation = Number.NaN;
	#omegaHintRadPerS = 0;
	#offsetMs = 0;
	#offsetStale = true;
	#sinceOffset = 0;
	#velocity: number | undefined;
	#velocityStale = true;

	/** Messages kept (at most OFFSET_WINDOW); a restart or a message without a send time starts over. */
	get size(): number {
		return this.#count;
	}

	/** The send time of the latest message, if it carried one. */
	get latestSentMs(): number | undefined {
		return this.#count === 0 ? undefined : this.#sentMs[this.#index(0)];
	}

	/** The phase of the latest message. */
	get latestPhaseRad(): number | undefined {
		return this.#count === 0 ? undefined : this.#phaseRad[this.#index(0)];
	}

	/**
	Record one admitted message. A new incarnation is a new process (a new clock, maybe a new ω), and a
	message without a send time is a legacy sender: either way the window starts over.
	*/
	observe(incarnation: number, phaseRad: number, sentMs: number | undefined, arrivalMs: number, omegaRadPerS?: number): void {
		if (incarnation !== this.#incarnation || sentMs === undefined) {
			this.#count = 0;
			this.#next = 0;
			this.#incarnation = incarnation;
		}

		this.#omegaHintRadPerS = omegaRadPerS ?? 0;
		this.#velocityStale = true;
		// Every message while the window fills, then every OFFSET_REFRESH messages.
		this.#sinceOffset++;
		if (this.#count < OFFSET_REFRESH || this.#sinceOffset >= OFFSET_REFRESH) {
			this.#offsetStale = true;
		}

		if (sentMs === undefined) {
			return;
		}

		this.#phaseRad[this.#next] = phaseRad;
		this.#sentMs[this.#next] = sentMs;
		this.#arrivalMs[this.#next] = arrivalMs;
		this.#readBeforeMs[this.#next] = this.#previousReadBefore(arrivalMs);
		this.#next = (this.#next + 1) % OFFSET_WINDOW;
		this.#count = Math.min(this.#count + 1, OFFSET_WINDOW);
	}

	/**
	The phase velocity the peer's messages show: the median of the slopes between consecutive
	messages over the last VELOCITY_WINDOW, each slope on the sender's own clock (no network jitter
	in it). A step is unwrapped around the announced ω·Δt, so that a slow publisher whose phase moves
	more than π between messages still reads right. Undefined until two timestamped messages.
	*/
	velocityRadPerS(): number | undefined {
		if (this.#velocityStale) {
			this.#velocity = this.#estimateVelocity();
			this.#velocityStale = false;
		}

		return this.#velocity;
	}

	/**
	The sender's clock read on ours: add it to a send time to get our monotonic time of sending.

	Every (arrival − send) is the clock offset plus that message's delay, and a delay is never
	negative, so their minimum over the window bounds the offset from above: the usual one-way-delay
	estimator (a constant part of the network delay cannot be told from an offset and is taken into
	it). But our arrival time is when our tick read the message off its link, after it waited there
	since it came. Two nodes ticking at the same rate keep that wait about the same for every message,
	and the minimum alone would take it for clock offset: every age too short by it, a lag in the
	coupling. The message came after our previous read of that link, though, so the largest
	(previous read − send) bounds the offset from below. Clocks are taken to agree (same host, or
	NTP) unless the bounds prove they do not: when the offset of agreeing clocks lies between them
	(−wallClockAtZeroMs: our arrival times are monotonic, the send times wall-clock), it is taken,
	and the age is exact. Otherwise the offset is the middle of the bounds: off by at most half
	their width, at most half of our poll period (less as the ticks of the two nodes drift against
	each other), and, when two nodes keep step, off in opposite directions on the two ends of a
	link, which cancels in the collective frequency. Until a previous read is known, one poll period
	before the arrival stands for it.

	The estimate moves slowly: it is recomputed every few messages, not on every call.
	*/
	clockOffsetMs(pollPeriodMs: number, wallClockAtZeroMs = 0): number | undefined {
		if (this.#count === 0) {
			return undefined;
		}

		if (this.#offsetStale) {
			this.#offsetMs = this.#estimateOffsetMs(pollPeriodMs, -wallClockAtZeroMs);
			this.#offsetStale = false;
			this.#sinceOffset = 0;
		}

		return this.#offsetMs;
	}

	#estimateOffsetMs(pollPeriodMs: number, agreeingOffsetMs: number): number {
		let upper = Number.POSITIVE_INFINITY;
		let lower = Number.NEGATIVE_INFINITY;
		for (let back = 0; back < this.#count; back++) {
			const index = this.#index(back);
			upper = Math.min(upper, this.#arrivalMs[index]! - this.#sentMs[index]!);
			const readBeforeMs = this.#readBeforeMs[index]!;
			if (!Number.isNaN(readBeforeMs)) {
				lower = Math.max(lower, readBeforeMs - this.#sentMs[index]!);
			}
		}

		if (lower === Number.NEGATIVE_INFINITY) {
			// No earlier read known yet (the first message): a message waits about a poll period at most.
			lower = upper - pollPeriodMs;
		}

		return lower <= agreeingOffsetMs && agreeingOffsetMs <= upper ? agreeingOffsetMs : (lower + upper) / 2;
	}

	#estimateVelocity(): number | undefined {
		const pairs = Math.min(this.#count, VELOCITY_WINDOW) - 1;
		if (pairs < 1) {
			return undefined;
		}

		let count = 0;
		for (let back = 0; back < pairs; back++) {
			const newer = this.#index(back);
			const older = this.#index(back + 1);
			const dtS = (this.#sentMs[newer]! - this.#sentMs[older]!) / 1000;
			if (!(dtS > 0)) {
				continue;
			}

			const expected = this.#omegaHintRadPerS * dtS;
			const advance = expected + wrapPhase(this.#phaseRad[newer]! - this.#phaseRad[older]! - expected);
			slopes[count++] = advance / dtS;
		}

		return count === 0 ? undefined : medianOfFirst(slopes, count);
	}

	/**
	When we last read this peer's link before the read at `arrivalMs`: the arrival of its latest
	message taken in an earlier read. That read emptied the link, so anything we read later came
	after it. A message a delay fault held carries the time it came off the socket, so the same holds.
	*/
	#previousReadBefore(arrivalMs: number): number {
		for (let back = 0; back < this.#count; back++) {
			const earlierMs = this.#arrivalMs[this.#index(back)]!;
			if (earlierMs < arrivalMs - SAME_READ_MS) {
				return earlierMs;
			}
		}

		return Number.NaN;
	}

	/** The ring index `back` messages before the latest. */
	#index(back: number): number {
		return (this.#next - 1 - back + 2 * OFFSET_WINDOW) % OFFSET_WINDOW;
	}
}

/** What the estimate reads from a peer record. */
export type ObservedPeer = {
	phaseRad: number;
	omegaRadPerS: number | undefined;
	/** Our monotonic time of its latest admitted message. */
	lastSeenMs: number;
	weight: number;
	motion: PeerMotion;
};

/**
The peer's phase at our instant `nowMs`, and the velocity that carries it to nearby instants.
`pollPeriodMs`: our tick period, how long a message can wait for our read. `wallClockAtZeroMs`: the
wall clock (ms since the epoch) at our monotonic time 0, `performance.timeOrigin` for
`performance.now()`.

A peer that stamps its messages: its latest phase, advanced by its observed velocity for the time
since it was sent (the send time put on our clock with the offset estimate). A legacy peer (no send
time) is estimated as before: its phase advanced by its announced ω for the time since it arrived,
or its phase as received when it announces no ω.
*/
export function peerAtInstant(peer: ObservedPeer, nowMs: number, pollPeriodMs: number, wallClockAtZeroMs = 0): PeerAtInstant {
	const {motion} = peer;
	const sentMs = motion.latestSentMs;
	const offsetMs = motion.clockOffsetMs(pollPeriodMs, wallClockAtZeroMs);
	if (sentMs !== undefined && offsetMs !== undefined) {
		const velocity = motion.velocityRadPerS() ?? peer.omegaRadPerS ?? 0;
		const ageS = (nowMs - (sentMs + offsetMs)) / 1000;
		return {phaseRad: motion.latestPhaseRad! + velocity * ageS, velocityRadPerS: velocity, weight: peer.weight};
	}

	if (peer.omegaRadPerS === undefined) {
		return {phaseRad: peer.phaseRad, velocityRadPerS: 0, weight: peer.weight};
	}

	return {
		phaseRad: peer.phaseRad + (peer.omegaRadPerS * (nowMs - peer.lastSeenMs)) / 1000,
		velocityRadPerS: peer.omegaRadPerS,
		weight: peer.weight,
	};
}

/**
The slopes of one estimate. Shared: an estimate runs for every peer on every tick (190 a second in a
20-node mesh), and an array per estimate, sorted with Array#sort, was over a quarter of what a node
allocated (its garbage is dear here: bench/optimizations.md).
*/
const slopes = new Float64Array(VELOCITY_WINDOW);

/** The median of `values[0..count)`, sorted in place by insertion: at most VELOCITY_WINDOW − 1 of them. */
function medianOfFirst(values: Float64Array, count: number): number {
	for (let index = 1; index < count; index++) {
		const value = values[index]!;
		let hole = index;
		while (hole > 0 && values[hole - 1]! > value) {
			values[hole] = values[hole - 1]!;
			hole--;
		}

		values[hole] = value;
	}

	const middle = count >> 1;
	return count % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}
