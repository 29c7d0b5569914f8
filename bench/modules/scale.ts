/**
3. Scale: the largest full mesh at 10 Hz this machine holds, with every node in one process and with
one process per node, and the largest full mesh of original-style Python nodes, judged after a
warm-up, not from the start.

A size is held when, over a window of 30 s that begins after the mesh has formed and warmed up:
- chorus: every node lists all N−1 peers alive at every sample (one a second), r >= 0.95 at every
  sample, and tick lateness stays bounded: the worst node's p99 under 100 ms and the median node's
  under 50 ms. A node's p99 is over its last 128 ticks (12.8 s); each node's worst over the
  window's samples is taken, then the worst and the median over the nodes. Both are printed for
  every size, held or not.
- Python (it has no lateness of its own to judge; its publish loop sleeps 100 ms after its work):
  every node heard every other within the last second at every sample, and the machine is not
  saturated: the mesh's processes used under 90 % of all cores over the window.

Forming: every node lists every peer alive and r >= 0.95 (Python: every node heard every peer in
the last second), within a minute plus 200 ms a node. Warm-up: 15 s after forming, for both (V8 compiles a node's hot paths
only after they have run many times; the Python node has nothing to warm, and waits alike).

The search, to fit the bench's time budget: a trial costs about a minute and a half with 100
processes, so each kind gets a few trials at sizes rounded to 5. It starts at the size that decides
its target (chorus processes 80, one process 100, Python 50); after a size held it goes up by a
quarter, after a failure down by a quarter, and once it has both a held size and a failed one it
bisects between them. It stops at its trial count, when the next size would not differ from one
already tried, or when the next trial would pass the kind's time cap: in one process 2 trials
(cap 3 min), chorus processes 3 (cap 4 min), Python 2 (cap 3 min), about 7 minutes in all. The
figure is the largest size held; the smallest size that failed is in the note.
CHORUS_BENCH_SCALE_START (see withStartOverride) starts the searches elsewhere.
*/

import os from 'node:os';
import path from 'node:path';
import {globalOrderParameter} from '../lib/global-r.js';
import {HeadlessNode, waitUntil, type Snapshot} from '../lib/headless.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {BENCH_DIST_DIR, PYTHON, PYTHON_DIR} from '../lib/paths.js';
import {nodeEndpoints, portBlock} from '../lib/ports.js';
import {Child, cpuSeconds, sleep, stopAll} from '../lib/proc.js';
import {median} from '../lib/stats.js';

const R_MIN = 0.95;
const LATE_MEDIAN_MAX_MS = 50;
const LATE_WORST_MAX_MS = 100;
/** The Python mesh saturates the machine when its processes use this share of all cores. */
const SATURATED_SHARE = 0.9;
const CORES = os.cpus().length;

export const scale: BenchModule = {
	name: 'scale',
	title: '3. Scale: the largest full mesh at 10 Hz held for 30 s after a warm-up',
	figures: [
		{
			id: 'scale.in-process',
			label: 'largest full mesh held, all nodes in one process (inproc)',
			unit: 'nodes',
			target: {comparison: '>=', value: 100, text: '>= 100'},
		},
		{
			id: 'scale.processes',
			label: 'largest full mesh held, one chorus-tui process per node',
			unit: 'nodes',
			target: {comparison: '>=', value: 80, text: '>= 80'},
		},
		{id: 'scale.python', label: 'largest full mesh held, one original-style Python process per node (all hear all, machine not saturated)', unit: 'nodes'},
		{
			id: 'scale.processes-vs-python',
			label: 'largest full mesh of processes, chorus-tui ÷ Python',
			unit: 'ratio',
			target: {comparison: '>=', value: 1.5, text: '>= 1.5'},
		},
	],
	run: runScale,
};

type Attempt = {
	kind: 'chorus' | 'python';
	nodes: number;
	held: boolean;
	/** Why it failed, or '' when held. */
	reason: string;
	r: number;
	/** Processes: the lowest over the window of the mean of the nodes' own r. */
	ownR?: number;
	lateMedianMs: number;
	lateWorstMs: number;
	/** All the mesh's processes together, as a share of one core. */
	cpuShare?: number;
	rssMiB?: number;
	seconds: number;
};

