/**
A mesh session: the embedded node plus its local demo peers, behind the `MeshController` that the
terminal UI, the headless reporter and the scenario player drive.

Faults on a demo peer act inside that peer's own process (see demo-faults.ts). The session keeps
each demo peer's fault, shows it in snapshots and sends it again to every new incarnation.
*/

import {performance} from 'node:perf_hooks';
import type {Config} from '../config.js';
import {ALL_PEERS, NO_INBOUND_FAULT, type FaultTarget, type InboundFault, type OutboundFault} from '../mesh/model/fault-types.js';
import {isNoInboundFault, patchInbound} from '../mesh/model/faults.js';
import type {ChorusNode} from '../mesh/node.js';
import type {EventDetails} from '../mesh/snapshot.js';
import {lastWords, type DemoPeer, type DemoPeerEvent, type DemoPeerInfo} from '../swarm/demo-peer.js';
import {DemoSwarm} from '../swarm/swarm.js';
import type {MeshController, PeerActionResult, SessionEvent, SessionEventKind, SessionSnapshot} from './controller.js';
import {faultsWithDemoPeers, peerWithDemoFault, pushDemoFault} from './demo-faults.js';
import {createNode} from './node-from-config.js';

export type MeshSessionOptions = {
	/** The CLI demo peers run (default: this package's dist/cli.js). */
	cliPath?: string;
	/** Spawn demo peers through setpriv --pdeathsig (default: when /usr/bin/setpriv exists). */
	useSetpriv?: boolean;
	/** Subscribed before the node starts, so it sees `node-started` too. */
	onEvent?: (event: SessionEvent) => void;
};

type Listener = (event: SessionEvent) => void;

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
		return {...snapshot, peers, faults, demo: this.#swarm?.info() ?? []};
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

	async stop(): Promise<void> {
		this.#stopping ??= (async () => {
			await this.#swarm?.stopAll();
			await this.node.stop();
		})();
		return this.#stopping;
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
