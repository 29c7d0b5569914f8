/**
The peers a node knows, and the rule for admitting what they send. Pure: the caller passes the
monotonic time in milliseconds, the wall clock's offset from it and the local Lamport time; nothing
here reads a clock.
*/

import {LeapWitnesses} from './lamport.js';
import {PeerMotion} from './phase-estimator.js';
import type {RejectReason, WireMessage} from './wire.js';

export type PeerState = 'alive' | 'suspect' | 'evicted' | 'quarantined' | 'restarted';

export const PEER_STATES: readonly PeerState[] = ['alive', 'suspect', 'restarted', 'quarantined', 'evicted'];

export type PeerRecord = {
	readonly id: string;
	incarnation: number;
	lamportTime: number;
	phaseRad: number;
	omegaRadPerS: number | undefined;
	hz: number | undefined;
	weight: number;
	endpoint: string | undefined;
	/** The control endpoint it announces (wire `control`); undefined for legacy nodes and --no-control. */
	control: string | undefined;
	/** The link its last admitted message came through, when the caller said. */
	connection: string | undefined;
	/** Monotonic time of the last admitted message. */
	lastSeenMs: number;
	/** Set when the peer went silent past its TTL; it leaves the table a grace period later. */
	evictedAtMs: number | undefined;
	/** Set when the peer's last message broke a rule; cleared by its next admitted message. */
	quarantinedFor: RejectReason | undefined;
	/** Set when the peer came back with a higher incarnation. */
	restartedAtMs: number | undefined;
	admitted: number;
	/** Its recent messages, for where its phase is now (observed velocity, age from its send time). */
	readonly motion: PeerMotion;
};

export type PeerTableOptions = {
	ttlMs: number;
	/** How long an evicted peer stays listed (as `evicted`) before it leaves the table. */
	evictionGraceMs: number;
	maxPeers: number;
	maxLamportJump: number;
	/**
	Milliseconds since the epoch at monotonic time 0, so that `nowMs + wallClockOffsetMs` is the wall
	clock (`performance.timeOrigin` for `performance.now()`). Incarnations are read against it.
	*/
	wallClockOffsetMs: number;
	/**
	Behave like the original Python node: the last message wins and silent peers are never evicted.
	Only for measuring what this project fixes.
	*/
	legacyAdmission: boolean;
};

export const DEFAULT_PUBLISH_HZ = 10;
/** A peer silent for more than this many of its own publish intervals is `suspect`. */
const SUSPECT_AFTER_INTERVALS = 3;
/** How long a restarted peer is shown as `restarted` before it reads `alive` again. */
const RESTARTED_DISPLAY_MS = 2000;
/**
An incarnation is its process's start time; one more than a day ahead of our wall clock is forged
(or its host's clock is off by a day). Admitting it would make every genuine message of that id
`stale` until the forged time came, and 2^53 − 1 never comes.
*/
export const MAX_INCARNATION_AHEAD_MS = 86_400_000;

export type PeerChange = 'joined' | 'rejoined' | 'restarted' | 'updated';

export type AdmitOutcome =
	| {admitted: true; change: PeerChange; peer: PeerRecord}
	| {admitted: false; reason: RejectReason; quarantined?: PeerRecord};

export type SweepOutcome = {evicted: PeerRecord[]; removed: PeerRecord[]};

export class PeerTable {
	readonly #options: PeerTableOptions;
	readonly #peers = new Map<string, PeerRecord>();
	readonly #witnesses: LeapWitnesses;

