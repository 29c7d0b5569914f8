/**
A Chorus node: the tick loop that ties transport, wire format, peer table and dynamics together.

A node is an object, not a module singleton, so several can run in one process (tests and
benchmarks do). It has no UI: the terminal UI and the NDJSON reporter both read `snapshot()` and
listen to events.
*/

import {performance} from 'node:perf_hooks';
import {setImmediate as nextTurn} from 'node:timers/promises';
import {ALL_PEERS, type FaultsInForce, type FaultTarget, type InboundFault, type OutboundFault} from './model/fault-types.js';
import {FaultPlan, type FaultChange} from './model/faults.js';
import * as kuramoto from './model/kuramoto.js';
import {LamportClock} from './model/lamport.js';
import {PeerTable, type PeerRecord, type PeerState} from './model/peer-table.js';
import {seededUniform, type Uniform} from './model/random.js';
import {exposureWarning, NodeSecurity, type SecurityOptions} from './security/screening.js';
import {Transport, type OnFrames, type TransportEvent, type TransportOptions} from './net/transport.js';
import * as wire from './model/wire.js';
import type {RejectReason, WireMessage} from './model/wire.js';

export type NodeOptions = {
	id: string;
	bindEndpoint: string;
	peerEndpoints: readonly string[];
	ttlMs: number;
	hz: number;
	coupling: number;
	noiseSigma: number;
	omegaRadPerS: number;
	initialPhaseRad?: number;
	maxPeers: number;
	maxLamportJump: number;
	evictionGraceMs: number;
	legacyAdmission: boolean;
	/** Randomness for the noise term; seed it to reproduce a run. */
	random?: Uniform;
	/**
	Seed of the fault plan's own random stream (drop, duplicate and jitter draws). When absent, the
	seed is drawn once from `random`, so a seeded node makes the same fault decisions every run.
	*/
	faultSeed?: number;
	/** Extra transport settings (limits: maxMessageBytes, highWaterMark). */
	transport?: Partial<TransportOptions>;
	/** CURVE with an allow list, and the per-peer rate limit. */
	security?: SecurityOptions;
	/** How many of the latest ticks stats.tickLateMs summarises. @default 128 */
	latenessWindowTicks?: number;
};

export type NodeEventKind =
	| 'node-started'
	| 'node-stopped'
	| 'peer-joined'
	| 'peer-rejoined'
	| 'peer-restarted'
	| 'peer-evicted'
	| 'peer-removed'
	| 'peer-quarantined'
	| 'peer-connected'
	| 'peer-disconnected'
	| 'connection-dropped'
	| 'link-reset'
	| 'handshake-failed'
	| 'fault-set'
	| 'fault-cleared'
	| 'warning'
	/** A subscriber refused at our publisher (CURVE): its address, the reason, its key when it sent one. */
	| 'auth-refused'
	// Emitted by a mesh session (source/session.ts), not by the node itself:
	| 'peer-killed'
	| 'peer-paused'
	| 'peer-resumed'
	| 'peer-revived'
	| 'demo-exited'
	// Emitted by the scenario player (source/scenario.ts):
	| 'scenario-started'
	| 'scenario-step'
	| 'scenario-done'
	| 'scenario-end';

export type NodeEvent = {
	/** Milliseconds since the node started. */
	t: number;
	kind: NodeEventKind;
	peer?: string;
	endpoint?: string;
	reason?: string;
	[detail: string]: unknown;
};

export type PeerSnapshot = {
	id: string;
	state: PeerState;
	lamport: number;
	/** Milliseconds since the peer's last admitted message (its age). */
	lastSeenMs: number;
	ttlRemainingMs: number;
	/** The peer's phase minus ours, wrapped to (−π, π]. */
	phaseDiff: number;
	incarnation: number;
	endpoint?: string;
	/** The inbound fault in force for this peer (its own entry combined with the all-peers one), when any. */
	faults?: InboundFault;
};

