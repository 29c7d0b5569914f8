/**
The attack soak (`npm run soak -- --attack`): every attack of issue 12 at once against one node of a
20-node mesh, for 10 minutes (`--minutes`).

Every node is a `chorus-tui --headless` child (the target too, so that its memory and descriptors
are its own), all subscribed to each other. The target alone also dials three hostile publishers
(empty MORE frames; unknown commands; Lamport poisoning with spoofed incarnations) and is dialled by
hostile subscribers (PING flood from non-readers, a subscription flood, a connection flood): see
lib/attacks.ts. Each sample reads the target's tick rate (from its NDJSON), its RSS and descriptors
(from /proc), and the mesh's global order parameter r from every node's own phase, asked of every
node's control plane at once (`view`) and each carried to one instant by the node's ω from when its
reply arrived, as the mesh view and the sparse bench take it.

Before 2026-12-02 the r was taken from the nodes' NDJSON snapshots instead, each advanced from
when its `node-started` line reached this process: on a loaded machine those lines arrive late by
varying amounts, and each 100 ms of error costs 0.3 rad, which can only lower r (the run of
2026-12-02 00:26 measured 0.940 that way while the nodes' own r averaged 0.985). That figure is
still taken, as `meshRSnapshots`, beside the control plane's.
*/

import {spawn, type ChildProcess} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {createInterface} from 'node:readline';
import {ControlClient} from '../../source/cluster/control/client.js';
import {connectionFlood, emptyMoreFrames, pingFlood, poisoner, subscriptionFlood, unknownCommandFlood, type Attack} from './attacks.js';
import {orderParameter} from './stats.js';

export type AttackSoakOptions = {
	cliPath: string;
	minutes: number;
	/** Nodes in the mesh, the target included. @default 20 */
	nodes: number;
	sampleMs: number;
	/** Connections the connection flood holds open. @default 1000 */
	connections: number;
	/** Engine of the target (`builtin` or `libzmq`). */
	engine: string;
	freePorts: (count: number) => Promise<number[]>;
	log: (line: string) => void;
};

export type AttackSample = {
	atS: number;
	/** Ticks a second since the last sample, ÷ the nominal 10 Hz. */
	tickRateShare: number;
	rssMb: number;
	fds: number;
	/** The same for mesh-2, a node that is not attacked: what the shared machine left any node. */
	referenceTickRateShare: number;
	/** Order parameter over every node's own phase, from the control plane (see the file's comment). */
	meshR: number;
	/** The same without the target: whether the rest of the mesh stays in step. */
	meshRWithoutTarget: number;
	/** Nodes whose control plane answered in time: those in meshR. */
	nodesAnswered: number;
	/** The earlier method's r, from the NDJSON snapshots (see the file's comment). */
	meshRSnapshots: number;
	/**
	The mean of the r each node reports itself (its phase and its live peers' last phases): free of
	this harness's timing, but blind to peers a node has evicted.
	*/
	nodesOwnR: number;
	/** Nodes whose snapshot was fresh enough to count in meshR. */
	nodesSeen: number;
	/** Mesh peers the target lists as alive. */
	targetAlivePeers: number;
	targetAlive: boolean;
};

export type AttackSoakResult = {
	ok: boolean;
	minutes: number;
	nodes: number;
	engine: string;
	samples: AttackSample[];
	failures: string[];
	attacks: Array<{name: string; counts: Record<string, number>}>;
	summary: {
		survived: boolean;
		tickRateMean: number;
		tickRateMin: number;
		referenceTickRateMean: number;
		rssPeakMb: number;
		/** Before the attacks, with the mesh in step. */
		rssBeforeAttackMb: number;
		rssStartMb: number;
		rssEndMb: number;
		fdsPeak: number;
		meshRMin: number;
		meshRMean: number;
		/** Share of samples with r >= 0.95. */
		meshRAbove095: number;
		meshRWithoutTargetMean: number;
		/** The earlier method's mean r, from the NDJSON snapshots. */
		meshRSnapshotsMean: number;
		/** The fewest nodes whose control plane answered in one sample. */
		nodesAnsweredMin: number;
		nodesOwnRMean: number;
		targetAlivePeersMin: number;
		targetStats: Record<string, unknown>;
		loadAverage: string;
	};
};

