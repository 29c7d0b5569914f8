/**
A mesh session: the embedded node plus its local demo peers, behind the `MeshController` that the
terminal UI, the headless reporter and the scenario player drive.

Faults on a demo peer act inside that peer's own process (see demo-faults.ts). The session keeps
each demo peer's fault, shows it in snapshots and sends it again to every new incarnation.
*/

import {performance} from 'node:perf_hooks';
import process from 'node:process';
import {announcedControlEndpoint} from '../cluster/control/address.js';
import {ControlClient, type ControlCurve} from '../cluster/control/client.js';
import {membersFromSnapshot} from '../cluster/control/ops.js';
import {ControlBindError, ControlServer} from '../cluster/control/server.js';
import type {PartitionShape} from '../cluster/partition-shapes.js';
import type {Member} from '../cluster/protocol.js';
import {Membership} from '../cluster/membership/membership.js';
import type {Config} from '../config.js';
import {ALL_PEERS, NO_INBOUND_FAULT, type FaultTarget, type InboundFault, type OutboundFault} from '../mesh/model/fault-types.js';
import {isNoInboundFault, patchInbound} from '../mesh/model/faults.js';
import {openFileLimit} from '../mesh/net/descriptors.js';
import type {ChorusNode} from '../mesh/node.js';
import type {AllowList} from '../mesh/security/curve/allow-list.js';
import type {EventDetails} from '../mesh/snapshot.js';
import {lastWords, type DemoPeer, type DemoPeerEvent, type DemoPeerInfo} from '../swarm/demo-peer.js';
import {DemoSwarm} from '../swarm/swarm.js';
import type {MemberFault, MeshController, MeshMatrix, PeerActionResult, SessionEvent, SessionEventKind, SessionSnapshot} from './controller.js';
import {loadCurve, readAllowList} from './curve-files.js';
import {faultsWithDemoPeers, peerWithDemoFault, pushDemoFault} from './demo-faults.js';
import {MeshFaults} from './mesh-faults.js';
import {MeshWatch} from './mesh-watch.js';
import {createNode} from './node-from-config.js';

export type MeshSessionOptions = {
	/** The CLI demo peers run (default: this package's dist/cli.js). */
	cliPath?: string;
	/** Spawn demo peers through setpriv --pdeathsig (default: when /usr/bin/setpriv exists). */
	useSetpriv?: boolean;
	/** Subscribed before the node starts, so it sees `node-started` too. */
	onEvent?: (event: SessionEvent) => void;
	/**
	A control `stop` request arrived (its reply is sent): stop the session and exit 0. The run layer's;
	by default the process sends itself SIGTERM, which every run mode handles as a clean stop.
	*/
	onControlStop?: () => void;
};

type Listener = (event: SessionEvent) => void;

/** A global r is exported from a pull at most this old: three of the watch's rounds, so one slow round does not drop the series. */
export const GLOBAL_R_FRESH_MS = 3000;

/**
Control sockets the session keeps open (one DEALER per member it asks). The mesh watch asks every
member with a control plane once a second: with the client's default LRU of 16, a mesh of 200 would
close and reopen a connection on every request. 256 keeps a 200-member mesh's sockets open from
round to round, and the watch asks at most this many members a round, so a larger mesh never
thrashes the cache either. Each socket costs about two descriptors (its connection and libzmq's
mailbox): on a tight ulimit the budget shrinks to an eighth of what is left after the overhead.
*/
export function controlSocketBudget(limit = openFileLimit()): number {
	return Math.max(16, Math.min(256, Math.floor((limit - 64) / 8)));
}