	constructor(options: PeerTableOptions) {
		this.#options = options;
		this.#witnesses = new LeapWitnesses({
			maxJump: options.maxLamportJump,
			maxAgeMs: options.ttlMs,
			maxSources: options.maxPeers,
		});
	}

	get size(): number {
		return this.#peers.size;
	}

	get(id: string): PeerRecord | undefined {
		return this.#peers.get(id);
	}

	peers(): IterableIterator<PeerRecord> {
		return this.#peers.values();
	}

	/**
	Admit a message iff there is no cached state for its sender, or its incarnation is greater, or
	its incarnation is equal and its Lamport time is greater. A missing incarnation counts as 0.
	Neither may be from the future: an incarnation more than a day ahead of our wall clock is refused
	(`incarnation-ahead`), and so is a Lamport time that would move our clock by more than one source
	may move it alone (`lamport-jump`, see LeapWitnesses).

	`connection` is the link the message came through (a peer endpoint): a leap needs a witness on
	another one. Without it, the id stands for the connection.
	*/
	admit(message: WireMessage, nowMs: number, localLamport: number, connection?: string): AdmitOutcome {
		const known = this.#peers.get(message.nodeId);
		if (this.#options.legacyAdmission) {
			return this.#admitLegacy(message, nowMs, known);
		}

		// Before the incarnation is compared with the known one: a forged one must not even quarantine
		// the genuine peer, whose next message is sound.
		if (message.incarnation - nowMs > this.#options.wallClockOffsetMs + MAX_INCARNATION_AHEAD_MS) {
			return {admitted: false, reason: 'incarnation-ahead'};
		}

		let change: PeerChange;
		if (known === undefined) {
			change = 'joined';
		} else if (message.incarnation > known.incarnation) {
			change = 'restarted';
		} else if (message.incarnation === known.incarnation && message.lamportTime > known.lamportTime) {
			change = known.evictedAtMs === undefined ? 'updated' : 'rejoined';
		} else {
			return {admitted: false, reason: 'stale'};
		}

		// Peers or no peers, a leap needs a witness. A node with no live peer still adopts the mesh's
		// time, from the second peer (or the same peer's second message): refusing it outright is what
		// deadlocked late joiners in the original mesh.
		if (
			this.#witnesses.isLeap(localLamport, message.lamportTime) &&
			this.#witnesses.refusesLeap(
				connection ?? message.nodeId,
				message.nodeId,
				message.lamportTime,
				localLamport,
				nowMs,
				this.#othersLive(message.nodeId, nowMs),
			)
		) {
			// A leap under a known id through another link is someone else using the id: the peer
			// itself keeps its place in the coupling.
			if (known === undefined || known.connection !== connection) {
				return {admitted: false, reason: 'lamport-jump'};
			}

			known.quarantinedFor = 'lamport-jump';
			return {admitted: false, reason: 'lamport-jump', quarantined: known};
		}

		if (known === undefined) {
			if (this.#peers.size >= this.#options.maxPeers) {
				return {admitted: false, reason: 'peer-limit'};
			}

			const peer = createRecord(message, nowMs, connection);
			this.#peers.set(peer.id, peer);
			return {admitted: true, change, peer};
		}

		applyMessage(known, message, nowMs, connection);
		known.evictedAtMs = undefined;
		known.quarantinedFor = undefined;
		if (change === 'restarted') {
			known.restartedAtMs = nowMs;
		}

		return {admitted: true, change, peer: known};
	}

	#admitLegacy(message: WireMessage, nowMs: number, known: PeerRecord | undefined): AdmitOutcome {
		if (known === undefined) {
			if (this.#peers.size >= this.#options.maxPeers) {
				return {admitted: false, reason: 'peer-limit'};
			}

			const peer = createRecord(message, nowMs);
			this.#peers.set(peer.id, peer);
			return {admitted: true, change: 'joined', peer};
		}

		applyMessage(known, message, nowMs);
		return {admitted: true, change: 'updated', peer: known};
	}

	/**
	Evict peers silent past their TTL and forget those evicted longer than the grace period.
	Run it before every coupling step, so that a silent peer stops pulling the mesh at once.
	*/
	sweep(nowMs: number): SweepOutcome {
		const outcome: SweepOutcome = {evicted: [], removed: []};
		if (this.#options.legacyAdmission) {
			return outcome;
		}

		this.#witnesses.sweep(nowMs);
		for (const peer of this.#peers.values()) {
			if (peer.evictedAtMs === undefined) {
				if (nowMs - peer.lastSeenMs > this.#options.ttlMs) {
					peer.evictedAtMs = nowMs;
					outcome.evicted.push(peer);
				}
			} else if (nowMs - peer.evictedAtMs >= this.#options.evictionGraceMs) {
				this.#peers.delete(peer.id);
				outcome.removed.push(peer);
			}
		}

		return outcome;
	}

	/** Whether the peer takes part in coupling and in r. */
	isActive(peer: PeerRecord, nowMs: number): boolean {
		if (this.#options.legacyAdmission) {
			return true;
		}

		return (
			peer.evictedAtMs === undefined &&
			peer.quarantinedFor === undefined &&
			nowMs - peer.lastSeenMs <= this.#options.ttlMs
		);
	}

	/** Whether any peer but `id` takes part in coupling: someone else vouches for the mesh's time. */
	#othersLive(id: string, nowMs: number): boolean {
		for (const peer of this.#peers.values()) {
			if (peer.id !== id && this.isActive(peer, nowMs)) {
				return true;
			}
		}

		return false;
	}

	activeCount(nowMs: number): number {
		let count = 0;
		for (const peer of this.#peers.values()) {
			if (this.isActive(peer, nowMs)) {
				count++;
			}
		}

		return count;
	}

	stateOf(peer: PeerRecord, nowMs: number): PeerState {
		if (peer.evictedAtMs !== undefined || (!this.#options.legacyAdmission && nowMs - peer.lastSeenMs > this.#options.ttlMs)) {
			return 'evicted';
		}

		if (peer.quarantinedFor !== undefined) {
			return 'quarantined';
		}

		if (peer.restartedAtMs !== undefined && nowMs - peer.restartedAtMs < RESTARTED_DISPLAY_MS) {
			return 'restarted';
		}

		const intervalMs = 1000 / (peer.hz ?? DEFAULT_PUBLISH_HZ);
		return nowMs - peer.lastSeenMs > SUSPECT_AFTER_INTERVALS * intervalMs ? 'suspect' : 'alive';
	}

	ttlRemainingMs(peer: PeerRecord, nowMs: number): number {
		return Math.max(0, this.#options.ttlMs - (nowMs - peer.lastSeenMs));
	}

	/** Forget a peer at once (an operator removed it). */
	forget(id: string): boolean {
		return this.#peers.delete(id);
	}
}

function createRecord(message: WireMessage, nowMs: number, connection?: string): PeerRecord {
	const peer: PeerRecord = {
		id: message.nodeId,
		incarnation: 0,
		lamportTime: 0,
		phaseRad: 0,
		omegaRadPerS: undefined,
		hz: undefined,
		weight: 1,
		endpoint: undefined,
		control: undefined,
		connection,
		lastSeenMs: nowMs,
		evictedAtMs: undefined,
		quarantinedFor: undefined,
		restartedAtMs: undefined,
		admitted: 0,
		motion: new PeerMotion(),
	};
	applyMessage(peer, message, nowMs, connection);
	return peer;
}

function applyMessage(peer: PeerRecord, message: WireMessage, nowMs: number, connection?: string): void {
	peer.motion.observe(message.incarnation, message.phaseRad, message.sentMs, nowMs, message.omegaRadPerS);
	// A new process may run without a control plane: what the old one announced no longer holds.
	peer.control = message.incarnation > peer.incarnation ? message.control : (message.control ?? peer.control);
	peer.incarnation = message.incarnation;
	peer.lamportTime = message.lamportTime;
	peer.phaseRad = message.phaseRad;
	peer.omegaRadPerS = message.omegaRadPerS;
	peer.hz = message.hz;
	peer.weight = message.weight;
	peer.endpoint = message.endpoint ?? peer.endpoint;
	peer.connection = connection;
	peer.lastSeenMs = nowMs;
	peer.admitted++;
}
