/**
3. Scale: the largest full mesh at 10 Hz this machine holds with r >= 0.95 sustained for 30 s and
p99 tick lateness under 50 ms, with every node in one process and with one process per node.
The search goes upward through a ladder of sizes until one fails or the time cap is reached, then
tries once halfway between the last size held (or zero) and the first that failed.
*/

import {spawnSync} from 'node:child_process';
import path from 'node:path';
import {freePorts} from '../../test/helpers/ports.js';
import {HeadlessNode, waitUntil, type Snapshot} from '../lib/headless.js';
import type {MeshSample} from '../lib/mesh.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {BENCH_DIST_DIR} from '../lib/paths.js';
import {Child, sleep, stopAll} from '../lib/proc.js';
import {median} from '../lib/stats.js';

const R_MIN = 0.95;
const LATE_P99_MAX_MS = 50;

export const scale: BenchModule = {
	name: 'scale',
	title: '3. Scale: the largest full mesh at 10 Hz held for 30 s',
	figures: [
		{
			id: 'scale.in-process',
			label: 'largest full mesh held, all nodes in one process',
			unit: 'nodes',
			target: {comparison: '>=', value: 100, text: '>= 100'},
		},
		{id: 'scale.processes', label: 'largest full mesh held, one process per node', unit: 'nodes'},
	],
	run: runScale,
};

type Attempt = {nodes: number; held: boolean; reason: string; r: number; lateP99Ms: number; cpuShare?: number; rssMiB?: number; seconds: number};

type Trial = (nodes: number) => Promise<Attempt>;

async function runScale(context: BenchContext): Promise<ModuleOutput> {
	const measurements = new Measurements();
	const holdMs = context.quick ? 2000 : 30_000;
	const convergeMs = context.quick ? 5000 : 40_000;
	const inProcessLadder = context.quick ? [3] : [50, 100, 150, 200, 300];
	const processLadder = context.quick ? [3] : [25, 50, 75, 100, 150];
	const inProcessCapMs = context.quick ? 30_000 : 300_000;
	const processCapMs = context.quick ? 30_000 : 150_000;
	const method = [
		`Held means: within ${convergeMs / 1000} s of start every node lists all N−1 peers and r >= ${R_MIN}; then for ${holdMs / 1000} s, sampled every second, r stays >= ${R_MIN}, no node lists fewer than N−1 live peers, and the median node's p99 tick lateness (its last 128 ticks) stays under ${LATE_P99_MAX_MS} ms (the worst node's is listed too).`,
		'In one process (bench/workers/mesh-host): N ChorusNode instances (defaults, 10 Hz, ω = π + N(0, 0.3) each) over inproc:// (the built-in in-memory engine: every publish hands the encoded frame to each subscriber\'s queue, which its node drains on its tick; the same decode, validation and admission as over TCP), all bound before any tick; r is the order parameter of all N phases read at the same instant. Before the built-in engine, the same mesh over libzmq\'s inproc held 50 nodes (bench/optimizations.md).',
		'One process per node: N `chorus-tui --headless --demo 0` processes (the built-in ZMTP engine) over TCP loopback; r is the mean of the nodes\' own r (each node\'s view of itself and its peers), from their NDJSON snapshots.',
		`Ladder in one process: ${inProcessLadder.join(', ')} (cap ${inProcessCapMs / 1000} s); one process per node: ${processLadder.join(', ')} (cap ${processCapMs / 1000} s); after the first failure, one try halfway between it and the last size held (or zero).`,
		`Open files: over the built-in inproc:// a link holds none, so descriptors do not bound the mesh in one process; over TCP loopback in one process each link holds its two TCP ends, so the ${openFilesLimit()} allowed here (ulimit -n) are enough for about ${Math.floor((1 + Math.sqrt(1 + (4 * openFilesLimit()) / 2)) / 2)} nodes.`,
	];

	const inProcess = await search(inProcessLadder, inProcessCapMs, async (nodes) => inProcessTrial(nodes, convergeMs, holdMs), context, 'in one process');
	record(measurements, 'scale.in-process', inProcess);
	const processes = await search(processLadder, processCapMs, async (nodes) => processTrial(nodes, convergeMs, holdMs), context, 'one process per node');
	record(measurements, 'scale.processes', processes);
	return {values: measurements.values, warnings: measurements.warnings, method};
}

