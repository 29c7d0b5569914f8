/**
Sparse mesh (issue 18): how many nodes a mesh with `--fanout 8` holds, all in one process over
inproc:// and one process per node over TCP. A size is held when, after the mesh forms and a
warm-up, for 30 s: the global r (every node's own phase) stays >= 0.9, every node hears its k peers,
the worst node's p99 tick lateness stays under 100 ms and the median node's under 50 ms.
*/

import path from 'node:path';
import {ControlClient} from '../../source/cluster/control/client.js';
import {freePorts} from '../../test/helpers/ports.js';
import {HeadlessNode, waitUntil} from '../lib/headless.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {BENCH_DIST_DIR} from '../lib/paths.js';
import {Child, sleep, stopAll} from '../lib/proc.js';
import {median, orderParameter} from '../lib/stats.js';

const R_MIN = 0.9;
const WORST_P99_MAX_MS = 100;
const MEDIAN_P99_MAX_MS = 50;

export const sparse: BenchModule = {
	name: 'sparse',
	title: 'Sparse mesh: --fanout 8, held for 30 s',
	figures: [
		{
			id: 'sparse.in-process',
			label: 'largest sparse mesh (fanout 8) held, all nodes in one process over inproc',
			unit: 'nodes',
			target: {comparison: '>=', value: 1000, text: '>= 1,000'},
		},
		{
			id: 'sparse.processes',
			label: 'largest sparse mesh (fanout 8) held, one process per node over TCP',
			unit: 'nodes',
			target: {comparison: '>=', value: 100, text: '>= 100'},
		},
	],
	run: runSparse,
};

/** One second's look at the whole mesh. */
type Sample = {r: number; minPeers: number; maxPeers: number; lateP99Median: number; lateP99Max: number; cpuS?: number; rssMiB?: number};

type Attempt = {nodes: number; held: boolean; reason: string; r: number; worstP99Ms: number; medianP99Ms: number; cpuShare?: number; rssMiB?: number; seconds: number};

export type Settings = {k: number; convergeMs: number; warmUpMs: number; holdMs: number};

async function runSparse(context: BenchContext): Promise<ModuleOutput> {
	const measurements = new Measurements();
	const settings: Settings = context.quick
		? {k: 3, convergeMs: 20_000, warmUpMs: 1000, holdMs: 2000}
		: {k: 8, convergeMs: 60_000, warmUpMs: 20_000, holdMs: 30_000};
	const inProcessLadder = context.quick ? [30] : [250, 500, 1000, 1500, 2000];
	const processLadder = context.quick ? [6] : [50, 100, 150];
	const method = [
		`Held means: within ${settings.convergeMs / 1000} s (plus 20 ms a node) every node hears its k = ${settings.k} peers and the global r >= ${R_MIN}; then ${settings.warmUpMs / 1000} s of warm-up; then for ${settings.holdMs / 1000} s, sampled every second, the global r stays >= ${R_MIN}, no node hears fewer than k peers, the worst node's p99 tick lateness (its last 128 ticks) stays under ${WORST_P99_MAX_MS} ms and the median node's under ${MEDIAN_P99_MAX_MS} ms. Both are printed for every size.`,
		`In one process (bench/workers/sparse-host): N ChorusNode instances (defaults: K 2.5, 10 Hz) over inproc://, each subscribed to k others drawn by the fan-out's picker (cluster/membership/fanout.ts, seeded), the graph membership converges to; membership itself is not run (it speaks tcp:// only). r is the order parameter of all N phases read at one instant.`,
		`One process per node: N \`chorus-tui --headless --fanout ${settings.k}\` processes on TCP loopback (the built-in ZMTP engine), all started at once and joined through the first (--join), membership and gossip as users run them. The global r is taken from every node's own phase through the control plane's \`view\`, all asked at once, each phase carried to one instant by the node's ω; a node hears k peers when its members list says k are coupled.`,
		`Ladder in one process: ${inProcessLadder.join(', ')}; one process per node: ${processLadder.join(', ')}; the climb stops at the first size not held.`,
	];

	const inProcess = await climb(inProcessLadder, async (nodes) => inProcessTrial(nodes, settings), context, 'in one process');
	record(measurements, 'sparse.in-process', inProcess);
	const processes = await climb(processLadder, async (nodes) => processTrial(nodes, settings), context, 'one process per node');
	record(measurements, 'sparse.processes', processes);
	return {values: measurements.values, warnings: measurements.warnings, method};
}