export class MeshSession implements MeshController {
	readonly node: ChorusNode;
	readonly #config: Config;
	readonly #options: MeshSessionOptions;
	readonly #listeners = new Set<Listener>();
	#swarm: DemoSwarm | undefined;
	#demoReady: Promise<void> = Promise.resolve();
	/** While set, the node's events go here instead of to listeners (see `#muted`). */
	#hold: SessionEvent[] | undefined;
	#startedAtMs = performance.now();
	#stopping: Promise<void> | undefined;
	/** The reload in progress, so that SIGHUPs in a burst are applied one after another. */
	#reloading: Promise<unknown> = Promise.resolve();
	/** Who is in the mesh (join, gossip, DNS seeds); started with the node. */
	#membership: Membership | undefined;
	/** The control client membership asks other nodes through; its sockets open on first use. */
	#controlClient: ControlClient | undefined;
	/** With CURVE: the allow list in force, for membership's endpoint filter and control keys. */
	#allow: AllowList | undefined;
	/** This node's control endpoint; undefined with --no-control, or when its default port was taken. */
	#control: ControlServer | undefined;
	/** Faults on any member, with their leases renewed; made on first use. */
	#meshFaults: MeshFaults | undefined;
	/** The mesh view's pulls, while watched. */
	#meshWatch: MeshWatch | undefined;
	/** Who wants the pulls: the mesh view (or a recording) and a standing watch (an observer's global r); they stop when neither does. */
	readonly #watchWanted = {view: false, standing: false};
	readonly #matrixListeners = new Set<(matrix: MeshMatrix) => void>();

	constructor(config: Config, options: MeshSessionOptions = {}) {
		this.#config = config;
		this.#options = options;
		this.node = createNode(config);
		if (options.onEvent) {
			this.#listeners.add(options.onEvent);
		}

		this.node.on((event) => {
			if (event.kind === 'node-started') {
				// The session's own events share the node's clock.
				this.#startedAtMs = performance.now() - event.t;
			}

			if (this.#hold) {
				this.#hold.push(event);
			} else {
				this.#deliver(event);
			}
		});
	}

