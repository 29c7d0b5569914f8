/**
A Chorus node: the tick loop that ties transport, wire format, peer table and dynamics together.

A node is an object, not a module singleton, so several can run in one process (tests and
benchmarks do). It has no UI: the terminal UI and the NDJSON reporter both read `snapshot()` and
listen to events. Its options are in options.ts, what it shows in snapshot.ts, the inbound path
(decode, screen, faults, admit) in admission.ts and its counters in stats.ts.
*/

import {performance} from 'node:perf_hooks';
import {Admission, type HeldMessage} from './admission.js';
import {ALL_PEERS, type FaultsInForce, type FaultTarget, type InboundFault, type OutboundFault} from './model/fault-types.js';
import {FaultPlan, type FaultChange} from './model/faults.js';
import * as kuramoto from './model/kuramoto.js';
import {peerAtInstant} from './model/phase-estimator.js';
import {LamportClock} from './model/lamport.js';
import {PeerTable, type PeerRecord} from './model/peer-table.js';
import {seededUniform, type Uniform} from './model/random.js';
import * as wire from './model/wire.js';
import {Transport, type OnFrames, type TransportEvent} from './net/transport.js';
import type {NodeOptions} from './options.js';
import type {AllowList} from './security/curve/allow-list.js';
import {exposureWarning, NodeSecurity} from './security/screening.js';
import type {EventDetails, HeardPeer, NodeEvent, NodeEventKind, NodeSnapshot, PeerSnapshot} from './snapshot.js';
import {LatenessWindow, NodeCounters, round} from './stats.js';

// The node's contract, importable from here as before the split.
export type {NodeOptions} from './options.js';
export type {NodeEvent, NodeEventKind, NodeSnapshot, NodeStats, PeerSnapshot} from './snapshot.js';

type Listener = (event: NodeEvent) => void;

/**
How many messages one drain pass may take before yielding to timers and I/O. A pass runs without a
break, so this bounds how late a tick can be under a flood: 512 messages take about 5–10 ms here
(2048 made ticks 80 ms late at p50 under a 64-peer flood), and a yield costs far less than that.
*/
const DRAIN_BUDGET = 512;
/** A step after a long stall (SIGSTOP, a debugger) is capped so Euler stays stable. */
const MAX_STEP_S = 0.5;
/** A node's first seconds: every message carries its control endpoint, so that a seed's is known at once. */
const CONTROL_IN_EVERY_MESSAGE_S = 3;

/**
One oscillator of the mesh: it publishes its phase `hz` times a second on `bindEndpoint`, subscribes
to its peers, admits what they send into its peer table (TTL, incarnations, Lamport order) and
couples its phase to theirs. `start()` binds and starts ticking; `stop()` closes every socket and
timer. Several nodes can run in one process.
*/
export class ChorusNode {
	readonly id: string;
	readonly incarnation: number;
	readonly #options: NodeOptions;
	readonly #table: PeerTable;
	readonly #clock = new LamportClock();
	readonly #transport: Transport;
	readonly #random: Uniform;
	readonly #listeners = new Set<Listener>();
	readonly #counters = new NodeCounters();
	readonly #lateness: LatenessWindow;
	readonly #security: NodeSecurity;
	readonly #faults: FaultPlan<HeldMessage, string>;
	readonly #admission: Admission;
	/** Where the transport delivers each message: the inbound path. */
	readonly #onFrames: OnFrames;
	/** The same for links whose frames every receiver shares (inproc): decoded once for all. */
	readonly #onSharedFrames: OnFrames;
	#phaseRad: number;
	#ticks = 0;
	/** Data messages handed to the publisher (an observer never hands one). */
	#published = 0;
	#startedAtMs = 0;
	#lastTickMs = 0;
	#nextDueMs = 0;
	#timer: NodeJS.Timeout | undefined;
	#pumpScheduled = false;
	#running = false;
	#ticking = false;
	/** Our control endpoint, announced in our messages (wire `control`, see #controlToAnnounce); set by the control server once bound. */
	#control: string | undefined;
	/** The tick whose message last carried `control` (see #controlToAnnounce). */
	#controlAnnouncedAtTick = Number.NEGATIVE_INFINITY;
	/** The endpoints we subscribe to (the transport's links): whether a peer is still heard elsewhere when one is removed. */
	readonly #links = new Set<string>();