type Trial = (nodes: number) => Promise<Attempt>;

type Timing = {formMs: (nodes: number) => number; warmupMs: number; holdMs: number};

type SearchPlan = {start: number; maxTrials: number; capMs: number};

const STEP = 5;

async function runScale(context: BenchContext): Promise<ModuleOutput> {
	const measurements = new Measurements();
	const timing: Timing = {
		formMs: (nodes) => (context.quick ? 15_000 : 60_000 + nodes * 200),
		warmupMs: context.quick ? 1000 : 15_000,
		holdMs: context.quick ? 2000 : 30_000,
	};
	const plans = withStartOverride(
		context.quick
			? {inProcess: {start: 3, maxTrials: 1, capMs: 30_000}, processes: {start: 3, maxTrials: 1, capMs: 30_000}, python: {start: 3, maxTrials: 1, capMs: 30_000}}
			: {inProcess: {start: 100, maxTrials: 2, capMs: 180_000}, processes: {start: 80, maxTrials: 3, capMs: 240_000}, python: {start: 50, maxTrials: 2, capMs: 180_000}},
		process.env['CHORUS_BENCH_SCALE_START'],
	);

	const inProcess = await search(plans.inProcess, async (nodes) => inProcessTrial(nodes, timing), context, 'in one process');
	record(measurements, 'scale.in-process', inProcess);
	const processes = await search(plans.processes, async (nodes) => processTrial(nodes, timing), context, 'one process per node');
	record(measurements, 'scale.processes', processes);
	const python = await search(plans.python, async (nodes) => pythonTrial(nodes, timing), context, 'Python, one process per node');
	record(measurements, 'scale.python', python);
	const chorusBest = largestHeld(processes);
	const pythonBest = largestHeld(python);
	if (pythonBest > 0) {
		// A search that never failed found a lower bound of its mesh's limit, not the limit.
		const bounds = [
			processes.every((attempt) => attempt.held) ? `chorus held every size tried (up to ${chorusBest}): its limit may be higher` : undefined,
			python.every((attempt) => attempt.held) ? `Python held every size tried (up to ${pythonBest}): its limit may be higher, the ratio lower` : undefined,
		].filter(Boolean);
		measurements.set('scale.processes-vs-python', [Math.round((chorusBest / pythonBest) * 1000) / 1000], bounds.length > 0 ? bounds.join('; ') : undefined);
	} else {
		measurements.note('scale.processes-vs-python', 'no Python mesh held');
	}

	const round = (plan: SearchPlan) => `start ${plan.start}, at most ${plan.maxTrials} trial(s), cap ${plan.capMs / 1000} s`;
	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`Held means, over a ${timing.holdMs / 1000} s window that starts ${timing.warmupMs / 1000} s after the mesh formed (every node lists all N−1 peers and r >= ${R_MIN}), sampled every second: chorus: every node lists all N−1 peers alive, r >= ${R_MIN}, the worst node's p99 tick lateness under ${LATE_WORST_MAX_MS} ms and the median node's under ${LATE_MEDIAN_MAX_MS} ms (a node's p99 is over its last 128 ticks; its worst over the window's samples is taken, then the worst and median over the nodes). Python: every node heard every other in the last second, at every sample, and the mesh's processes used under ${SATURATED_SHARE * 100} % of the ${CORES} cores over the window.`,
			`In one process (bench/workers/mesh-host): N ChorusNode instances (defaults, 10 Hz, ω = π + N(0, 0.3) each) over inproc:// (the built-in in-memory engine), all bound before any tick; r is the order parameter of all N phases read at the same instant.`,
			'One process per node: N `chorus-tui --headless --demo 0 --bind ... --peer ...` processes (defaults: built-in ZMTP engine, control plane on, a snapshot a second) over TCP loopback; r is every node\'s own phase from its latest snapshot, carried forward to one instant (bench/lib/global-r.ts); the mean of the nodes\' own r is in the note. Python: N bench/python/original_node.py processes (pyzmq), each printing once a second how many peers it heard in the last second and its publish loop\'s lateness (in the note, not judged).',
			`Search (sizes rounded to ${STEP}): in one process ${round(plans.inProcess)}; chorus processes ${round(plans.processes)}; Python ${round(plans.python)}. Up by a quarter after a held size, down by a quarter after a failure, bisecting once both are known; the figure is the largest size held. CPU in the notes is the whole mesh's (every process, every thread) as a share of one core, over the window.`,
		],
	};
}