export type NodeStats = {
	received: number;
	admitted: number;
	rejected: Partial<Record<RejectReason, number>>;
	/**
	Messages an inbound fault dropped (drop, blackhole, too many held, or held past the TTL).
	With nothing held, received = admitted + Σ rejected + faultDropped; a duplicate copy counts as
	received. Always present in a node's snapshot; optional so that older snapshots still type-check.
	*/
	faultDropped?: number;
	/** Extra copies an inbound duplicate fault delivered (each also counted in `received`). */
	faultDuplicated?: number;
	/** Inbound messages held by a delay fault right now (received, not yet admitted or rejected). */
	faultHeld?: number;
	/** Frames of ours an outbound fault dropped. */
	outboundFaultDropped?: number;
	/** Frames of ours an outbound delay fault holds right now. */
	outboundFaultHeld?: number;
	/** Subscribers refused at our publisher (CURVE: a key not on the allow list, no key, a bad handshake). */
	authRefused?: number;
	ticks: number;
	/** Tick lateness over the recent ticks: how far behind schedule the loop ran. */
	tickLateMs: {p50: number; p99: number; max: number};
};

export type NodeSnapshot = {
	t: number;
	node: {
		id: string;
		incarnation: number;
		lamport: number;
		phase: number;
		r: number;
		endpoint: string;
		omega: number;
		hz: number;
	};
	peers: PeerSnapshot[];
	stats: NodeStats;
	/** The faults in force on this node. */
	faults: FaultsInForce;
};

type Listener = (event: NodeEvent) => void;

/** An inbound message a delay fault holds, with the time it came off the socket. */
type HeldMessage = {message: WireMessage; receivedAtMs: number};

/**
How many messages one drain pass may take before yielding to timers and I/O. A pass runs without a
break, so this bounds how late a tick can be under a flood: 512 messages take about 5–10 ms here
(2048 made ticks 80 ms late at p50 under a 64-peer flood), and a yield costs far less than that.
*/
const DRAIN_BUDGET = 512;
/** A step after a long stall (SIGSTOP, a debugger) is capped so Euler stays stable. */
const MAX_STEP_S = 0.5;
const LATENESS_WINDOW_TICKS = 128;

export class ChorusNode {
	readonly id: string;
	readonly incarnation: number;
	readonly #options: NodeOptions;
	readonly #table: PeerTable;
	readonly #clock = new LamportClock();
	readonly #transport: Transport;
	readonly #random: Uniform;
	readonly #listeners = new Set<Listener>();
	readonly #rejected: Partial<Record<RejectReason, number>> = {};
	readonly #lateness: number[] = [];
	readonly #security: NodeSecurity;
	readonly #faults: FaultPlan<HeldMessage, string>;
	#faultDropped = 0;
	#faultDuplicated = 0;
	#outboundFaultDropped = 0;
	#phaseRad: number;
	#received = 0;
	#admitted = 0;
	#ticks = 0;
	#startedAtMs = 0;
	#lastTickMs = 0;
	#nextDueMs = 0;
	#timer: NodeJS.Timeout | undefined;
	#pumpScheduled = false;
	#running = false;
	#ticking = false;