function record(measurements: Measurements, id: string, attempts: Attempt[]): void {
	const held = attempts.filter((attempt) => attempt.held).map((attempt) => attempt.nodes);
	const best = held.length > 0 ? Math.max(...held) : 0;
	measurements.set(id, [best], attempts.map((attempt) => describe(attempt)).join('; '));
}

function describe(attempt: Attempt): string {
	const extra = [
		Number.isFinite(attempt.r) ? `r ${attempt.r.toFixed(3)}` : undefined,
		Number.isFinite(attempt.lateP99Ms) ? `p99 late ${attempt.lateP99Ms} ms` : undefined,
		attempt.cpuShare === undefined ? undefined : `CPU ${Math.round(attempt.cpuShare * 100)} % of a core`,
		attempt.rssMiB === undefined ? undefined : `RSS ${attempt.rssMiB} MiB`,
	].filter(Boolean);
	return `${attempt.nodes}: ${attempt.held ? 'held' : `failed (${attempt.reason})`}${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`;
}

async function search(ladder: number[], capMs: number, trial: Trial, context: BenchContext, label: string): Promise<Attempt[]> {
	const startedMs = performance.now();
	const attempts: Attempt[] = [];
	let lastHeld = 0;
	// A trial takes up to a minute or more (forming, then the hold): none starts that would end well
	// past the cap.
	const trialMs = Math.min(60_000, capMs / 2);
	for (const nodes of ladder) {
		if (performance.now() - startedMs + trialMs > capMs) {
			attempts.push({nodes, held: false, reason: 'time cap reached, not tried', r: Number.NaN, lateP99Ms: Number.NaN, seconds: 0});
			break;
		}

		const attempt = await trial(nodes);
		attempts.push(attempt);
		context.log(`scale ${label}: ${describe(attempt)} (${attempt.seconds} s)`);
		if (!attempt.held) {
			const middle = Math.round((lastHeld + nodes) / 2);
			if (middle > lastHeld && middle < nodes && performance.now() - startedMs + trialMs <= capMs) {
				const between = await trial(middle);
				attempts.push(between);
				context.log(`scale ${label}: ${describe(between)} (${between.seconds} s)`);
			}

			break;
		}

		lastHeld = nodes;
	}

	return attempts;
}

/** Judge a series of samples taken once the mesh had formed. */
function judge(nodes: number, samples: MeshSample[], startedMs: number): Attempt {
	const seconds = Math.round((performance.now() - startedMs) / 1000);
	const r = Math.min(...samples.map((sample) => sample.r));
	const lateP99Ms = Math.max(...samples.map((sample) => sample.lateP99Median));
	const worstLateMs = Math.max(...samples.map((sample) => sample.lateP99Max));
	const fewestPeers = Math.min(...samples.map((sample) => sample.minPeers));
	let reason = '';
	if (samples.length === 0) {
		reason = 'no samples';
	} else if (fewestPeers < nodes - 1) {
		reason = `a node lost peers (${fewestPeers} of ${nodes - 1})`;
	} else if (r < R_MIN) {
		reason = `r fell to ${r.toFixed(3)}`;
	} else if (!(lateP99Ms < LATE_P99_MAX_MS)) {
		reason = `p99 tick lateness ${lateP99Ms} ms`;
	}

	return {
		nodes,
		held: reason === '',
		reason: reason === '' ? `worst node's p99 lateness ${worstLateMs} ms` : `${reason}; worst node's p99 lateness ${worstLateMs} ms`,
		r,
		lateP99Ms,
		seconds,
	};
}