	constructor(options: NodeOptions) {
		this.#options = options;
		this.id = options.id;
		// Milliseconds since the epoch: a restarted process always has a greater incarnation.
		this.incarnation = Date.now();
		this.#random = options.random ?? Math.random;
		this.#phaseRad = options.initialPhaseRad ?? kuramoto.wrapPhase((this.#random() * 2 - 1) * Math.PI);
		this.#lateness = new LatenessWindow(options.latenessWindowTicks);
		// Its own stream, so that fault draws (one per message) never shift the noise draws (one per tick).
		this.#faults = new FaultPlan(seededUniform(options.faultSeed ?? Math.floor(this.#random() * 2 ** 32)));
		this.#table = new PeerTable({
			ttlMs: options.ttlMs,
			evictionGraceMs: options.evictionGraceMs,
			maxPeers: options.maxPeers,
			maxLamportJump: options.maxLamportJump,
			wallClockOffsetMs: performance.timeOrigin,
			legacyAdmission: options.legacyAdmission,
		});
		this.#security = new NodeSecurity(options.id, options.security ?? {}, (event) => {
			this.#emit(event);
		});
		this.#admission = new Admission({
			id: options.id,
			maxMessageBytes: options.transport?.maxMessageBytes,
			ttlMs: options.ttlMs,
			table: this.#table,
			clock: this.#clock,
			security: this.#security,
			faults: this.#faults,
			counters: this.#counters,
			emit: (event) => {
				this.#emit(event);
			},
		});
		this.#onFrames = this.#admission.onFrames;
		this.#onSharedFrames = this.#admission.onSharedFrames;
		this.#transport = new Transport({
			bindEndpoint: options.bindEndpoint,
			...options.transport,
			...this.#security.transportOptions(),
			onEvent: (event) => {
				this.#onTransportEvent(event);
			},
		});
	}

	/**
	The data endpoint this node announces (in every message, in `join`, in snapshots): the bound one, or
	with `advertiseHost` that host and the bound port.
	*/
	get endpoint(): string {
		const bound = this.#transport.endpoint;
		return this.#options.advertiseHost === undefined ? bound : withHost(bound, this.#options.advertiseHost);
	}

	/** Where the publisher is bound (may be 0.0.0.0, or a pod IP others know by name). */
	get boundEndpoint(): string {
		return this.#transport.endpoint;
	}

	/** This node only watches (`--observe`): it publishes nothing. */
	get observer(): boolean {
		return this.#options.observe === true;
	}

	get running(): boolean {
		return this.#running;
	}

	/** The control endpoint this node announces, if any. */
	get control(): string | undefined {
		return this.#control;
	}

	/** Announce a control endpoint from the next tick on (undefined: announce none); see #controlToAnnounce. */
	announceControl(endpoint: string | undefined): void {
		this.#control = endpoint;
		this.#controlAnnouncedAtTick = Number.NEGATIVE_INFINITY;
	}

	/** Listen to the node's events; returns the function that stops listening. */
	on(listener: Listener): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/**
	Hear each tick's lateness in milliseconds (how far behind schedule it started), once per tick: what
	a cumulative histogram needs, which the snapshot's window of recent ticks cannot give. One observer
	at a time (a later call replaces it); returns the function that stops it.
	*/
	onTickLateness(observer: (lateMs: number) => void): () => void {
		return this.#lateness.observe(observer);
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
		// The first tick is due now, not a period from now: the node announces itself as soon as it is
		// bound, and the headless stream's first snapshot (written after the first tick) comes at once.
		this.#nextDueMs = this.#startedAtMs - 1000 / this.#options.hz;
		this.#emit({
			kind: 'node-started',
			endpoint: this.endpoint,
			...(this.endpoint === this.boundEndpoint ? {} : {bound: this.boundEndpoint}),
			incarnation: this.incarnation,
			...(this.observer ? {observer: true} : {}),
		});
		const warning = exposureWarning(this.boundEndpoint, this.#security.curveEnabled);
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

	/** Subscribe to one more publisher (with CURVE, only one the allow file gives a key for). */
	addPeer(endpoint: string): void {
		if (!this.#security.subscribing(endpoint)) {
			this.#emit({kind: 'warning', reason: 'no-key-for-peer', endpoint, message: `not subscribing to ${endpoint}: CURVE is on and the allow file gives no key for it`});
			return;
		}

		this.#links.add(endpoint);
		this.#transport.addPeer(endpoint);
	}

	/**
	Unsubscribe from a publisher, and forget at once the peers last heard through it (`peer-removed`,
	reason `unsubscribed`) unless the endpoint a peer announces is another link we hold: nothing more
	will come from them, so their phases leave the coupling sum now, not a TTL later (a `--fanout` pick
	swapped out would otherwise pull on us for a TTL). If one is heard again, it joins again.
	*/
	removePeer(endpoint: string): void {
		this.#security.unsubscribed(endpoint);
		this.#links.delete(endpoint);
		this.#transport.removePeer(endpoint);
		this.#forgetHeardOnlyThrough(endpoint);
	}

	#forgetHeardOnlyThrough(endpoint: string): void {
		if (this.#options.legacyAdmission) {
			// The original node never lets a peer go: kept so, for measuring what this project fixes.
			return;
		}

		const nowMs = performance.now();
		for (const peer of this.#table.peers()) {
			const heardThrough = peer.connection ?? peer.endpoint;
			const heardElsewhere = peer.endpoint !== undefined && peer.endpoint !== endpoint && this.#links.has(peer.endpoint);
			// An evicted peer is out of the sum already: it leaves the table after its grace, as usual.
			if (heardThrough === endpoint && !heardElsewhere && this.#table.stateOf(peer, nowMs) !== 'evicted') {
				// Deleting the entry being visited is safe while walking a Map.
				this.#table.forget(peer.id);
				this.#emit({kind: 'peer-removed', peer: peer.id, endpoint, reason: 'unsubscribed'});
			}
		}
	}

	/**
	Put a new allow list in force without a restart (the allow file read again on SIGHUP): new keys
	are let in at their next handshake; if any key was removed, every subscriber of our publisher is
	disconnected and must handshake again, which shuts out the removed ones (libzmq cannot close one
	connection of a socket, and allowed peers are back within a reconnect interval); subscriptions
	whose endpoint lost its key are closed, those whose key changed are dialled afresh. Emits
	`allow-list-reloaded` with the counts. False without CURVE: there is no list to replace.
	*/
	async reloadSecurity(allow: AllowList): Promise<boolean> {
		const change = this.#security.replaceAllowList(allow);
		if (change === undefined) {
			return false;
		}

		for (const endpoint of [...change.close, ...change.reopen]) {
			this.#links.delete(endpoint);
			this.#transport.removePeer(endpoint);
		}

		for (const endpoint of [...change.reopen, ...change.open]) {
			this.#links.add(endpoint);
			this.#transport.addPeer(endpoint);
		}

		let clientsDropped = false;
		try {
			clientsDropped = change.keysRemoved > 0 && this.#running && (await this.#transport.dropClients());
		} catch (error) {
			// The new list is in force for every new handshake; only the old connections could not be cut.
			this.#emit({kind: 'warning', reason: 'allow-reload-incomplete', message: `the allow file is reloaded, but the connections of removed keys could not be closed: ${(error as Error).message}`});
		}

		const {reopen, close, open, ...counts} = change;
		this.#emit({
			kind: 'allow-list-reloaded',
			...counts,
			linksClosed: close.length,
			linksReopened: reopen.length,
			linksOpened: open.length,
			clientsDropped,
		});
		return true;
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

	/** The node, its peers, its statistics and its faults, now: a fresh object each call. */
	snapshot(): NodeSnapshot {
		const nowMs = performance.now();
		const peers: PeerSnapshot[] = [];
		// An observer's phase is in nobody's sum: the mesh's r is its peers' alone.
		const activePhases: number[] = this.observer ? [] : [this.#phaseRad];
		for (const peer of this.#table.peers()) {
			if (this.#table.isActive(peer, nowMs)) {
				activePhases.push(peer.phaseRad);
			}

			peers.push(this.#peerSnapshot(peer, nowMs));
		}

		const counters = this.#counters;
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
				...(this.observer ? {observer: true as const} : {}),
			},
			peers,
			stats: {
				received: counters.received,
				admitted: counters.admitted,
				rejected: {...counters.rejected},
				authRefused: this.#security.authRefused,
				// refused, linkRefused, dialFailed, connections, subscriptions, subscriptionBytes (net/transport.ts).
				...this.#transport.stats(),
				faultDropped: counters.faultDropped,
				faultDuplicated: counters.faultDuplicated,
				faultHeld: this.#faults.heldInbound,
				outboundFaultDropped: counters.outboundFaultDropped,
				outboundFaultHeld: this.#faults.heldOutbound,
				ticks: this.#ticks,
				published: this.#published,
				tickLateMs: this.#lateness.summary(),
			},
			faults: this.#faults.inForce(),
		};
	}

	/**
	The control endpoint rides in every message of the first seconds and when it changes, then in one
	message a second: a receiver keeps what a node told it (peer-table.ts), and reading it again in
	each of the 190 messages a second that reach a node of a 20-node mesh was a seventh of the
	garbage the control plane made (bench/optimizations.md).
	*/
	#controlToAnnounce(): string | undefined {
		const hz = this.#options.hz;
		if (this.#control === undefined || (this.#ticks > CONTROL_IN_EVERY_MESSAGE_S * hz && this.#ticks - this.#controlAnnouncedAtTick < hz)) {
			return undefined;
		}

		this.#controlAnnouncedAtTick = this.#ticks;
		return this.#control;
	}

	/**
	The peers heard within their TTL, neither evicted nor quarantined: what membership takes as
	evidence of life. A snapshot would do, but membership reads this every second, and in a VM
	the snapshot's garbage (phases, statistics, copies of the faults) cost a 20-node mesh a third
	more CPU per node (bench/optimizations.md).
	*/
	heardPeers(): HeardPeer[] {
		const nowMs = performance.now();
		const heard: HeardPeer[] = [];
		for (const peer of this.#table.peers()) {
			const state = this.#table.stateOf(peer, nowMs);
			if (state !== 'evicted' && state !== 'quarantined') {
				heard.push({id: peer.id, incarnation: peer.incarnation, silentForMs: nowMs - peer.lastSeenMs, endpoint: peer.endpoint, via: peer.connection, control: peer.control});
			}
		}

		return heard;
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
		} else if (peer.connection !== undefined) {
			// A legacy peer announces no endpoint: the link we hear it through is where it publishes.
			snapshot.via = peer.connection;
		}

		if (peer.control !== undefined) {
			snapshot.control = peer.control;
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
			// Everything that arrived since the last tick, however the links read it (transport.ts).
			const more = await this.#transport.poll(DRAIN_BUDGET, this.#onFrames, this.#onSharedFrames);
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
			if (this.observer) {
				// It watches without pulling on what it watches: nothing is sent, ever.
				if (more) {
					this.#schedulePump();
				}

				return;
			}

			const frame = wire.encode({
				nodeId: this.id,
				phaseRad: this.#phaseRad,
				lamportTime: this.#clock.time,
				incarnation: this.incarnation,
				omegaRadPerS: this.#options.omegaRadPerS,
				hz: this.#options.hz,
				endpoint: this.endpoint,
				control: this.#controlToAnnounce(),
				// The instant the phase above was taken, on the wall clock: receivers age it from here.
				sentMs: performance.timeOrigin + nowMs,
			});
			await (this.#faults.outboundEngaged ? this.#publishThroughFaults(frame, nowMs) : this.#publish(frame));
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

			// A flood keeps coming in: poll reads what arrived since, as well as what is queued.
			const more = await this.#transport.poll(DRAIN_BUDGET, this.#onFrames, this.#onSharedFrames);
			if (this.#faults.heldInbound > 0) {
				this.#admitHeldMessages(performance.now());
			}

			if (more) {
				this.#schedulePump();
			}
		});
	}

	/** The inbound path's own: admit the messages a delay fault held that are now due. */
	#admitHeldMessages(nowMs: number): void {
		this.#admission.admitHeld(nowMs);
	}

	async #publish(frame: string): Promise<void> {
		this.#published++;
		await this.#transport.publish(frame);
	}

	/** Publish through the outbound fault: first the held frames now due, then this one, dropped, held or sent. */
	async #publishThroughFaults(frame: string, nowMs: number): Promise<void> {
		for (const held of this.#faults.releaseOutbound(nowMs)) {
			// eslint-disable-next-line no-await-in-loop -- one send at a time keeps them in release order.
			await this.#publish(held);
		}

		switch (this.#faults.outbound(frame, nowMs)) {
			case 'send': {
				await this.#publish(frame);
				break;
			}

			case 'dropped':
			case 'overflow': {
				this.#counters.outboundFaultDropped++;
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
		// Every peer's phase estimated at this instant (phase-estimator.ts), so that the step compares
		// phases taken at the same time; our own tick period bounds how long a message waited for us.
		const pollPeriodMs = 1000 / this.#options.hz;
		const coupled: kuramoto.PeerAtInstant[] = [];
		for (const peer of this.#table.peers()) {
			if (this.#table.isActive(peer, nowMs)) {
				coupled.push(peerAtInstant(peer, nowMs, pollPeriodMs, performance.timeOrigin));
			}
		}

		this.#phaseRad = kuramoto.instantStep({
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
		this.#lateness.record(lateMs);
	}

	#onTransportEvent(event: TransportEvent): void {
		if (event.kind === 'client-handshake-failed') {
			this.#security.clientHandshakeFailed(event.reason, event.code);
			return;
		}

		if (event.kind === 'connection-dropped' && event.reason === 'oversize') {
			// A connection that carried a frame over the size limit is dropped; that frame was
			// received and refused, so it is counted like any other refused frame.
			this.#counters.received++;
			this.#counters.reject('oversize');
		}

		const {kind, ...details} = event;
		this.#emit({kind, ...details});
	}

	#emit(event: EventDetails<NodeEventKind>): void {
		const stamped: NodeEvent = {t: Math.round(performance.now() - this.#startedAtMs), ...event};
		for (const listener of this.#listeners) {
			listener(stamped);
		}
	}
}

/** `tcp://host:port` with another host (an IPv6 address is bracketed): what `advertiseHost` announces. */
function withHost(endpoint: string, host: string): string {
	const port = /:(\d+)$/.exec(endpoint)?.[1];
	if (!endpoint.startsWith('tcp://') || port === undefined) {
		return endpoint;
	}

	return `tcp://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}