	constructor(options: NodeOptions) {
		this.#options = options;
		this.id = options.id;
		// Milliseconds since the epoch: a restarted process always has a greater incarnation.
		this.incarnation = Date.now();
		this.#random = options.random ?? Math.random;
		this.#phaseRad = options.initialPhaseRad ?? kuramoto.wrapPhase((this.#random() * 2 - 1) * Math.PI);
		// Its own stream, so that fault draws (one per message) never shift the noise draws (one per tick).
		this.#faults = new FaultPlan(seededUniform(options.faultSeed ?? Math.floor(this.#random() * 2 ** 32)));
		this.#table = new PeerTable({
			ttlMs: options.ttlMs,
			evictionGraceMs: options.evictionGraceMs,
			maxPeers: options.maxPeers,
			maxLamportJump: options.maxLamportJump,
			legacyAdmission: options.legacyAdmission,
		});
		this.#security = new NodeSecurity(options.id, options.security ?? {}, (event) => {
			this.#emit(event);
		});
		this.#transport = new Transport({
			bindEndpoint: options.bindEndpoint,
			...options.transport,
			...this.#security.transportOptions(),
			onEvent: (event) => {
				this.#onTransportEvent(event);
			},
		});
	}

	get endpoint(): string {
		return this.#transport.endpoint;
	}

	get running(): boolean {
		return this.#running;
	}

	/** Listen to the node's events; returns the function that stops listening. */
	on(listener: Listener): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/** Bind, connect to the peers and start ticking. Rejects with a BindError when the port is taken. */
	async start(): Promise<void> {
		await this.#security.start();
		try {
			await this.#transport.start();
		} catch (error) {
			await this.#security.stop();
			throw error;
		}

		for (const endpoint of this.#options.peerEndpoints) {
			this.addPeer(endpoint);
		}

		this.#running = true;
		this.#startedAtMs = performance.now();
		this.#lastTickMs = this.#startedAtMs;
		this.#nextDueMs = this.#startedAtMs;
		this.#emit({kind: 'node-started', endpoint: this.endpoint, incarnation: this.incarnation});
		const warning = exposureWarning(this.endpoint, this.#security.curveEnabled);
		if (warning !== undefined) {
			this.#emit({kind: 'warning', reason: 'exposed-without-curve', message: warning});
		}

		this.#scheduleTick();
	}

	/** Stop ticking and close every socket; no handle stays open. */
	async stop(): Promise<void> {
		if (!this.#running) {
			return;
		}

		this.#running = false;
		clearTimeout(this.#timer);
		this.#timer = undefined;
		this.#faults.discardHeld();
		await this.#transport.close();
		await this.#security.stop();
		this.#emit({kind: 'node-stopped'});
	}

	addPeer(endpoint: string): void {
		if (!this.#security.canSubscribe(endpoint)) {
			this.#emit({kind: 'warning', reason: 'no-key-for-peer', endpoint, message: `not subscribing to ${endpoint}: CURVE is on and the allow file gives no key for it`});
			return;
		}

		this.#transport.addPeer(endpoint);
	}

	removePeer(endpoint: string): void {
		this.#transport.removePeer(endpoint);
	}

	/**
	Set some fields of the inbound fault on one peer (by id) or on every peer (`'all'`); fields left
	out keep their value, and a fault patched back to all zero is removed. A peer's own fault and the
	all-peers fault combine (see `combineInbound`). Throws a FaultError (one line) for a bad value or
	target. Emits `fault-set`, or `fault-cleared` when nothing is left in force on that target.
	*/
	setInboundFault(target: FaultTarget, patch: Partial<InboundFault>): void {
		this.#emitFaultChange(this.#faults.setInbound(target, patch));
	}

	/** Set some fields of the fault on what this node publishes; as `setInboundFault`, with target `'outbound'`. */
	setOutboundFault(patch: Partial<OutboundFault>): void {
		this.#emitFaultChange(this.#faults.setOutbound(patch));
	}

	/** Remove every fault, emitting one `fault-cleared` per entry that was in force. Held messages still arrive when due. */
	clearFaults(): void {
		for (const change of this.#faults.clear()) {
			this.#emitFaultChange(change);
		}
	}

	/** The faults in force (a copy). */
	faults(): FaultsInForce {
		return this.#faults.inForce();
	}

	snapshot(): NodeSnapshot {
		const nowMs = performance.now();
		const peers: PeerSnapshot[] = [];
		const activePhases: number[] = [this.#phaseRad];
		for (const peer of this.#table.peers()) {
			if (this.#table.isActive(peer, nowMs)) {
				activePhases.push(peer.phaseRad);
			}

			peers.push(this.#peerSnapshot(peer, nowMs));
		}

		return {
			t: Math.round(nowMs - this.#startedAtMs),
			node: {
				id: this.id,
				incarnation: this.incarnation,
				lamport: this.#clock.time,
				phase: round(this.#phaseRad, 4),
				r: round(kuramoto.orderParameter(activePhases), 4),
				endpoint: this.endpoint,
				omega: round(this.#options.omegaRadPerS, 4),
				hz: this.#options.hz,
			},
			peers,
			stats: {
				received: this.#received,
				admitted: this.#admitted,
				rejected: {...this.#rejected},
				authRefused: this.#security.authRefused,
				faultDropped: this.#faultDropped,
				faultDuplicated: this.#faultDuplicated,
				faultHeld: this.#faults.heldInbound,
				outboundFaultDropped: this.#outboundFaultDropped,
				outboundFaultHeld: this.#faults.heldOutbound,
				ticks: this.#ticks,
				tickLateMs: latenessSummary(this.#lateness),
			},
			faults: this.#faults.inForce(),
		};
	}

	#peerSnapshot(peer: PeerRecord, nowMs: number): PeerSnapshot {
		const snapshot: PeerSnapshot = {
			id: peer.id,
			state: this.#table.stateOf(peer, nowMs),
			lamport: peer.lamportTime,
			lastSeenMs: Math.max(0, Math.round(nowMs - peer.lastSeenMs)),
			ttlRemainingMs: Math.round(this.#table.ttlRemainingMs(peer, nowMs)),
			phaseDiff: round(kuramoto.phaseDifference(this.#phaseRad, peer.phaseRad), 4),
			incarnation: peer.incarnation,
		};
		if (peer.endpoint !== undefined) {
			snapshot.endpoint = peer.endpoint;
		}

		const faults = this.#faults.inboundFor(peer.id);
		if (faults !== undefined) {
			snapshot.faults = faults;
		}

		return snapshot;
	}

	#scheduleTick(): void {
		if (!this.#running) {
			return;
		}

		const periodMs = 1000 / this.#options.hz;
		this.#nextDueMs += periodMs;
		const nowMs = performance.now();
		// After a stall, skip the missed ticks instead of running them back to back.
		if (this.#nextDueMs < nowMs - periodMs) {
			this.#nextDueMs = nowMs;
		}

		this.#timer = setTimeout(() => {
			void this.#tick();
		}, Math.max(0, this.#nextDueMs - nowMs));
	}

	async #tick(): Promise<void> {
		if (!this.#running || this.#ticking) {
			return;
		}

		this.#ticking = true;
		const startedMs = performance.now();
		this.#recordLateness(startedMs - this.#nextDueMs);
		try {
			// Links that read on demand read everything that arrived since the last tick: polled ones
			// here and now, the others in the poll phase that comes before setImmediate (see zmtp/subscriber.ts).
			if (this.#transport.fetch()) {
				await nextTurn();
				if (!this.#running) {
					return;
				}

				this.#transport.endFetch();
			}

			const more = await this.#transport.drain(DRAIN_BUDGET, this.#onFrames);
			if (!this.#running) {
				return;
			}

			const nowMs = performance.now();
			if (this.#faults.heldInbound > 0) {
				this.#admitHeldMessages(nowMs);
			}

			this.#sweep(nowMs);
			this.#step(nowMs);
			this.#clock.tick();
			this.#ticks++;
			const frame = wire.encode({
				nodeId: this.id,
				phaseRad: this.#phaseRad,
				lamportTime: this.#clock.time,
				incarnation: this.incarnation,
				omegaRadPerS: this.#options.omegaRadPerS,
				hz: this.#options.hz,
				endpoint: this.endpoint,
			});
			await (this.#faults.outboundEngaged ? this.#publishThroughFaults(frame, nowMs) : this.#transport.publish(frame));
			if (more) {
				this.#schedulePump();
			}
		} finally {
			this.#ticking = false;
			this.#scheduleTick();
		}
	}

	/**
	Keep draining between ticks while a flood lasts, a budget at a time, yielding to timers in
	between so that the tick loop is never starved.
	*/
	#schedulePump(): void {
		if (this.#pumpScheduled) {
			return;
		}

		this.#pumpScheduled = true;
		// Links that read on demand read now or in the poll phase before the pass: a flood keeps coming in.
		this.#transport.fetch();
		setImmediate(async () => {
			this.#pumpScheduled = false;
			if (!this.#running || this.#ticking) {
				return;
			}

			const more = await this.#transport.drain(DRAIN_BUDGET, this.#onFrames);
			if (this.#faults.heldInbound > 0) {
				this.#admitHeldMessages(performance.now());
			}

			if (more) {
				this.#schedulePump();
			}
		});
	}

	readonly #onFrames: OnFrames = (frames, endpoint) => {
		this.#received++;
		if (frames.length !== 1) {
			this.#reject('multipart');
			return;
		}

		// The message, or the reason it is refused: no result wrapper to allocate per message.
		const message = wire.decodeMessage(frames[0]!, this.id, this.#options.transport?.maxMessageBytes);
		if (typeof message === 'string') {
			this.#reject(message);
			return;
		}

		// One clock reading per message (a reading costs about as much as the rate limit check): the
		// screen and the admission below are microseconds apart.
		const nowMs = performance.now();
		// Who may send what through this connection (the allow file's id binding), and how often.
		const refused = this.#security.screen(message, endpoint, nowMs);
		if (refused !== undefined) {
			this.#reject(refused);
			return;
		}

		if (this.#faults.inboundActive) {
			this.#admitThroughFaults(message, nowMs);
			return;
		}

		this.#admit(message, nowMs);
	};

	#admit(message: WireMessage, nowMs: number): void {
		const outcome = this.#table.admit(message, nowMs, this.#clock.time);
		if (!outcome.admitted) {
			this.#reject(outcome.reason);
			if (outcome.quarantined) {
				this.#emit({kind: 'peer-quarantined', peer: outcome.quarantined.id, reason: outcome.reason});
			}

			return;
		}

		this.#admitted++;
		this.#clock.observe(message.lamportTime);
		switch (outcome.change) {
			case 'joined': {
				this.#emit({kind: 'peer-joined', peer: message.nodeId, incarnation: message.incarnation});
				break;
			}

			case 'rejoined': {
				this.#emit({kind: 'peer-rejoined', peer: message.nodeId});
				break;
			}

			case 'restarted': {
				this.#emit({kind: 'peer-restarted', peer: message.nodeId, incarnation: message.incarnation});
				break;
			}

			case 'updated': {
				break;
			}
		}
	}

	/** An inbound message while a fault is in force: dropped, held, delivered, or delivered twice. */
	#admitThroughFaults(message: WireMessage, nowMs: number): void {
		const decision = this.#faults.inbound(message.nodeId, {message, receivedAtMs: nowMs}, nowMs);
		if (decision.dropped) {
			this.#faultDropped++;
			return;
		}

		// A duplicate copy is an extra message received, as a duplicated packet would be.
		const extraCopies = decision.now + decision.held - 1;
		this.#faultDuplicated += extraCopies;
		this.#received += extraCopies;
		for (let copy = 0; copy < decision.now; copy++) {
			this.#admit(message, nowMs);
		}
	}

	/**
	Admit the held messages now due, stamped with the time they came off the socket: the delay then
	shows as the peer's age and its phase as old as it is. One that waited past the TTL carries
	information the TTL says to ignore, so it is dropped rather than reviving an evicted peer.
	*/
	#admitHeldMessages(nowMs: number): void {
		for (const {message, receivedAtMs} of this.#faults.releaseInbound(nowMs)) {
			if (nowMs - receivedAtMs > this.#options.ttlMs) {
				this.#faultDropped++;
				continue;
			}

			this.#admit(message, receivedAtMs);
		}
	}

	/** Publish through the outbound fault: first the held frames now due, then this one, dropped, held or sent. */
	async #publishThroughFaults(frame: string, nowMs: number): Promise<void> {
		for (const held of this.#faults.releaseOutbound(nowMs)) {
			// eslint-disable-next-line no-await-in-loop -- one send at a time keeps them in release order.
			await this.#transport.publish(held);
		}

		switch (this.#faults.outbound(frame, nowMs)) {
			case 'send': {
				await this.#transport.publish(frame);
				break;
			}

			case 'dropped':
			case 'overflow': {
				this.#outboundFaultDropped++;
				break;
			}

			case 'held': {
				break;
			}
		}
	}

	#emitFaultChange(change: FaultChange): void {
		const where =
			change.direction === 'inbound'
				? {target: change.target, direction: change.direction, ...(change.target === ALL_PEERS ? {} : {peer: change.target})}
				: {target: 'outbound', direction: change.direction};
		if (change.fault === undefined) {
			this.#emit({kind: 'fault-cleared', ...where});
		} else {
			this.#emit({kind: 'fault-set', ...where, fault: change.fault});
		}
	}

	#reject(reason: RejectReason): void {
		this.#rejected[reason] = (this.#rejected[reason] ?? 0) + 1;
	}

	#sweep(nowMs: number): void {
		const {evicted, removed} = this.#table.sweep(nowMs);
		for (const peer of evicted) {
			this.#emit({kind: 'peer-evicted', peer: peer.id, silentMs: Math.round(nowMs - peer.lastSeenMs)});
		}

		for (const peer of removed) {
			this.#emit({kind: 'peer-removed', peer: peer.id});
		}
	}

	#step(nowMs: number): void {
		const dtS = Math.min((nowMs - this.#lastTickMs) / 1000, MAX_STEP_S);
		this.#lastTickMs = nowMs;
		const coupled: kuramoto.CoupledPeer[] = [];
		for (const peer of this.#table.peers()) {
			if (this.#table.isActive(peer, nowMs)) {
				coupled.push({
					phaseRad: peer.phaseRad,
					omegaRadPerS: peer.omegaRadPerS,
					ageS: (nowMs - peer.lastSeenMs) / 1000,
					weight: peer.weight,
				});
			}
		}

		this.#phaseRad = kuramoto.step({
			phaseRad: this.#phaseRad,
			omegaRadPerS: this.#options.omegaRadPerS,
			coupling: this.#options.coupling,
			noiseSigma: this.#options.noiseSigma,
			dtS,
			peers: coupled,
			xi: kuramoto.standardNormal(this.#random),
		});
	}

	#recordLateness(lateMs: number): void {
		if (this.#lateness.length >= (this.#options.latenessWindowTicks ?? LATENESS_WINDOW_TICKS)) {
			this.#lateness.shift();
		}

		this.#lateness.push(Math.max(0, lateMs));
	}

	#onTransportEvent(event: TransportEvent): void {
		if (event.kind === 'client-handshake-failed') {
			this.#security.clientHandshakeFailed(event.reason, event.code);
			return;
		}

		if (event.kind === 'connection-dropped' && event.reason === 'oversize') {
			// A connection that carried a frame over the size limit is dropped; that frame was
			// received and refused, so it is counted like any other refused frame.
			this.#received++;
			this.#reject('oversize');
		}

		const {kind, ...details} = event;
		this.#emit({kind, ...details});
	}

	#emit(event: Omit<NodeEvent, 't'>): void {
		const stamped = {t: Math.round(performance.now() - this.#startedAtMs), ...event} as NodeEvent;
		for (const listener of this.#listeners) {
			listener(stamped);
		}
	}
}

function round(value: number, digits: number): number {
	const scale = 10 ** digits;
	return Math.round(value * scale) / scale;
}

function latenessSummary(samples: readonly number[]): NodeStats['tickLateMs'] {
	if (samples.length === 0) {
		return {p50: 0, p99: 0, max: 0};
	}

	const sorted = [...samples].sort((a, b) => a - b);
	const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!, 1);
	return {p50: at(0.5), p99: at(0.99), max: round(sorted.at(-1)!, 1)};
}