async function inProcessTrial(nodes: number, convergeMs: number, holdMs: number): Promise<Attempt> {
	const startedMs = performance.now();
	const samples: Array<MeshSample & {cpuS: number; rssMiB: number}> = [];
	let error: string | undefined;
	const host = new Child(process.execPath, [path.join(BENCH_DIST_DIR, 'workers', 'mesh-host.js'), `inproc:${nodes}`], {
		keepLines: false,
		onLine(text) {
			try {
				const line = JSON.parse(text) as {type: string; message?: string} & MeshSample & {cpuS: number; rssMiB: number};
				if (line.type === 'sample') {
					samples.push(line);
				} else if (line.type === 'error') {
					error = line.message;
				}
			} catch {}
		},
	});
	const failed = (reason: string): Attempt => ({
		nodes,
		held: false,
		reason,
		r: samples.at(-1)?.r ?? Number.NaN,
		lateP99Ms: samples.at(-1)?.lateP99Median ?? Number.NaN,
		seconds: Math.round((performance.now() - startedMs) / 1000),
	});
	try {
		const formed = await waitUntil(() => {
			const last = samples.at(-1);
			return error !== undefined || !host.running || (last?.minPeers === nodes - 1 && last.r >= R_MIN);
		}, convergeMs + nodes * 100, 200);
		if (error !== undefined || !host.running) {
			return failed(`could not run: ${error ?? `the process exited: ${host.stderr.trim().split('\n').at(-1) ?? ''}`}`);
		}

		if (!formed) {
			const last = samples.at(-1);
			return failed(last === undefined ? 'no sample' : `did not form: ${last.minPeers} of ${nodes - 1} peers, r ${last.r.toFixed(3)}`);
		}

		const from = samples.length;
		await sleep(holdMs + 500);
		const held = samples.slice(from);
		const attempt = judge(nodes, held, startedMs);
		const first = held[0];
		const last = held.at(-1);
		if (first && last && last.t > first.t) {
			attempt.cpuShare = (last.cpuS - first.cpuS) / ((last.t - first.t) / 1000);
			attempt.rssMiB = last.rssMiB;
		}

		if (!host.running) {
			return failed(`the process died: ${host.stderr.trim().split('\n').at(-1) ?? ''}`);
		}

		return attempt;
	} finally {
		await host.stop(10_000);
	}
}

async function processTrial(nodes: number, convergeMs: number, holdMs: number): Promise<Attempt> {
	const startedMs = performance.now();
	const ports = await freePorts(nodes);
	const endpoints = ports.map((port) => `tcp://127.0.0.1:${port}`);
	const processes = endpoints.map(
		(endpoint, index) =>
			new HeadlessNode(`scale-${index + 1}`, ['--bind', endpoint, '--peer', endpoints.filter((_other, other) => other !== index).join(',')]),
	);
	const sample = (): MeshSample => {
		const snapshots = processes.map((node) => node.lastSnapshot);
		const nowMs = performance.now();
		const fresh = snapshots.filter((snapshot): snapshot is Snapshot => snapshot !== undefined && nowMs - snapshot.atMs < 3000);
		return {
			t: nowMs,
			r: fresh.length === nodes ? fresh.reduce((sum, snapshot) => sum + snapshot.node.r, 0) / nodes : 0,
			minPeers: fresh.length === nodes ? Math.min(...fresh.map((snapshot) => snapshot.peers.filter((peer) => peer.state !== 'evicted').length)) : 0,
			lateP99Median: median(fresh.map((snapshot) => snapshot.stats.tickLateMs.p99)),
			lateP99Max: Math.max(...fresh.map((snapshot) => snapshot.stats.tickLateMs.p99)),
		};
	};

	try {
		const formed = await waitUntil(() => {
			const now = sample();
			return now.minPeers === nodes - 1 && now.r >= R_MIN;
		}, convergeMs + nodes * 200, 250);
		const dead = processes.find((node) => !node.child.running);
		if (dead) {
			return {nodes, held: false, reason: `a node exited: ${dead.child.stderr.trim().split('\n').at(-1) ?? ''}`, r: Number.NaN, lateP99Ms: Number.NaN, seconds: 0};
		}

		if (!formed) {
			const now = sample();
			return {
				nodes,
				held: false,
				reason: `did not form: ${now.minPeers} of ${nodes - 1} peers, r ${now.r.toFixed(3)}`,
				r: now.r,
				lateP99Ms: now.lateP99Median,
				seconds: Math.round((performance.now() - startedMs) / 1000),
			};
		}

		const samples: MeshSample[] = [];
		const endMs = performance.now() + holdMs;
		while (performance.now() < endMs) {
			await sleep(1000);
			samples.push(sample());
		}

		return judge(nodes, samples, startedMs);
	} finally {
		await stopAll(processes.map((node) => node.child));
	}
}

function openFilesLimit(): number {
	return Number(spawnSync('sh', ['-c', 'ulimit -n'], {encoding: 'utf8'}).stdout.trim()) || Number.NaN;
}