type Plans = Record<'inProcess' | 'processes' | 'python', SearchPlan>;

/**
CHORUS_BENCH_SCALE_START=IN_PROCESS,PROCESSES,PYTHON[,TRIALS] starts each search elsewhere (and
caps its trials), to re-measure around one size without the whole search: `20,20,20,1` is a
one-trial check of the full timing.
*/
function withStartOverride(plans: Plans, override: string | undefined): Plans {
	if (override === undefined || override === '') {
		return plans;
	}

	const [inProcess, processes, python, trials] = override.split(',').map(Number);
	const adjust = (plan: SearchPlan, start: number | undefined): SearchPlan => ({
		start: start !== undefined && start > 0 ? start : plan.start,
		maxTrials: trials !== undefined && trials > 0 ? trials : plan.maxTrials,
		capMs: plan.capMs,
	});
	return {inProcess: adjust(plans.inProcess, inProcess), processes: adjust(plans.processes, processes), python: adjust(plans.python, python)};
}

function largestHeld(attempts: Attempt[]): number {
	const held = attempts.filter((attempt) => attempt.held).map((attempt) => attempt.nodes);
	return held.length > 0 ? Math.max(...held) : 0;
}

function record(measurements: Measurements, id: string, attempts: Attempt[]): void {
	const failed = attempts.filter((attempt) => !attempt.held).map((attempt) => attempt.nodes);
	const bound = failed.length > 0 ? `smallest size that failed: ${Math.min(...failed)}. ` : 'no size tried failed. ';
	measurements.set(id, [largestHeld(attempts)], bound + attempts.map((attempt) => describe(attempt)).join('; '));
}

function describe(attempt: Attempt): string {
	const extra = [
		Number.isFinite(attempt.r) ? `r ${attempt.r.toFixed(3)}` : undefined,
		attempt.ownR === undefined ? undefined : `nodes' own r ${attempt.ownR.toFixed(3)}`,
		Number.isFinite(attempt.lateWorstMs)
			? attempt.kind === 'chorus'
				? `p99 tick lateness worst node ${attempt.lateWorstMs} ms, median node ${attempt.lateMedianMs} ms`
				: `p99 publish-loop lateness (not judged) worst node ${attempt.lateWorstMs} ms, median node ${attempt.lateMedianMs} ms`
			: undefined,
		attempt.cpuShare === undefined ? undefined : `CPU ${Math.round(attempt.cpuShare * 100)} % of a core (${((attempt.cpuShare * 100) / attempt.nodes).toFixed(2)} % a node)`,
		attempt.rssMiB === undefined ? undefined : `RSS ${attempt.rssMiB} MiB`,
	].filter(Boolean);
	return `${attempt.nodes}: ${attempt.held ? 'held' : `failed (${attempt.reason})`}${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`;
}

function roundToStep(nodes: number): number {
	return Math.max(STEP, Math.round(nodes / STEP) * STEP);
}