const HZ = 10;

/**
`takenMs`: when the node took the snapshot, on this process's clock: when its `node-started` line
arrived (at start-up, before any attack, when pipes are quick) plus the snapshot's `t`.
*/
type Latest = {phase: number; omega: number; lamport: number; ownR: number; atMs: number; takenMs: number; ticks: number; stats?: Record<string, unknown>; alivePeers: number};

type SnapshotLine = {
	t: number;
	node: {phase: number; omega: number; lamport: number; incarnation: number; r: number};
	stats: Record<string, unknown> & {ticks: number};
	peers: Array<{id: string; state: string}>;
};

class MeshProcess {
	readonly child: ChildProcess;
	latest: Latest | undefined;
	/** When its node-started line arrived: t = 0 of its snapshots, on this process's clock. */
	startedAtMs: number | undefined;
	exit: string | undefined;
	stderr = '';

	constructor(cliPath: string, readonly id: string, args: readonly string[]) {
		this.child = spawn(process.execPath, [cliPath, '--headless', '--id', id, ...args], {stdio: ['ignore', 'pipe', 'pipe']});
		createInterface({input: this.child.stdout!}).on('line', (text) => {
			if (this.startedAtMs === undefined && text.includes('"kind":"node-started"')) {
				this.startedAtMs = performance.now();
			}

			if (!text.startsWith('{"type":"snapshot"')) {
				return;
			}

			try {
				const snapshot = JSON.parse(text) as SnapshotLine;
				this.latest = {
					phase: snapshot.node.phase,
					omega: snapshot.node.omega,
					lamport: snapshot.node.lamport,
					ownR: snapshot.node.r,
					atMs: performance.now(),
					takenMs: (this.startedAtMs ?? performance.now() - snapshot.t) + snapshot.t,
					ticks: snapshot.stats.ticks,
					stats: snapshot.stats,
					alivePeers: snapshot.peers.filter((peer) => peer.state === 'alive' && peer.id.startsWith('mesh-')).length,
				};
			} catch {
				// A line cut short at exit.
			}
		});
		this.child.stderr!.on('data', (chunk: Buffer) => {
			this.stderr = (this.stderr + chunk.toString()).slice(-2000);
		});
		this.child.on('exit', (code, signal) => {
			this.exit = signal ?? `code ${code}`;
		});
	}

	get alive(): boolean {
		return this.exit === undefined;
	}

	async stop(): Promise<void> {
		if (!this.alive) {
			return;
		}

		const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
		this.child.kill('SIGTERM');
		const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
		await exited;
		clearTimeout(timer);
	}
}

