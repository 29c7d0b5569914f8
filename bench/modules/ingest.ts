/**
1. Ingest: how many messages a second one ChorusNode receives, decodes, validates and admits from
64 peers flooding it, beside the bare receive loop of the engine it uses (the ceiling: the same
reads, no decoding) and the original Python node's loop, in the same run.

Fairness on a 2-core machine: the load generator (one Python process with 64 PUB sockets, and its
libzmq I/O thread) is pinned to CPU 0; every receiver (with its own libzmq I/O thread where it has
one) is pinned to CPU 1. So each receiver has one core to itself and is offered the same frames;
what it cannot take is dropped by ZeroMQ at the high-water mark. The generator reports how many
messages it handed to its sockets, so each window has its offered rate: a receiver that took (nearly)
all of it was not CPU-bound, and its rate is the generator's, not its capacity. Messages per
CPU-second of the receiver's process do not depend on that, and hold up better on a busy machine:
they are the primary comparison. The receivers take turns within each run, in a rotating order, so
drift in the machine's load hits them alike.
*/

import path from 'node:path';
import {freePorts} from '../../test/helpers/ports.js';
import {BENCH_DIST_DIR, PYTHON, PYTHON_DIR} from '../lib/paths.js';
import {Child, cpuSeconds} from '../lib/proc.js';
import {waitUntil} from '../lib/headless.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';

type Variant = 'bare' | 'python' | 'node' | 'node-libzmq';

type Report = {t: number; count: number; tickLateMs?: {p50: number; p99: number; max: number}; rejected?: Record<string, number>};

/** A generator line: messages handed to the PUB sockets so far, at `t` ms on CLOCK_MONOTONIC. */
type Offered = {t: number; sent: number};

const LOAD_CPU = '0';
const RECEIVER_CPU = '1';
/** A receiver that took this share of what was offered took all of it (the rest is the reports' granularity). */
const TOOK_ALL = 0.97;
/** A receiver that used this share of its core was CPU-bound. */
const CPU_BOUND = 0.9;

const VARIANTS: Array<{variant: Variant; label: string}> = [
	{variant: 'bare', label: '(a) bare receive loop of the built-in engine'},
	{variant: 'python', label: '(b) original Python loop (pyzmq recv_json)'},
	{variant: 'node', label: 'ChorusNode (built-in engine)'},
	{variant: 'node-libzmq', label: 'ChorusNode on `--engine libzmq` (before the built-in engine)'},
];

export const ingest: BenchModule = {
	name: 'ingest',
	title: '1. Ingest: one node under a flood from 64 peers',
	figures: [
		{id: 'ingest.offered', label: 'offered by the generator during the windows', unit: 'msg/s'},
		...VARIANTS.flatMap(({variant, label}) => [
			{id: `ingest.${variant}.per-cpu-s`, label: `${label}, messages per CPU-second of its process`, unit: 'msg/CPU-s'},
			{id: `ingest.${variant}`, label: `${label}, messages taken per second`, unit: 'msg/s'},
			{id: `ingest.${variant}.taken`, label: `${label}, share of the offered rate taken`, unit: 'ratio'},
			{id: `ingest.${variant}.cpu`, label: `${label}, CPU of its process`, unit: '% of a core'},
		]),
		{
			id: 'ingest.node-vs-python.per-cpu-s',
			label: 'ChorusNode ÷ Python loop, messages per CPU-second (the primary ingest ratio)',
			unit: 'ratio',
			target: {comparison: '>=', value: 1, text: '>= 1.0'},
		},
		{id: 'ingest.node-vs-python', label: 'ChorusNode ÷ Python loop, messages taken per second (bounded by the offered rate)', unit: 'ratio'},
		{id: 'ingest.node-vs-bare.per-cpu-s', label: 'ChorusNode ÷ the bare loop of its engine, messages per CPU-second', unit: 'ratio'},
		{id: 'ingest.tick-late.p50', label: 'tick lateness during the flood, p50', unit: 'ms'},
		{
			id: 'ingest.tick-late.p99',
			label: 'tick lateness during the flood, p99',
			unit: 'ms',
			target: {comparison: '<', value: 50, text: '< 50 ms (the tick loop is not starved)'},
		},
		{id: 'ingest.tick-late.max', label: 'tick lateness during the flood, max', unit: 'ms'},
	],
	run: runIngest,
};