async function search(plan: SearchPlan, trial: Trial, context: BenchContext, label: string): Promise<Attempt[]> {
	const startedMs = performance.now();
	const attempts: Attempt[] = [];
	let largestHeldSize = 0;
	let smallestFailed = Number.POSITIVE_INFINITY;
	let size = plan.start;
	let lastTrialMs = 0;
	while (attempts.length < plan.maxTrials) {
		if (performance.now() - startedMs + lastTrialMs > plan.capMs) {
			context.log(`scale ${label}: ${size} not tried: the next trial would pass the ${plan.capMs / 1000} s cap`);
			break;
		}

		const trialStartedMs = performance.now();
		const attempt = await trial(size);
		lastTrialMs = performance.now() - trialStartedMs;
		attempts.push(attempt);
		context.log(`scale ${label}: ${describe(attempt)} (${attempt.seconds} s)`);
		if (attempt.held) {
			largestHeldSize = Math.max(largestHeldSize, size);
		} else {
			smallestFailed = Math.min(smallestFailed, size);
		}

		const next = Number.isFinite(smallestFailed)
			? largestHeldSize > 0
				? roundToStep((largestHeldSize + smallestFailed) / 2)
				: roundToStep(smallestFailed * 0.75)
			: roundToStep(largestHeldSize * 1.25);
		if (next <= largestHeldSize || next >= smallestFailed || attempts.some((tried) => tried.nodes === next)) {
			break;
		}

		size = next;
	}

	return attempts;
}

/** What a chorus mesh shows at one sample. */
type Sample = {r: number; ownR?: number; minPeers: number; p99s: number[]; cpuS?: number; t: number};

/** Judge a chorus mesh's window: every sample's peers and r, then each node's worst p99 over the window. */
function judgeChorus(nodes: number, samples: Sample[], startedMs: number, cpuShare: number | undefined, rssMiB?: number): Attempt {
	const seconds = Math.round((performance.now() - startedMs) / 1000);
	const r = Math.min(...samples.map((sample) => sample.r));
	const fewestPeers = Math.min(...samples.map((sample) => sample.minPeers));
	const worstPerNode = Array.from({length: nodes}, (_, index) => Math.max(...samples.map((sample) => sample.p99s[index] ?? Number.NaN)));
	const lateWorstMs = Math.max(...worstPerNode);
	const lateMedianMs = median(worstPerNode);
	const reasons: string[] = [];
	if (samples.length === 0) {
		reasons.push('no samples');
	} else {
		if (fewestPeers < nodes - 1) {
			reasons.push(`a node lost peers (${fewestPeers} of ${nodes - 1})`);
		}

		if (!(r >= R_MIN)) {
			reasons.push(`r fell to ${r.toFixed(3)}`);
		}

		if (!(lateWorstMs < LATE_WORST_MAX_MS)) {
			reasons.push(`worst node's p99 lateness ${lateWorstMs} ms >= ${LATE_WORST_MAX_MS}`);
		}

		if (!(lateMedianMs < LATE_MEDIAN_MAX_MS)) {
			reasons.push(`median node's p99 lateness ${lateMedianMs} ms >= ${LATE_MEDIAN_MAX_MS}`);
		}
	}

	return {
		kind: 'chorus',
		nodes,
		held: reasons.length === 0,
		reason: reasons.join('; '),
		r,
		lateMedianMs: Math.round(lateMedianMs * 10) / 10,
		lateWorstMs: Math.round(lateWorstMs * 10) / 10,
		...(cpuShare === undefined ? {} : {cpuShare}),
		...(rssMiB === undefined ? {} : {rssMiB}),
		seconds,
	};
}

function notFormed(kind: Attempt['kind'], nodes: number, startedMs: number, reason: string, r = Number.NaN): Attempt {
	return {kind, nodes, held: false, reason, r, lateMedianMs: Number.NaN, lateWorstMs: Number.NaN, seconds: Math.round((performance.now() - startedMs) / 1000)};
}