export async function runAttackSoak(options: AttackSoakOptions): Promise<AttackSoakResult> {
	const ports = await options.freePorts((options.nodes * 2) + 3);
	const endpoint = (port: number) => `tcp://127.0.0.1:${port}`;
	const meshEndpoints = ports.slice(0, options.nodes).map(endpoint);
	// Named control ports: the default (data port + 1) could be another node's data port.
	const controlEndpoints = ports.slice(options.nodes, options.nodes * 2).map(endpoint);
	const [morePort, commandPort, poisonPort] = ports.slice(options.nodes * 2);
	const client = new ControlClient({timeoutMs: 2000, maxSockets: options.nodes + 8, maxInFlight: options.nodes + 8});
	const targetPort = ports[0]!;
	const log = options.log;

	const nodes: MeshProcess[] = [];
	const attacks: Attack[] = [];
	const samples: AttackSample[] = [];
	const failures: string[] = [];
	let rssBeforeAttackMb = 0;
	// The clock of a genuine node, which the poisoner stays a million ahead of.
	const meshLamport = () => nodes[1]?.latest?.lamport ?? 0;
	try {
		// The hostile publishers first: the target dials them from its start.
		attacks.push(await emptyMoreFrames(morePort!), await unknownCommandFlood(commandPort!));
		const poison = await poisoner(poisonPort!, 'mesh-1', meshLamport);
		attacks.push(poison);

		for (let index = 0; index < options.nodes; index++) {
			const peers = meshEndpoints.filter((_, other) => other !== index);
			if (index === 0) {
				peers.push(...attacks.map((attack) => attack.endpoint));
			}

			nodes.push(new MeshProcess(options.cliPath, `mesh-${index}`, [
				'--bind', String(ports[index]), '--control', controlEndpoints[index]!, '--peer', peers.join(','), '--demo', '0', '--report-ms', '1000',
				'--seed', String(1000 + index), ...(index === 0 ? ['--engine', options.engine] : []),
			]));
		}

		log(`attack soak: ${options.nodes} nodes; warming up until the mesh is in step (r >= 0.95) or 120 s`);
		const warmUpStart = performance.now();
		while (performance.now() - warmUpStart < 120_000) {
			await sleep(2000);
			const {r, seen} = meshOrder(nodes);
			if (seen === nodes.length && r >= 0.95 && performance.now() - warmUpStart > 10_000) {
				break;
			}
		}

		rssBeforeAttackMb = rssMb(nodes[0]!.child.pid!);
		log(`attack soak: mesh r ${meshOrder(nodes).r.toFixed(3)}, target RSS ${rssBeforeAttackMb} MB before the attacks; attacking mesh-0 for ${options.minutes} min`);
		attacks.push(pingFlood(targetPort), subscriptionFlood(targetPort), connectionFlood(targetPort, options.connections));

		const target = nodes[0]!;
		const reference = nodes[2] ?? target;
		const startedMs = performance.now();
		let lastReferenceTicks = reference.latest?.ticks ?? 0;
		let lastTicks = target.latest?.ticks ?? 0;
		let lastAtMs = performance.now();
		while (performance.now() - startedMs < options.minutes * 60_000) {
			await sleep(options.sampleMs);
			const nowMs = performance.now();
			const ticks = target.latest?.ticks ?? lastTicks;
			const referenceTicks = reference.latest?.ticks ?? lastReferenceTicks;
			const elapsedS = (nowMs - lastAtMs) / 1000;
			const {r, seen} = meshOrder(nodes);
			const phases = await phasesFromControl(client, controlEndpoints);
			samples.push({
				atS: Math.round((nowMs - startedMs) / 100) / 10,
				tickRateShare: round((ticks - lastTicks) / elapsedS / HZ, 3),
				referenceTickRateShare: round((referenceTicks - lastReferenceTicks) / elapsedS / HZ, 3),
				rssMb: rssMb(target.child.pid!),
				fds: openFds(target.child.pid!),
				meshR: round(phases.r(phases.answered), 4),
				meshRWithoutTarget: round(phases.r(phases.answered.filter((index) => index !== 0)), 4),
				nodesAnswered: phases.answered.length,
				meshRSnapshots: round(r, 4),
				nodesOwnR: round(mean(nodes.flatMap((node) => (node.latest === undefined ? [] : [node.latest.ownR]))), 4),
				nodesSeen: seen,
				targetAlivePeers: target.latest?.alivePeers ?? 0,
				targetAlive: target.alive,
			});
			lastTicks = ticks;
			lastReferenceTicks = referenceTicks;
			lastAtMs = nowMs;
			const last = samples.at(-1)!;
			if (samples.length % Math.max(1, Math.round(60_000 / options.sampleMs)) === 1) {
				log(`attack soak ${last.atS}s: tick rate ${Math.round(last.tickRateShare * 100)} % (unattacked mesh-2: ${Math.round(last.referenceTickRateShare * 100)} %), rss ${last.rssMb} MB, fds ${last.fds}, mesh r ${last.meshR} (${last.nodesSeen} nodes; own r ${last.nodesOwnR}), target sees ${last.targetAlivePeers} alive`);
			}

			if (!target.alive) {
				failures.push(`the target exited (${target.exit}): ${target.stderr.trim().slice(-600)}`);
				break;
			}
		}
	} finally {
		await client.close();
		await Promise.all(attacks.map(async (attack) => attack.stop()));
		await Promise.all(nodes.map(async (node) => node.stop()));
	}

	const target = nodes[0]!;
	const peakRss = Math.max(samplingPeakMb(), ...samples.map((sample) => sample.rssMb));
	const rates = samples.slice(1).map((sample) => sample.tickRateShare);
	const rs = samples.map((sample) => sample.meshR);
	const summary = {
		survived: failures.length === 0 && samples.every((sample) => sample.targetAlive),
		tickRateMean: round(mean(rates), 3),
		tickRateMin: round(Math.min(...rates), 3),
		referenceTickRateMean: round(mean(samples.slice(1).map((sample) => sample.referenceTickRateShare)), 3),
		rssPeakMb: peakRss,
		rssBeforeAttackMb,
		rssStartMb: samples[0]?.rssMb ?? 0,
		rssEndMb: samples.at(-1)?.rssMb ?? 0,
		fdsPeak: Math.max(...samples.map((sample) => sample.fds)),
		meshRMin: Math.min(...rs),
		meshRMean: round(mean(rs), 4),
		meshRAbove095: round(rs.filter((r) => r >= 0.95).length / Math.max(1, rs.length), 3),
		meshRWithoutTargetMean: round(mean(samples.map((sample) => sample.meshRWithoutTarget)), 4),
		meshRSnapshotsMean: round(mean(samples.map((sample) => sample.meshRSnapshots)), 4),
		nodesAnsweredMin: Math.min(...samples.map((sample) => sample.nodesAnswered)),
		nodesOwnRMean: round(mean(samples.map((sample) => sample.nodesOwnR)), 4),
		targetAlivePeersMin: Math.min(...samples.map((sample) => sample.targetAlivePeers)),
		targetStats: target.latest?.stats ?? {},
		loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
	};
	if (summary.tickRateMean < 0.7) {
		failures.push(`the target ticked at ${Math.round(summary.tickRateMean * 100)} % of its rate on average (expected >= 70 %)`);
	}

	if (summary.meshRMean < 0.95) {
		failures.push(`the mesh's r averaged ${summary.meshRMean} (expected >= 0.95)`);
	}

	if (summary.nodesAnsweredMin < options.nodes) {
		failures.push(`in some sample only ${summary.nodesAnsweredMin} of ${options.nodes} control planes answered within 2 s: r left the others out`);
	}

	return {
		ok: failures.length === 0,
		minutes: options.minutes,
		nodes: options.nodes,
		engine: options.engine,
		samples,
		failures,
		attacks: attacks.map((attack) => ({name: attack.name, counts: {...attack.counts}})),
		summary,
	};
}

