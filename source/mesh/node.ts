/**
A Chorus node: the tick loop that ties transport, wire format, peer table and dynamics together.

A node is an object, not a module singleton, so several can run in one process (tests and
benchmarks do). It has no UI: the terminal UI and the NDJSON reporter both read `snapshot()` and
listen to events.
*/

import {performance} from 'node:perf_hooks';
import * as kuramoto from './kuramoto.js';
import {LamportClock} from './lamport.js';
import {PeerTable, type PeerRecord, type PeerState} from './peer-table.js';
import {seededUniform, type Uniform} from './random.js';
import {Transport, type ReceivedFrames, type TransportEvent, type TransportOptions} from './transport.js';
import * as wire from './wire.js';
import type {RejectReason, WireMessage} from './wire.js';

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
	/** Extra transport settings (CURVE keys, limits). */
	transport?: Partial<TransportOptions>;
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
	| 'handshake-failed'
	| 'fault-set'
	| 'fault-cleared'
	| 'warning';

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
};

export type NodeStats = {
	received: number;
	admitted: number;
	rejected: Partial<Record<RejectReason, number>>;
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
};

type Listener = (event: NodeEvent) => void;

/** How many messages one drain pass may take before yielding to timers and I/O. */
const DRAIN_BUDGET = 2048;
/** A step after a long stall (SIGSTOP, a debugger) is capped so Euler stays stable. */
const MAX_STEP_S = 0.5;
const LATENESS_WINDOW = 128;

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
		this.#table = new PeerTable({
			ttlMs: options.ttlMs,
			evictionGraceMs: options.evictionGraceMs,
			maxPeers: options.maxPeers,
			maxLamportJump: options.maxLamportJump,
			legacyAdmission: options.legacyAdmission,
		});
		this.#transport = new Transport({
			bindEndpoint: options.bindEndpoint,
			...options.transport,
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
		await this.#transport.start();
		for (const endpoint of this.#options.peerEndpoints) {
			this.#transport.addPeer(endpoint);
		}

		this.#running = true;
		this.#startedAtMs = performance.now();
		this.#lastTickMs = this.#startedAtMs;
		this.#nextDueMs = this.#startedAtMs;
		this.#emit({kind: 'node-started', endpoint: this.endpoint, incarnation: this.incarnation});
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
		await this.#transport.close();
		this.#emit({kind: 'node-stopped'});
	}

	addPeer(endpoint: string): void {
		this.#transport.addPeer(endpoint);
	}

	removePeer(endpoint: string): void {
		this.#transport.removePeer(endpoint);
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
				ticks: this.#ticks,
				tickLateMs: latenessSummary(this.#lateness),
			},
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
			const more = await this.#transport.drain(DRAIN_BUDGET, this.#onFrames);
			if (!this.#running) {
				return;
			}

			const nowMs = performance.now();
			this.#sweep(nowMs);
			this.#step(nowMs);
			this.#clock.tick();
			this.#ticks++;
			await this.#transport.publish(
				wire.encode({
					nodeId: this.id,
					phaseRad: this.#phaseRad,
					lamportTime: this.#clock.time,
					incarnation: this.incarnation,
					omegaRadPerS: this.#options.omegaRadPerS,
					hz: this.#options.hz,
					endpoint: this.endpoint,
				}),
			);
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
		setImmediate(async () => {
			this.#pumpScheduled = false;
			if (!this.#running || this.#ticking) {
				return;
			}

			const more = await this.#transport.drain(DRAIN_BUDGET, this.#onFrames);
			if (more) {
				this.#schedulePump();
			}
		});
	}

	readonly #onFrames = ({frames}: ReceivedFrames): void => {
		this.#received++;
		if (frames.length !== 1) {
			this.#reject('multipart');
			return;
		}

		const decoded = wire.decode(frames[0]!, this.id);
		if (!decoded.ok) {
			this.#reject(decoded.reason);
			return;
		}

		this.#admit(decoded.message, performance.now());
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
		if (this.#lateness.length >= LATENESS_WINDOW) {
			this.#lateness.shift();
		}

		this.#lateness.push(Math.max(0, lateMs));
	}

	#onTransportEvent(event: TransportEvent): void {
		if (event.kind === 'connection-dropped') {
			// libzmq drops a connection that carried a frame over maxMessageSize; that frame was
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