async function inProcessTrial(nodes: number, timing: Timing): Promise<Attempt> {
	const startedMs = performance.now();
	type HostSample = {type: string; message?: string; r: number; minPeers: number; p99s: number[]; cpuS: number; rssMiB: number; t: number};
	const samples: HostSample[] = [];
	let error: string | undefined;
	const host = new Child(process.execPath, [path.join(BENCH_DIST_DIR, 'workers', 'mesh-host.js'), `inproc:${nodes}`], {
		keepLines: false,
		onLine(text) {
			try {
				const line = JSON.parse(text) as HostSample;
				if (line.type === 'sample') {
					samples.push(line);
				} else if (line.type === 'error') {
					error = line.message;
				}
			} catch {}
		},
	});
	try {
		const formed = await waitUntil(() => {
			const last = samples.at(-1);
			return error !== undefined || !host.running || (last?.minPeers === nodes - 1 && last.r >= R_MIN);
		}, timing.formMs(nodes), 200);
		if (error !== undefined || !host.running) {
			return notFormed('chorus', nodes, startedMs, `could not run: ${error ?? `the process exited: ${host.stderr.trim().split('\n').at(-1) ?? ''}`}`);
		}

		if (!formed) {
			const last = samples.at(-1);
			return notFormed('chorus', nodes, startedMs, last === undefined ? 'no sample' : `did not form: ${last.minPeers} of ${nodes - 1} peers, r ${last.r.toFixed(3)}`, last?.r);
		}

		await sleep(timing.warmupMs);
		const from = samples.length;
		await sleep(timing.holdMs + 500);
		if (!host.running) {
			return notFormed('chorus', nodes, startedMs, `the process died: ${host.stderr.trim().split('\n').at(-1) ?? ''}`);
		}

		const window = samples.slice(from);
		const first = window[0];
		const last = window.at(-1);
		const cpuShare = first && last && last.t > first.t ? (last.cpuS - first.cpuS) / ((last.t - first.t) / 1000) : undefined;
		return judgeChorus(nodes, window, startedMs, cpuShare, last?.rssMiB);
	} finally {
		await host.stop(10_000);
	}
}

/** CPU seconds of every process, summed; NaN ones (gone) count as nothing. */
function meshCpuSeconds(pids: number[]): number {
	return pids.reduce((sum, pid) => sum + (cpuSeconds(pid) || 0), 0);
}

async function processTrial(nodes: number, timing: Timing): Promise<Attempt> {
	const startedMs = performance.now();
	const endpoints = await nodeEndpoints(nodes);
	const processes = endpoints.map(
		(endpoint, index) => new HeadlessNode(`scale-${index + 1}`, ['--bind', endpoint, '--peer', endpoints.filter((_other, other) => other !== index).join(',')]),
	);
	const sample = (): Sample & {fresh: boolean} => {
		const nowMs = performance.now();
		const snapshots = processes.map((node) => node.lastSnapshot);
		const fresh = snapshots.every((snapshot) => snapshot !== undefined && nowMs - snapshot.atMs < 3000);
		const present = snapshots.filter((snapshot): snapshot is Snapshot => snapshot !== undefined);
		return {
			t: nowMs,
			fresh,
			r: fresh ? globalOrderParameter(snapshots, nowMs) : 0,
			ownR: present.reduce((sum, snapshot) => sum + snapshot.node.r, 0) / Math.max(1, present.length),
			minPeers: fresh ? Math.min(...present.map((snapshot) => snapshot.peers.filter((peer) => peer.state === 'alive').length)) : 0,
			p99s: snapshots.map((snapshot) => snapshot?.stats.tickLateMs.p99 ?? Number.NaN),
		};
	};

	try {
		const formed = await waitUntil(() => {
			const now = sample();
			return now.minPeers === nodes - 1 && now.r >= R_MIN;
		}, timing.formMs(nodes), 250);
		const dead = processes.find((node) => !node.child.running);
		if (dead) {
			return notFormed('chorus', nodes, startedMs, `a node exited: ${dead.child.stderr.trim().split('\n').at(-1) ?? ''}`);
		}

		if (!formed) {
			const now = sample();
			const reporting = processes.filter((node) => node.lastSnapshot !== undefined);
			const alive = reporting.map((node) => node.lastSnapshot!.peers.filter((peer) => peer.state === 'alive').length);
			return notFormed(
				'chorus',
				nodes,
				startedMs,
				`did not form: ${reporting.length} of ${nodes} nodes reporting, alive peers per node ${alive.length > 0 ? `${Math.min(...alive)}–${Math.max(...alive)} (median ${median(alive)})` : 'none'} of ${nodes - 1}, r ${now.r.toFixed(3)}`,
				now.r,
			);
		}

		await sleep(timing.warmupMs);
		const pids = processes.map((node) => node.pid);
		const cpuBeforeS = meshCpuSeconds(pids);
		const windowStartMs = performance.now();
		const samples: Sample[] = [];
		while (performance.now() - windowStartMs < timing.holdMs) {
			await sleep(1000);
			samples.push(sample());
		}

		const cpuShare = (meshCpuSeconds(pids) - cpuBeforeS) / ((performance.now() - windowStartMs) / 1000);
		const ownR = Math.min(...samples.map((each) => each.ownR ?? Number.NaN));
		return {...judgeChorus(nodes, samples, startedMs, cpuShare), ...(Number.isFinite(ownR) ? {ownR} : {})};
	} finally {
		await stopAll(processes.map((node) => node.child));
	}
}