async function climb(ladder: number[], trial: (nodes: number) => Promise<Attempt>, context: BenchContext, label: string): Promise<Attempt[]> {
	const attempts: Attempt[] = [];
	for (const nodes of ladder) {
		const attempt = await trial(nodes);
		attempts.push(attempt);
		context.log(`sparse ${label}: ${describe(attempt)} (${attempt.seconds} s)`);
		if (!attempt.held) {
			break;
		}
	}

	return attempts;
}

function record(measurements: Measurements, id: string, attempts: Attempt[]): void {
	const held = attempts.filter((attempt) => attempt.held).map((attempt) => attempt.nodes);
	measurements.set(id, [held.length > 0 ? Math.max(...held) : 0], attempts.map((attempt) => describe(attempt)).join('; '));
}

function describe(attempt: Attempt): string {
	const extra = [
		Number.isFinite(attempt.r) ? `r ${attempt.r.toFixed(3)}` : undefined,
		Number.isFinite(attempt.worstP99Ms) ? `p99 lateness worst ${attempt.worstP99Ms} ms, median ${attempt.medianP99Ms} ms` : undefined,
		attempt.cpuShare === undefined ? undefined : `CPU ${Math.round(attempt.cpuShare * 100)} % of a core`,
		attempt.rssMiB === undefined ? undefined : `RSS ${attempt.rssMiB} MiB`,
	].filter(Boolean);
	return `${attempt.nodes}: ${attempt.held ? 'held' : `failed (${attempt.reason})`}${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`;
}

/** Judge the samples of the hold. */
function judge(nodes: number, k: number, samples: Sample[], startedMs: number): Attempt {
	const seconds = Math.round((performance.now() - startedMs) / 1000);
	if (samples.length === 0) {
		return {nodes, held: false, reason: 'no samples', r: Number.NaN, worstP99Ms: Number.NaN, medianP99Ms: Number.NaN, seconds};
	}

	const r = Math.min(...samples.map((sample) => sample.r));
	const worstP99Ms = Math.max(...samples.map((sample) => sample.lateP99Max));
	const medianP99Ms = Math.max(...samples.map((sample) => sample.lateP99Median));
	const fewestPeers = Math.min(...samples.map((sample) => sample.minPeers));
	const reasons = [
		fewestPeers < k ? `a node heard ${fewestPeers} of its ${k} peers` : undefined,
		r < R_MIN ? `r fell to ${r.toFixed(3)}` : undefined,
		worstP99Ms >= WORST_P99_MAX_MS ? `worst p99 lateness ${worstP99Ms} ms` : undefined,
		medianP99Ms >= MEDIAN_P99_MAX_MS ? `median p99 lateness ${medianP99Ms} ms` : undefined,
	].filter(Boolean);
	return {nodes, held: reasons.length === 0, reason: reasons.join('; '), r, worstP99Ms, medianP99Ms, seconds};
}