async function runIngest(context: BenchContext): Promise<ModuleOutput> {
	const peers = context.quick ? 8 : Number(process.env['CHORUS_BENCH_INGEST_PEERS'] ?? 64);
	// Four runs of four receivers in rotating order: each receiver takes each turn once.
	const runs = context.quick ? 1 : VARIANTS.length;
	const warmupMs = context.quick ? 500 : 1500;
	const windowMs = context.quick ? 1000 : 4000;
	const measurements = new Measurements();
	// Per receiver, how each window went: it took all it was offered, it used its whole core, or
	// neither (something else had the core: a busy machine).
	const windowKinds = new Map<Variant, {tookAll: number; cpuBound: number; starved: number}>();
	const ports = await freePorts(peers);
	const offered: Offered[] = [];
	const load = new Child(PYTHON, [path.join(PYTHON_DIR, 'flood_publishers.py'), ports.join(',')], {
		cpus: LOAD_CPU,
		stdin: true,
		keepLines: false,
		env: {FLOOD_REPORT: '1'},
		onLine(text) {
			if (text === 'ready') {
				offered.push({t: Number.NaN, sent: Number.NaN});
				return;
			}

			try {
				offered.push(JSON.parse(text) as Offered);
			} catch {}
		},
	});
	try {
		if (!(await waitUntil(() => offered.length > 0 || !load.running, 10_000))) {
			throw new Error(`the load generator did not start; stderr: ${load.stderr.slice(-300)}`);
		}

		for (let run = 0; run < runs; run++) {
			const perCpuS: Partial<Record<Variant, number>> = {};
			const rates: Partial<Record<Variant, number>> = {};
			for (let turn = 0; turn < VARIANTS.length; turn++) {
				const {variant} = VARIANTS[(run + turn) % VARIANTS.length]!;
				let result;
				try {
					result = await measureReceiver(variant, ports, warmupMs, windowMs);
				} catch (error) {
					// A receiver that dies under the flood is a finding, not a reason to stop the run.
					const reason = (error as Error).message.split('\n')[0]!.slice(0, 400);
					measurements.warn(`run ${run + 1}, ${variant}: ${reason}`);
					context.log(`ingest run ${run + 1}/${runs} ${variant}: failed: ${reason}`);
					continue;
				}

				// The generator's report after the window's end may still be on its way.
				await waitUntil(() => (offered.at(-1)?.t ?? 0) >= result.endT || !load.running, 3000);
				const offeredRate = offeredBetween(offered, result.startT, result.endT);
				const taken = result.rate / offeredRate;
				rates[variant] = result.rate;
				perCpuS[variant] = result.perCpuS;
				measurements.add(`ingest.${variant}`, Math.round(result.rate));
				measurements.add(`ingest.${variant}.per-cpu-s`, Math.round(result.perCpuS));
				measurements.add(`ingest.${variant}.cpu`, Math.round(result.cpuShare * 1000) / 10);
				if (Number.isFinite(offeredRate)) {
					measurements.add('ingest.offered', Math.round(offeredRate));
					measurements.add(`ingest.${variant}.taken`, round3(taken));
				}

				const kinds = windowKinds.get(variant) ?? {tookAll: 0, cpuBound: 0, starved: 0};
				windowKinds.set(variant, kinds);
				if (taken >= TOOK_ALL) {
					kinds.tookAll++;
				} else if (result.cpuShare >= CPU_BOUND) {
					kinds.cpuBound++;
				} else {
					kinds.starved++;
				}

				if (variant === 'node' && result.last?.tickLateMs) {
					measurements.add('ingest.tick-late.p50', result.last.tickLateMs.p50);
					measurements.add('ingest.tick-late.p99', result.last.tickLateMs.p99);
					measurements.add('ingest.tick-late.max', result.last.tickLateMs.max);
					const rejected = Object.entries(result.last.rejected ?? {});
					if (rejected.length > 0) {
						measurements.warn(`run ${run + 1}: the node rejected frames: ${JSON.stringify(Object.fromEntries(rejected))}`);
					}
				}

				context.log(
					`ingest run ${run + 1}/${runs} ${variant}: ${Math.round(result.rate)} msg/s of ${Math.round(offeredRate)} offered (${Math.round(taken * 100)} %), ${Math.round(result.perCpuS)} msg per CPU-second, process at ${Math.round(result.cpuShare * 100)} % of a core`,
				);
			}

			if (perCpuS.node !== undefined && perCpuS.python !== undefined) {
				measurements.add('ingest.node-vs-python.per-cpu-s', round3(perCpuS.node / perCpuS.python));
			}

			if (rates.node !== undefined && rates.python !== undefined) {
				measurements.add('ingest.node-vs-python', round3(rates.node / rates.python));
			}

			if (perCpuS.node !== undefined && perCpuS.bare !== undefined) {
				measurements.add('ingest.node-vs-bare.per-cpu-s', round3(perCpuS.node / perCpuS.bare));
			}
		}
	} finally {
		load.send('\n');
		load.process.stdin?.end();
		await load.stop();
	}

	for (const {variant} of VARIANTS) {
		const kinds = windowKinds.get(variant);
		if (kinds === undefined) {
			continue;
		}

		const windows = kinds.tookAll + kinds.cpuBound + kinds.starved;
		measurements.note(
			`ingest.${variant}`,
			[
				`of ${windows} window(s): took all offered (>= ${TOOK_ALL * 100} %, not CPU-bound: the rate is a lower bound of its capacity) in ${kinds.tookAll}`,
				`CPU-bound (>= ${CPU_BOUND * 100} % of its core) in ${kinds.cpuBound}`,
				`neither in ${kinds.starved}${kinds.starved > 0 ? ' (other processes had its core: a busy machine)' : ''}`,
			].join(', '),
		);
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`${peers} publishing peers in one Python process (pyzmq, PUB sockets with SNDHWM 1000, valid v1 frames of about 170 bytes, increasing lamport_time, no pacing) pinned to CPU ${LOAD_CPU}; each receiver pinned to CPU ${RECEIVER_CPU} (taskset), so it has one core, shared with its libzmq I/O thread where it has one. The generator prints how many messages it has handed to its sockets every 250 ms, on CLOCK_MONOTONIC like every receiver's reports; the offered rate of a window is that count's growth between the window's ends (interpolated between its reports). A receiver that took >= ${TOOK_ALL * 100} % of it took all of it: not CPU-bound; one that used >= ${CPU_BOUND * 100} % of its core was CPU-bound; one that did neither lost its core to other processes (a busy machine). Each rate's note counts its windows of each kind.`,
			'(a) the bare receive loop of the engine the node uses: the node\'s Transport (built-in ZMTP engine, one subscriber per peer, default high-water mark and frame limit) polled every 100 ms with the node\'s drain budget and drained between ticks while more waits, exactly as the node drives it, but only counting frames (bench/workers/ingest-receiver.ts); (b) Debian python3-zmq: one SUB socket, recv_json(NOBLOCK), 10 ms sleep when empty, last message per node_id in a dict; node: a ChorusNode (defaults, 10 Hz, built-in engine), counting admitted messages; node-libzmq: the same node with `--engine libzmq` (one zeromq.js SUB socket per peer), the figure before the built-in engine. The bare zeromq.js loop of earlier runs is gone: the node no longer reads through it.',
			`${runs} run(s); in each, the four receivers take turns (rotating order), each ${warmupMs} ms warm-up then a ${windowMs} ms window, rate from the receiver's own counter and clock, CPU from /proc/PID/stat (every thread) over the same window. Messages per CPU-second of the receiver's process is the primary figure; ratios are per run, then the median. Tick lateness is the node's own stats.tickLateMs at the end of its window, over the window's ticks alone (the last windowMs / 100), so the node's first second is left out: it joins a flood already running, with its kernel buffers full and its code not yet compiled.`,
		],
	};
}