async function pythonTrial(nodes: number, timing: Timing): Promise<Attempt> {
	const startedMs = performance.now();
	const base = await portBlock(nodes);
	const ports = Array.from({length: nodes}, (_, index) => base + index);
	const status = Array.from({length: nodes}, () => ({heard: 0, lateP99: Number.NaN, atMs: 0}));
	const processes = ports.map(
		(port, index) =>
			new Child(PYTHON, [path.join(PYTHON_DIR, 'original_node.py'), String(port), ports.filter((_port, other) => other !== index).join(','), `python-${index + 1}`], {
				env: {ORIGINAL_NODE_STATUS: '1'},
				keepLines: false,
				onLine(text, atMs) {
					if (text.startsWith('{')) {
						status[index] = {...(JSON.parse(text) as {heard: number; lateP99: number}), atMs};
					}
				},
			}),
	);
	// Heard every peer in the last second, by a status line at most 3 s old.
	const hearingAll = () => {
		const nowMs = performance.now();
		return status.filter((each) => each.heard === nodes - 1 && nowMs - each.atMs < 3000).length;
	};

	try {
		const formed = await waitUntil(() => hearingAll() === nodes, timing.formMs(nodes), 250);
		const dead = processes.find((child) => !child.running);
		if (dead) {
			return notFormed('python', nodes, startedMs, `a node exited: ${dead.stderr.trim().split('\n').at(-1) ?? ''}`);
		}

		if (!formed) {
			return notFormed('python', nodes, startedMs, `did not form: ${hearingAll()} of ${nodes} nodes heard every peer`);
		}

		await sleep(timing.warmupMs);
		const pids = processes.map((child) => child.pid);
		const cpuBeforeS = meshCpuSeconds(pids);
		const windowStartMs = performance.now();
		let fewestHearingAll = nodes;
		const worstLate = Array.from({length: nodes}, () => 0);
		while (performance.now() - windowStartMs < timing.holdMs) {
			await sleep(1000);
			fewestHearingAll = Math.min(fewestHearingAll, hearingAll());
			for (const [index, each] of status.entries()) {
				worstLate[index] = Math.max(worstLate[index]!, each.lateP99);
			}
		}

		const cpuShare = (meshCpuSeconds(pids) - cpuBeforeS) / ((performance.now() - windowStartMs) / 1000);
		const reasons: string[] = [];
		if (fewestHearingAll < nodes) {
			reasons.push(`only ${fewestHearingAll} of ${nodes} nodes heard every peer at one sample`);
		}

		if (!(cpuShare < SATURATED_SHARE * CORES)) {
			reasons.push(`saturated: the mesh used ${Math.round(cpuShare * 100)} % of a core, ${Math.round((cpuShare / CORES) * 100)} % of the machine`);
		}

		return {
			kind: 'python',
			nodes,
			held: reasons.length === 0,
			reason: reasons.join('; '),
			r: Number.NaN,
			lateWorstMs: Math.max(...worstLate),
			lateMedianMs: median(worstLate),
			cpuShare,
			seconds: Math.round((performance.now() - startedMs) / 1000),
		};
	} finally {
		await stopAll(processes);
	}
}