/** Exported for short runs by hand (a size, shorter windows). */
export async function inProcessTrial(nodes: number, settings: Settings): Promise<Attempt> {
	const startedMs = performance.now();
	const samples: Sample[] = [];
	let error: string | undefined;
	const host = new Child(process.execPath, [path.join(BENCH_DIST_DIR, 'workers', 'sparse-host.js'), String(nodes), String(settings.k)], {
		keepLines: false,
		onLine(text) {
			try {
				const line = JSON.parse(text) as {type: string; message?: string} & Sample;
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
		worstP99Ms: samples.at(-1)?.lateP99Max ?? Number.NaN,
		medianP99Ms: samples.at(-1)?.lateP99Median ?? Number.NaN,
		seconds: Math.round((performance.now() - startedMs) / 1000),
	});
	try {
		const formed = await waitUntil(() => {
			const last = samples.at(-1);
			return error !== undefined || !host.running || (last !== undefined && last.minPeers >= settings.k && last.r >= R_MIN);
		}, settings.convergeMs + (nodes * 20), 200);
		if (error !== undefined || !host.running) {
			return failed(`could not run: ${error ?? `the process exited: ${host.stderr.trim().split('\n').at(-1) ?? ''}`}`);
		}

		if (!formed) {
			const last = samples.at(-1);
			return failed(last === undefined ? 'no sample' : `did not form: ${last.minPeers} of ${settings.k} peers, r ${last.r.toFixed(3)}`);
		}

		await sleep(settings.warmUpMs);
		const from = samples.length;
		await sleep(settings.holdMs + 500);
		const held = samples.slice(from);
		const attempt = judge(nodes, settings.k, held, startedMs);
		const first = held[0];
		const last = held.at(-1);
		if (first?.cpuS !== undefined && last?.cpuS !== undefined && held.length > 1) {
			attempt.cpuShare = (last.cpuS - first.cpuS) / (held.length - 1);
			attempt.rssMiB = last.rssMiB;
		}

		return host.running ? attempt : failed(`the process died: ${host.stderr.trim().split('\n').at(-1) ?? ''}`);
	} finally {
		await host.stop(10_000);
	}
}

type Coupled = {members?: Array<{coupled?: boolean}>};

export async function processTrial(nodes: number, settings: Settings): Promise<Attempt> {
	const startedMs = performance.now();
	const ports = await freePorts(nodes * 2);
	const dataPort = (index: number) => ports[index * 2]!;
	const controlPort = (index: number) => ports[(index * 2) + 1]!;
	const processes = Array.from({length: nodes}, (_unused, index) => new HeadlessNode(`sparse-${index + 1}`, [
		'--bind', String(dataPort(index)), '--control', String(controlPort(index)), '--fanout', String(settings.k),
		...(index === 0 ? [] : ['--join', String(dataPort(0))]),
	]));
	const client = new ControlClient({timeoutMs: 5000, maxSockets: nodes + 8, maxInFlight: nodes + 8});
	const sample = async (): Promise<Sample> => {
		const nowMs = performance.now();
		const snapshots = processes.map((node) => node.lastSnapshot);
		const fresh = snapshots.filter((snapshot) => snapshot !== undefined && nowMs - snapshot.atMs < 3000);
		const coupled = snapshots.map((snapshot) => ((snapshot as Coupled | undefined)?.members ?? []).filter((member) => member.coupled === true).length);
		const p99s = fresh.map((snapshot) => snapshot!.stats.tickLateMs.p99);
		const phases = await Promise.all(processes.map(async (_node, index) => {
			try {
				const reply = await client.request(`tcp://127.0.0.1:${controlPort(index)}`, {op: 'view', limit: 1});
				const node = reply.ok ? (reply['node'] as {phase: number; omega: number}) : undefined;
				return node === undefined ? undefined : {phase: node.phase, omega: node.omega, atMs: performance.now()};
			} catch {
				return undefined;
			}
		}));
		const answered = phases.filter((phase) => phase !== undefined);
		const instant = Math.max(...answered.map((phase) => phase.atMs));
		return {
			// A node that did not answer counts against r: as if its phase were opposite the mesh's.
			r: answered.length === nodes ? orderParameter(answered.map((phase) => phase.phase + (phase.omega * (instant - phase.atMs) / 1000))) : 0,
			minPeers: fresh.length === nodes ? Math.min(...coupled) : 0,
			maxPeers: Math.max(0, ...coupled),
			lateP99Median: p99s.length > 0 ? median(p99s) : Number.NaN,
			lateP99Max: p99s.length > 0 ? Math.max(...p99s) : Number.NaN,
		};
	};

	try {
		let last: Sample | undefined;
		const deadline = performance.now() + settings.convergeMs + (nodes * 200);
		while (performance.now() < deadline) {
			last = await sample();
			if (last.minPeers >= settings.k && last.r >= R_MIN) {
				break;
			}

			await sleep(1000);
		}

		const dead = processes.find((node) => !node.child.running);
		if (dead) {
			return {nodes, held: false, reason: `a node exited: ${dead.child.stderr.trim().split('\n').at(-1) ?? ''}`, r: Number.NaN, worstP99Ms: Number.NaN, medianP99Ms: Number.NaN, seconds: 0};
		}

		if (last === undefined || last.minPeers < settings.k || last.r < R_MIN) {
			return {
				nodes,
				held: false,
				reason: `did not form: ${last?.minPeers ?? 0} of ${settings.k} peers, r ${(last?.r ?? 0).toFixed(3)}`,
				r: last?.r ?? Number.NaN,
				worstP99Ms: last?.lateP99Max ?? Number.NaN,
				medianP99Ms: last?.lateP99Median ?? Number.NaN,
				seconds: Math.round((performance.now() - startedMs) / 1000),
			};
		}

		await sleep(settings.warmUpMs);
		const samples: Sample[] = [];
		const endMs = performance.now() + settings.holdMs;
		while (performance.now() < endMs) {
			await sleep(1000);
			samples.push(await sample());
		}

		return judge(nodes, settings.k, samples, startedMs);
	} finally {
		await client.close();
		await stopAll(processes.map((node) => node.child));
	}
}
