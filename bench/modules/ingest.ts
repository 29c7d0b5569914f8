/**
1. Ingest: how many messages a second one ChorusNode receives, decodes, validates and admits from
64 peers flooding it, beside a bare zeromq.js loop (the stack's ceiling) and the original Python
node's loop, in the same run.

Fairness on a 2-core machine: the load generator (one Python process with 64 PUB sockets, and its
libzmq I/O thread) is pinned to CPU 0; every receiver (with its own libzmq I/O thread) is pinned to
CPU 1. So each receiver has one core to itself, the load is the same frames at the same offered
rate for all of them, and what a receiver cannot take is dropped by ZeroMQ at the high-water mark:
the measured rate is the receiver's capacity on one core. The receivers take turns within
each run, in a rotating order, so drift in the machine's load hits them alike.
*/

import path from 'node:path';
import {freePorts} from '../../test/helpers/ports.js';
import {BENCH_DIST_DIR, PYTHON, PYTHON_DIR} from '../lib/paths.js';
import {Child, cpuSeconds} from '../lib/proc.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';

type Variant = 'bare' | 'python' | 'node' | 'node-libzmq';

type Report = {t: number; count: number; tickLateMs?: {p50: number; p99: number; max: number}; rejected?: Record<string, number>};

const LOAD_CPU = '0';
const RECEIVER_CPU = '1';

export const ingest: BenchModule = {
	name: 'ingest',
	title: '1. Ingest: one node under a flood from 64 peers',
	figures: [
		{id: 'ingest.bare', label: '(a) bare zeromq.js subscriber loop, received', unit: 'msg/s'},
		{id: 'ingest.python', label: '(b) original Python loop (pyzmq recv_json), received', unit: 'msg/s'},
		{id: 'ingest.node', label: 'ChorusNode: received, decoded, validated, admitted', unit: 'msg/s'},
		{id: 'ingest.node-libzmq', label: 'ChorusNode on the libzmq engine (`--engine libzmq`, as before the built-in one)', unit: 'msg/s'},
		{
			id: 'ingest.node-vs-bare',
			label: 'ChorusNode / bare loop',
			unit: 'ratio',
			target: {comparison: '>=', value: 0.8, text: '>= 0.8'},
		},
		{
			id: 'ingest.node-vs-python',
			label: 'ChorusNode / Python loop',
			unit: 'ratio',
			target: {comparison: '>=', value: 1, text: '>= 1.0'},
		},
		{id: 'ingest.bare.per-cpu-s', label: '(a) bare loop, messages per CPU-second of its process', unit: 'msg/CPU-s'},
		{id: 'ingest.python.per-cpu-s', label: '(b) Python loop, messages per CPU-second of its process', unit: 'msg/CPU-s'},
		{id: 'ingest.node.per-cpu-s', label: 'ChorusNode, messages per CPU-second of its process', unit: 'msg/CPU-s'},
		{id: 'ingest.node-libzmq.per-cpu-s', label: 'ChorusNode on libzmq, messages per CPU-second of its process', unit: 'msg/CPU-s'},
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
	const runs = context.quick ? 1 : 5;
	const warmupMs = context.quick ? 500 : 1500;
	const windowMs = context.quick ? 1000 : 4000;
	const measurements = new Measurements();
	const ports = await freePorts(peers);
	const load = new Child(PYTHON, [path.join(PYTHON_DIR, 'flood_publishers.py'), ports.join(',')], {
		cpus: LOAD_CPU,
		stdin: true,
		env: {FLOOD_REPORT: '1'},
	});
	try {
		await load.waitForLine((line) => line === 'ready', 10_000);
		const variants: Variant[] = ['bare', 'python', 'node', 'node-libzmq'];
		for (let run = 0; run < runs; run++) {
			const rates: Partial<Record<Variant, number>> = {};
			for (let turn = 0; turn < variants.length; turn++) {
				const variant = variants[(run + turn) % variants.length]!;
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

				rates[variant] = result.rate;
				measurements.add(`ingest.${variant}`, Math.round(result.rate));
				if (variant === 'node' && result.last?.tickLateMs) {
					measurements.add('ingest.tick-late.p50', result.last.tickLateMs.p50);
					measurements.add('ingest.tick-late.p99', result.last.tickLateMs.p99);
					measurements.add('ingest.tick-late.max', result.last.tickLateMs.max);
					const rejected = Object.entries(result.last.rejected ?? {});
					if (rejected.length > 0) {
						measurements.warn(`run ${run + 1}: the node rejected frames: ${JSON.stringify(Object.fromEntries(rejected))}`);
					}
				}

				measurements.add(`ingest.${variant}.per-cpu-s`, Math.round(result.perCpuS));
				context.log(
					`ingest run ${run + 1}/${runs} ${variant}: ${Math.round(result.rate)} msg/s, ${Math.round(result.perCpuS)} msg per CPU-second, process at ${Math.round(result.cpuShare * 100)} % of a core`,
				);
			}

			if (rates.node !== undefined && rates.bare !== undefined) {
				measurements.add('ingest.node-vs-bare', round3(rates.node / rates.bare));
			}

			if (rates.node !== undefined && rates.python !== undefined) {
				measurements.add('ingest.node-vs-python', round3(rates.node / rates.python));
			}
		}
	} finally {
		load.send('\n');
		load.process.stdin?.end();
		await load.stop();
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`${peers} publishing peers in one Python process (pyzmq, PUB sockets, valid v1 frames of about 170 bytes, increasing lamport_time, no pacing) pinned to CPU ${LOAD_CPU}; each receiver pinned to CPU ${RECEIVER_CPU} (taskset), so it has one core, shared with its libzmq I/O thread where it has one.`,
			'(a) one zeromq.js Subscriber connected to every publisher, `for await` counting frames; (b) Debian python3-zmq: one SUB socket, recv_json(NOBLOCK), 10 ms sleep when empty, last message per node_id in a dict; node: a ChorusNode (defaults, 10 Hz: the built-in ZMTP engine over node:net) with one subscriber per peer, counting admitted messages; node-libzmq: the same node with `--engine libzmq` (one zeromq.js SUB socket per peer), the figure before the built-in engine.',
			`${runs} run(s); in each, the four receivers take turns (rotating order), each ${warmupMs} ms warm-up then a ${windowMs} ms window, rate from the receiver's own counter and clock. Ratios are per run, then the median. Tick lateness is the node's own stats.tickLateMs at the end of its window, over the window's ticks alone (the last windowMs / 100), so the node's first second is left out: it joins a flood already running, with its kernel buffers full and its code not yet compiled, and single ticks there were 65–75 ms late (most under 30 ms), while in the windows the latest tick was 1–6 ms late.`,
		],
	};
}