/**
r over every node with a snapshot from the last 3 s, each phase advanced to now at the mesh's mean ω
from when the node took it (not when it arrived here: a busy machine delays the pipes).
*/
/**
Every node's own phase through its control plane, all asked at once; `r(indices)` carries those
nodes' phases to the latest reply's arrival by each node's ω. A node that did not answer within the
client's timeout is left out (and counted in `answered`).
*/
async function phasesFromControl(client: ControlClient, endpoints: readonly string[]): Promise<{answered: number[]; r: (indices: readonly number[]) => number}> {
	const phases = await Promise.all(endpoints.map(async (endpoint) => {
		try {
			const reply = await client.request(endpoint, {op: 'view', brief: true, limit: 0});
			const node = reply.ok ? (reply['node'] as {phase?: unknown; omega?: unknown}) : undefined;
			return typeof node?.phase === 'number' && typeof node.omega === 'number' ? {phase: node.phase, omega: node.omega, atMs: performance.now()} : undefined;
		} catch {
			return undefined;
		}
	}));
	const answered = phases.flatMap((phase, index) => (phase === undefined ? [] : [index]));
	const instant = Math.max(0, ...answered.map((index) => phases[index]!.atMs));
	return {
		answered,
		r: (indices) => (indices.length === 0 ? 0 : orderParameter(indices.map((index) => phases[index]!.phase + (phases[index]!.omega * (instant - phases[index]!.atMs) / 1000)))),
	};
}