/**
Messages per second the generator handed to its sockets between two instants of CLOCK_MONOTONIC
(every receiver reports on it): its count at each instant interpolated between its own reports.
*/
function offeredBetween(lines: readonly Offered[], startT: number, endT: number): number {
	const reports = lines.filter((line) => Number.isFinite(line.t));
	const sentAt = (t: number): number => {
		const after = reports.findIndex((line) => line.t >= t);
		if (after <= 0) {
			return Number.NaN;
		}

		const before = reports[after - 1]!;
		const next = reports[after]!;
		return before.sent + ((next.sent - before.sent) * (t - before.t)) / (next.t - before.t);
	};

	return (sentAt(endT) - sentAt(startT)) / ((endT - startT) / 1000);
}

async function measureReceiver(
	variant: Variant,
	ports: number[],
	warmupMs: number,
	windowMs: number,
): Promise<{rate: number; perCpuS: number; cpuShare: number; last: Report | undefined; startT: number; endT: number}> {
	const reports: Report[] = [];
	const onLine = (text: string) => {
		try {
			reports.push(JSON.parse(text) as Report);
		} catch {}
	};

	let receiver: Child;
	if (variant === 'python') {
		receiver = new Child(PYTHON, [path.join(PYTHON_DIR, 'ingest_receiver.py'), ports.join(',')], {cpus: RECEIVER_CPU, onLine});
	} else {
		const [bindPort] = await freePorts(1);
		receiver = new Child(
			process.execPath,
			[
				path.join(BENCH_DIST_DIR, 'workers', 'ingest-receiver.js'),
				variant,
				String(bindPort),
				ports.join(','),
				// Tick lateness over the window alone, at 10 Hz.
				String(Math.round(windowMs / 100)),
			],
			{cpus: RECEIVER_CPU, onLine},
		);
	}

	try {
		await receiver.waitForLine(() => true, 15_000);
		const startMs = reports[0]!.t + warmupMs;
		const endMs = startMs + windowMs;
		const firstLine = await receiver.waitForLine((text) => (JSON.parse(text) as Report).t >= startMs, warmupMs + 15_000);
		const cpuStartS = cpuSeconds(receiver.pid);
		const lastLine = await receiver.waitForLine((text) => (JSON.parse(text) as Report).t >= endMs, windowMs + 15_000, firstLine.index);
		const cpuEndS = cpuSeconds(receiver.pid);
		const first = reports[firstLine.index]!;
		const last = reports[lastLine.index]!;
		const messages = last.count - first.count;
		const seconds = (last.t - first.t) / 1000;
		return {
			rate: messages / seconds,
			perCpuS: messages / (cpuEndS - cpuStartS),
			cpuShare: (cpuEndS - cpuStartS) / seconds,
			last,
			startT: first.t,
			endT: last.t,
		};
	} finally {
		await receiver.stop();
	}
}

function round3(value: number): number {
	return Math.round(value * 1000) / 1000;
}