	/**
	Bind and start the node, then start the demo peers. Resolves once their processes are spawned, not
	once they are ready (see `demoPeersReady`), so a UI can show them joining. Rejects with the node's
	BindError when its port is taken; then nothing is left running.
	*/
	async start(): Promise<void> {
		await this.node.start();
		const count = this.#config.demoPeers;
		if (count === 0) {
			this.#startMembership([]);
			await this.#startControl();
			return;
		}

		const swarm = await DemoSwarm.create({
			count,
			hubEndpoint: this.node.endpoint,
			cliPath: this.#options.cliPath,
			useSetpriv: this.#options.useSetpriv,
			extraArgs: (index) => this.#childArgs(index),
			onEvent: (event) => {
				this.#onDemoEvent(event);
			},
			onEndpointMoved: (id, oldEndpoint, newEndpoint) => {
				this.node.removePeer(oldEndpoint);
				this.node.addPeer(newEndpoint);
				this.record({kind: 'warning', peer: id, reason: `port of ${oldEndpoint} was taken; ${id} moved to ${newEndpoint}`});
			},
		});
		if (this.#stopping) {
			// Stopped while the ports were being picked: start nothing.
			return;
		}

		this.#swarm = swarm;
		for (const endpoint of swarm.endpoints()) {
			this.node.addPeer(endpoint);
		}

		// The demo peers' links are the session's, like --peer ones: membership must not close one when
		// its peer falls silent (killed, paused), or a revived peer would wait out a redial backoff.
		this.#startMembership(swarm.endpoints());
		await this.#startControl();

		this.#demoReady = swarm.startAll().then((results) => {
			for (const result of results) {
				if (!result.ok) {
					this.record({kind: 'warning', peer: result.id, reason: `demo peer did not start: ${result.error}`});
				}
			}
		});
	}

	/** Resolves when every demo peer is ready or has failed to start (failures are `warning` events). */
	async demoPeersReady(): Promise<void> {
		return this.#demoReady;
	}

	get demoPeers(): readonly DemoPeer[] {
		return this.#swarm?.peers ?? [];
	}

	snapshot(): SessionSnapshot {
		const snapshot = this.node.snapshot();
		const faults = faultsWithDemoPeers(snapshot.faults, this.demoPeers);
		const peers = snapshot.peers.map((peer) => peerWithDemoFault(peer, this.#swarm?.get(peer.id), faults.all));
		const stats = this.#control === undefined ? snapshot.stats : {...snapshot.stats, controlRefused: this.#control.refused};
		return {...snapshot, stats, peers, faults, demo: this.#swarm?.info() ?? [], members: this.#membership?.members() ?? []};
	}

	on(listener: Listener): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/** Put an event of the session's own (a peer action, a scenario step) into the event stream. */
	record(event: EventDetails<SessionEventKind>): void {
		this.#deliver({t: Math.round(performance.now() - this.#startedAtMs), ...event});
	}

	isDemoPeer(id: string): boolean {
		return this.#swarm?.has(id) ?? false;
	}

	/** Throws a FaultError (one line) for a bad value or target, like the node does. */
	setInboundFault(target: FaultTarget, patch: Partial<InboundFault>): void {
		const demo = target === ALL_PEERS ? undefined : this.#swarm?.get(target);
		if (demo === undefined) {
			this.node.setInboundFault(target, patch);
			return;
		}

		const before = demo.fault;
		const next = patchInbound(before ?? NO_INBOUND_FAULT, patch);
		demo.fault = isNoInboundFault(next) ? undefined : next;
		if ((before?.duplicate ?? 0) !== next.duplicate) {
			// Its own fault-set event would show only this part; the session reports the whole fault below.
			this.#muted(() => {
				this.node.setInboundFault(demo.id, {duplicate: next.duplicate});
			});
		}

		this.#pushFault(demo);
		const where = {target: demo.id, direction: 'inbound', peer: demo.id, appliedIn: `${demo.id}'s process (its inbound and outbound)`};
		this.record(demo.fault === undefined ? {kind: 'fault-cleared', ...where} : {kind: 'fault-set', ...where, fault: {...demo.fault}});
	}

	setOutboundFault(patch: Partial<OutboundFault>): void {
		this.node.setOutboundFault(patch);
	}

	clearFaults(): void {
		const faulted = this.demoPeers.filter((peer) => peer.fault !== undefined);
		const demoIds = new Set(this.demoPeers.map((peer) => peer.id));
		// The node reports its own entries; a demo peer's local duplicate part is reported as part of
		// the demo peer's fault, below.
		for (const event of this.#muted(() => {
			this.node.clearFaults();
		})) {
			const about = event.peer ?? (event['target'] as string | undefined);
			if (about === undefined || !demoIds.has(about)) {
				this.#deliver(event);
			}
		}

		for (const peer of faulted) {
			peer.fault = undefined;
			this.#pushFault(peer);
			this.record({kind: 'fault-cleared', target: peer.id, direction: 'inbound', peer: peer.id, appliedIn: `${peer.id}'s process`});
		}
	}

	async killPeer(id: string): Promise<PeerActionResult> {
		const demo = this.#swarm?.get(id);
		if (demo === undefined) {
			this.node.setInboundFault(id, {blackhole: true});
			return this.#done(id, 'peer-killed', `${id} is remote: blackholed here only, its process runs on (r lifts it)`, {how: 'local blackhole'});
		}

		if (!demo.alive) {
			return {ok: false, message: `${id} is not running (${demo.state}); r revives it`};
		}

		const pid = demo.pid;
		await demo.kill();
		return this.#done(id, 'peer-killed', `${id} killed (SIGKILL, pid ${pid})`, {how: 'SIGKILL', pid});
	}

	async togglePausePeer(id: string): Promise<PeerActionResult> {
		const demo = this.#swarm?.get(id);
		if (demo?.state === 'paused') {
			return this.resumePeer(id);
		}

		return this.pausePeer(id);
	}

	/** SIGSTOP a demo peer; a no-op answer if it is paused already. */
	async pausePeer(id: string): Promise<PeerActionResult> {
		const demo = this.#swarm?.get(id);
		if (demo === undefined) {
			return {ok: false, message: `${id} is remote: only local demo peers can be paused (x blackholes it here)`};
		}

		if (demo.state === 'paused') {
			return {ok: true, message: `${id} is already paused`};
		}

		if (!demo.alive) {
			return {ok: false, message: `${id} is not running (${demo.state}); r revives it`};
		}

		await demo.pause();
		return this.#done(id, 'peer-paused', `${id} paused (SIGSTOP, pid ${demo.pid})`, {pid: demo.pid});
	}

	/** SIGCONT a paused demo peer. */
	async resumePeer(id: string): Promise<PeerActionResult> {
		const demo = this.#swarm?.get(id);
		if (demo === undefined) {
			return {ok: false, message: `${id} is remote: only local demo peers can be paused or resumed`};
		}

		if (demo.state !== 'paused') {
			return {ok: demo.alive, message: demo.alive ? `${id} is not paused` : `${id} is not running (${demo.state}); r revives it`};
		}

		await demo.resume();
		return this.#done(id, 'peer-resumed', `${id} resumed (SIGCONT, pid ${demo.pid})`, {pid: demo.pid});
	}

	async revivePeer(id: string): Promise<PeerActionResult> {
		const demo = this.#swarm?.get(id);
		if (demo === undefined) {
			const blackholed = this.node.faults().peers[id]?.blackhole ?? false;
			if (!blackholed) {
				return {ok: false, message: `${id} is remote and not blackholed here: nothing to revive`};
			}

			this.node.setInboundFault(id, {blackhole: false});
			return this.#done(id, 'peer-revived', `${id}: local blackhole lifted`, {how: 'blackhole lifted'});
		}

		if (demo.state === 'paused') {
			return {ok: false, message: `${id} is paused, not dead; p resumes it`};
		}

		if (demo.alive) {
			return {ok: false, message: `${id} is already running (pid ${demo.pid})`};
		}

		return this.#startDemo(demo, 'revived');
	}

	/** Kill a demo peer if it runs and start it again: same id and port, a new incarnation. */
	async restartPeer(id: string): Promise<PeerActionResult> {
		const demo = this.#swarm?.get(id);
		if (demo === undefined) {
			return {ok: false, message: `${id} is remote: only local demo peers can be restarted`};
		}

		if (demo.alive) {
			const pid = demo.pid;
			await demo.kill();
			this.record({kind: 'peer-killed', peer: id, how: 'SIGKILL', pid, message: `${id} killed for a restart (SIGKILL, pid ${pid})`});
		}

		return this.#startDemo(demo, 'restarted');
	}

	/**
	Read the allow file again and put it in force (SIGHUP), without a restart; the node emits
	`allow-list-reloaded` with what changed. A file that cannot be read or parsed, or no allow file at
	all (CURVE off), leaves everything as it was and is a `warning` event. Never throws: resolves
	with one line for the operator and whether the new list is in force.
	*/
	async reloadAllowFile(): Promise<{ok: boolean; message: string}> {
		const reload = this.#reloading.then(async () => this.#reloadAllowFile());
		this.#reloading = reload;
		return reload;
	}

	async #reloadAllowFile(): Promise<{ok: boolean; message: string}> {
		const allowFile = this.#config.curve?.allowFile;
		const fail = (message: string) => {
			this.record({kind: 'warning', reason: 'allow-reload-failed', message});
			return {ok: false, message};
		};

		if (allowFile === undefined) {
			return fail('SIGHUP: no allow file to reload (CURVE is off); nothing changed');
		}

		if (this.#stopping) {
			return {ok: false, message: 'SIGHUP: stopping; the allow file was not reloaded'};
		}

		try {
			const allow = readAllowList(allowFile);
			await this.node.reloadSecurity(allow);
			this.#allow = allow;
			return {ok: true, message: `${allowFile} reloaded: ${allow.size} keys`};
		} catch (error) {
			return fail(`SIGHUP: ${(error as Error).message}; the previous allow list stays in force`);
		}
	}

	meshMatrix(): MeshMatrix | undefined {
		return this.#meshWatch?.matrix();
	}

	/** Pull every member's view about once a second while `on` (the mesh view is open, or a recording wants it). */
	watchMesh(on: boolean): void {
		this.#watchWanted.view = on;
		this.#applyWatch();
	}

	/**
	Keep pulling whatever the view wants: an observer with `--metrics` exports the mesh's global r,
	so its pulls must not end when a mesh view closes.
	*/
	keepWatchingMesh(): void {
		this.#watchWanted.standing = true;
		this.#applyWatch();
	}

	/**
	The order parameter of every member's own phase, from a pull of the last few seconds; undefined
	when no watch runs or its last matrix is older (a stopped watch must not export a stale r).
	*/
	globalOrderParameter(nowWallMs = Date.now()): number | undefined {
		const matrix = this.#meshWatch?.running === true ? this.#meshWatch.matrix() : undefined;
		return matrix !== undefined && nowWallMs - matrix.pulledAtWallMs <= GLOBAL_R_FRESH_MS ? matrix.globalR : undefined;
	}

	#applyWatch(): void {
		if (!this.#watchWanted.view && !this.#watchWanted.standing) {
			void this.#meshWatch?.stop();
			return;
		}

		if (this.#stopping) {
			return;
		}

		this.#meshWatch ??= new MeshWatch({
			selfId: this.node.id,
			client: {request: async (...request) => this.#client().request(...request)},
			snapshot: () => ({...this.snapshot(), members: this.members()}),
			controlEndpoint: () => this.#control?.endpoint,
			partition: () => this.#meshFaults?.partitionInForce(),
			onMatrix: (matrix) => {
				for (const listener of this.#matrixListeners) {
					listener(matrix);
				}
			},
		});
		this.#meshWatch.start();
	}

	/** Hear every matrix the watch builds (the recorder keeps them); returns the unsubscribe. */
	onMeshMatrix(listener: (matrix: MeshMatrix) => void): () => void {
		this.#matrixListeners.add(listener);
		return () => this.#matrixListeners.delete(listener);
	}

	async setMemberFault(member: string, fault: MemberFault): Promise<PeerActionResult> {
		return this.#stopping ? {ok: false, message: 'stopping'} : this.#faults().setMemberFault(member, fault);
	}

	async partition(shape: PartitionShape, selected: string | undefined): Promise<PeerActionResult> {
		return this.#stopping ? {ok: false, message: 'stopping'} : this.#faults().partition(shape, selected);
	}

	async clearAll(): Promise<PeerActionResult> {
		return this.#stopping ? {ok: false, message: 'stopping'} : this.#faults().clearAll();
	}

	async stopMember(member: string): Promise<PeerActionResult> {
		return this.#stopping ? {ok: false, message: 'stopping'} : this.#faults().stopMember(member);
	}

	async stop(): Promise<void> {
		this.#stopping ??= (async () => {
			this.node.announceControl(undefined);
			this.#meshFaults?.stop();
			// A pull in progress ends when the client closes (its requests are rejected), not at its timeout.
			const watching = this.#meshWatch?.stop();
			await this.#control?.stop();
			this.#membership?.stop();
			await this.#controlClient?.close();
			await watching;
			await this.#swarm?.stopAll();
			await this.node.stop();
		})();
		return this.#stopping;
	}

	/** Membership: the mesh's members, what the control plane's `members` and `join` answer from. */
	get membership(): Membership | undefined {
		return this.#membership;
	}

	/**
	The control endpoint (cluster/control). A default port (data port + 1) that is taken gives way to
	one the system picks on the same host, which the node announces like any other; an explicit
	`--control` port that is taken is an error. Says where it listens in a `control-started` event.
	*/
	async #startControl(): Promise<void> {
		const config = this.#config;
		if (config.control === undefined || this.#stopping) {
			return;
		}

		const curve = loadCurve(config);
		const start = async (endpoint: string) => ControlServer.start({
			endpoint,
			node: {
				id: this.node.id,
				incarnation: this.node.incarnation,
				endpoint: this.node.endpoint,
				snapshot: () => this.snapshot(),
				setInboundFault: (target, patch) => {
					this.setInboundFault(target, patch);
				},
				setOutboundFault: (patch) => {
					this.setOutboundFault(patch);
				},
				clearFaults: () => {
					this.clearFaults();
				},
				addPeer: (peerEndpoint) => {
					this.node.addPeer(peerEndpoint);
				},
			},
			membership: this.#membership,
			curve: curve === undefined ? undefined : {publicKey: curve.publicKey, secretKey: curve.secretKey, allow: () => this.#allow ?? curve.allow},
			defaultLeaseMs: config.faultLeaseMs,
			onStop: this.#options.onControlStop ?? (() => {
				process.kill(process.pid, 'SIGTERM');
			}),
			onEvent: (event) => {
				this.record(event);
			},
		});
		const wanted = config.control.endpoint;
		let moved: string | undefined;
		try {
			this.#control = await start(wanted);
		} catch (error) {
			if (!(error instanceof ControlBindError) || config.control.explicit) {
				throw error;
			}

			// Port + 1 of a random data port is often an outgoing connection's port (Linux hands out odd
			// ports to bind and even ones to connect): take any free port rather than go without.
			moved = error.message;
			this.#control = await start(wanted.replace(/:\d+$/, ':*'));
		}

		const announced = announcedControlEndpoint(this.#control.endpoint, config.advertiseHost);
		this.node.announceControl(announced);
		this.record({
			kind: 'control-started',
			endpoint: this.#control.endpoint,
			announced: announced ?? null,
			...(moved === undefined ? {} : {requested: wanted, reason: `${moved.split(';')[0]!}; listening on a free port instead`}),
		});
	}

	/** This node's control endpoint, when it serves one. */
	get controlEndpoint(): string | undefined {
		return this.#control?.endpoint;
	}

	#startMembership(demoEndpoints: readonly string[]): void {
		const config = this.#config;
		// With no control plane and nothing to join, nobody could gossip with us and we would ask no
		// one: the node runs as before membership (the baseline of the membership benchmark).
		if (config.control === undefined && config.joins.length === 0) {
			return;
		}

		const client = this.#client();
		this.#membership = new Membership({
			node: this.node,
			joins: config.joins,
			staticPeers: [...config.peerEndpoints, ...demoEndpoints],
			client,
			gossipIntervalMs: config.gossipIntervalMs,
			reconnectTimeoutMs: config.reconnectTimeoutMs,
			fanout: config.fanout,
			ttlMs: config.ttlMs,
			maxMembers: config.maxPeers,
			// With CURVE only endpoints the allow file lists: we could not authenticate any other.
			endpointAllowed: config.curve === undefined ? undefined : (endpoint) => this.#allow?.serverKeyFor(endpoint) !== undefined,
			emit: (event) => {
				this.record(event);
			},
		});
		this.#membership.start();
	}

	/** The control client membership, the mesh watch and the mesh faults ask members through; made once. */
	#client(): ControlClient {
		if (this.#controlClient === undefined) {
			// Read again here (the node read them at construction): the node keeps its keys to itself.
			const curve = loadCurve(this.#config);
			this.#allow ??= curve?.allow;
			this.#controlClient = new ControlClient({
				curve: curve === undefined ? undefined : (endpoint) => this.#controlCurve(curve, endpoint),
				maxSockets: controlSocketBudget(),
			});
		}

		return this.#controlClient;
	}

	/** Every member this node knows, itself first: membership's, or (without it) the peer table's. */
	members(): Member[] {
		const members = this.#membership?.members();
		return members !== undefined && members.length > 0 ? members : membersFromSnapshot(this.node.snapshot(), this.#control?.endpoint, Date.now());
	}

	#faults(): MeshFaults {
		this.#meshFaults ??= new MeshFaults({
			selfId: this.node.id,
			client: {request: async (...request) => this.#client().request(...request)},
			members: () => this.members(),
			// This node's own faults, on the node itself: a link blackhole for a demo peer must cut only
			// the link to it, not everything that peer sends and receives (what setInboundFault does for
			// a demo peer, in its process). Clearing clears the demo peers' faults too.
			local: {
				setInboundFault: (target, patch) => {
					this.node.setInboundFault(target, patch);
				},
				setOutboundFault: (patch) => {
					this.node.setOutboundFault(patch);
				},
				clearFaults: () => {
					this.clearFaults();
				},
			},
			leaseMs: this.#config.faultLeaseMs,
			record: (event) => {
				this.record(event);
			},
		});
		return this.#meshFaults;
	}

	/** A member's control socket is a CURVE server with the member's key: the one its data endpoint has in the allow file. */
	#controlCurve(keys: {publicKey: string; secretKey: string}, controlEndpoint: string): ControlCurve | undefined {
		const allow = this.#allow;
		if (allow === undefined) {
			return undefined;
		}

		const member = this.#membership?.members().find((candidate) => candidate.control === controlEndpoint);
		const serverKey = allow.serverKeyFor(controlEndpoint) ?? (member === undefined ? undefined : allow.serverKeyFor(member.endpoint));
		return serverKey === undefined ? undefined : {...keys, serverKey};
	}

	async #startDemo(demo: DemoPeer, verb: string): Promise<PeerActionResult> {
		try {
			await demo.start();
		} catch (error) {
			return {ok: false, message: `${demo.id} could not be ${verb}: ${(error as Error).message}`};
		}

		const info = demo.info();
		return this.#done(demo.id, 'peer-revived', `${demo.id} ${verb} (pid ${info.pid}, incarnation ${info.incarnation})`, {
			pid: info.pid,
			incarnation: info.incarnation,
		});
	}

	#done(peer: string, kind: SessionEventKind, message: string, details: Record<string, unknown>): PeerActionResult {
		this.record({kind, peer, ...details, message});
		return {ok: true, message};
	}

	#childArgs(index: number): string[] {
		const config = this.#config;
		const args = [
			'--hz',
			String(config.hz),
			'--ttl',
			String(config.ttlMs / 1000),
			'--coupling',
			String(config.coupling),
			'--noise',
			String(config.noiseSigma),
			'--report-ms',
			'1000',
			// Demo peers run their control endpoint (loopback, data port + 1, or a free port when that
			// is taken), so that the mesh view has a row for each and faults reach them like any
			// member's. Kill, pause and revive stay on their IPC channel (swarm/control.ts).
		];
		if (config.seed !== undefined) {
			args.push('--seed', String((config.seed + index) % 2 ** 32));
		}

		return args;
	}

	#onDemoEvent(event: DemoPeerEvent): void {
		switch (event.kind) {
			case 'ready': {
				const demo = this.#swarm?.get(event.peer);
				if (demo?.fault !== undefined) {
					this.#pushFault(demo);
				}

				break;
			}

			case 'exited': {
				if (!event.expected && !this.#stopping) {
					const how = event.signal ?? `code ${event.code}`;
					const why = lastWords(event.stderr);
					this.record({kind: 'demo-exited', peer: event.peer, pid: event.pid, reason: `exited (${how})${why ? `: ${why}` : ''}`});
				}

				break;
			}

			case 'line': {
				break;
			}
		}
	}

	/** Send a demo peer's fault to its process; a refusal comes back as a warning. */
	#pushFault(demo: DemoPeer): void {
		pushDemoFault(demo, (error) => {
			this.record({kind: 'warning', peer: demo.id, reason: `fault not applied in ${demo.id}: ${error}`});
		});
	}

	/** Run a change with the node's events held back; returns them for the caller to sort. */
	#muted(change: () => void): SessionEvent[] {
		const held: SessionEvent[] = [];
		const outer = this.#hold;
		this.#hold = held;
		try {
			change();
		} finally {
			this.#hold = outer;
		}

		return held;
	}

	#deliver(event: SessionEvent): void {
		for (const listener of this.#listeners) {
			listener(event);
		}
	}
}

/** Start the embedded node and `config.demoPeers` demo peers. */
export async function createMeshSession(config: Config, options: MeshSessionOptions = {}): Promise<MeshSession> {
	const session = new MeshSession(config, options);
	try {
		await session.start();
	} catch (error) {
		await session.stop();
		throw error;
	}

	return session;
}