function meshOrder(nodes: readonly MeshProcess[]): {r: number; seen: number} {
	const nowMs = performance.now();
	const fresh = nodes.map((node) => node.latest).filter((latest): latest is Latest => latest !== undefined && nowMs - latest.atMs < 3000);
	if (fresh.length === 0) {
		return {r: 0, seen: 0};
	}

	const omega = mean(fresh.map((latest) => latest.omega));
	let x = 0;
	let y = 0;
	for (const latest of fresh) {
		const phase = latest.phase + (omega * (nowMs - latest.takenMs)) / 1000;
		x += Math.cos(phase);
		y += Math.sin(phase);
	}

	return {r: Math.hypot(x, y) / fresh.length, seen: fresh.length};
}

export function formatAttackResult(result: AttackSoakResult): string {
	const {summary} = result;
	return [
		`attack soak ${result.ok ? 'PASSED' : 'FAILED'}: target mesh-0 (${result.engine}) in a ${result.nodes}-node mesh, ${result.minutes} min, ${result.samples.length} samples`,
		`target survived: ${summary.survived ? 'yes' : 'no'}; tick rate ${Math.round(summary.tickRateMean * 100)} % of 10 Hz on average (lowest sample ${Math.round(summary.tickRateMin * 100)} %); unattacked mesh-2 at the same time: ${Math.round(summary.referenceTickRateMean * 100)} %`,
		`target RSS ${summary.rssBeforeAttackMb} MB before the attacks, ${summary.rssStartMb} MB at the first sample, ${summary.rssEndMb} MB at the end, peak ${summary.rssPeakMb} MB; open fds peak ${summary.fdsPeak}`,
		`mesh r from the control plane: mean ${summary.meshRMean} (without the target ${summary.meshRWithoutTargetMean}; at least ${summary.nodesAnsweredMin} of ${result.nodes} nodes answered each sample), lowest ${summary.meshRMin}, ${Math.round(summary.meshRAbove095 * 100)} % of samples >= 0.95; the nodes' own r, mean ${summary.nodesOwnRMean}; from the NDJSON snapshots as before 2026-12-02, mean ${summary.meshRSnapshotsMean}; the target saw at least ${summary.targetAlivePeersMin} of ${result.nodes - 1} mesh peers alive`,
		`target stats at the end: ${JSON.stringify(summary.targetStats)}`,
		...result.attacks.map((attack) => `  ${attack.name}: ${Object.entries(attack.counts).map(([name, value]) => `${name} ${value}`).join(', ')}`),
		`load average at the end: ${summary.loadAverage}`,
		...result.failures.map((failure) => `FAILURE: ${failure}`),
	].join('\n');
}

let peakSeenMb = 0;

function rssMb(pid: number): number {
	const rss = statusMb(pid, 'VmRSS') ?? 0;
	peakSeenMb = Math.max(peakSeenMb, statusMb(pid, 'VmHWM') ?? 0);
	return rss;
}

/** The highest VmHWM read while sampling: the process's own peak RSS, between samples too. */
function samplingPeakMb(): number {
	return peakSeenMb;
}

function statusMb(pid: number, field: string): number | undefined {
	try {
		const kb = new RegExp(String.raw`${field}:\s+(\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
		return kb === undefined ? undefined : round(Number(kb) / 1024, 1);
	} catch {
		return undefined;
	}
}

function openFds(pid: number): number {
	try {
		return readdirSync(`/proc/${pid}/fd`).length;
	} catch {
		return 0;
	}
}

function mean(values: readonly number[]): number {
	return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function round(value: number, digits: number): number {
	const scale = 10 ** digits;
	return Math.round(value * scale) / scale;
}

async function sleep(ms: number): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, ms));
}