async function measureReceiver(
	variant: Variant,
	ports: number[],
	warmupMs: number,
	windowMs: number,
	env: NodeJS.ProcessEnv = {},
): Promise<{rate: number; perCpuS: number; cpuShare: number; last: Report | undefined}> {
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
			{cpus: RECEIVER_CPU, onLine, env},
		);
	}

	try {
		await receiver.waitForLine(() => true, 15_000);
		const startMs = reports[0]!.t + warmupMs;
		const endMs = startMs + windowMs;
		const firstIndex = (await receiver.waitForLine((text) => (JSON.parse(text) as Report).t >= startMs, warmupMs + 15_000)).index;
		const cpuStartS = cpuSeconds(receiver.pid);
		const lastIndex = (await receiver.waitForLine((text) => (JSON.parse(text) as Report).t >= endMs, windowMs + 15_000, firstIndex)).index;
		const cpuEndS = cpuSeconds(receiver.pid);
		const first = reports[firstIndex]!;
		const last = reports[lastIndex]!;
		const messages = last.count - first.count;
		const seconds = (last.t - first.t) / 1000;
		return {rate: messages / seconds, perCpuS: messages / (cpuEndS - cpuStartS), cpuShare: (cpuEndS - cpuStartS) / seconds, last};
	} finally {
		await receiver.stop();
	}
}

function round3(value: number): number {
	return Math.round(value * 1000) / 1000;
}

