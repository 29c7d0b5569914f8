/**
2. Cost per node: CPU share of one core per node (the whole process, every thread, from
/proc/PID/stat) in a full mesh at 10 Hz on loopback: `chorus-tui --headless --demo 0` processes
beside nodes built like the original Python one, in the same run.
*/

import {readFileSync} from 'node:fs';
import path from 'node:path';
import {freePorts} from '../../test/helpers/ports.js';
import {HeadlessNode, waitUntil} from '../lib/headless.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {PYTHON, PYTHON_DIR} from '../lib/paths.js';
import {Child, cpuSeconds, cpuSecondsByThread, sleep, stopAll} from '../lib/proc.js';
import {mean} from '../lib/stats.js';

export const cost: BenchModule = {
	name: 'cost',
	title: '2. Cost per node: 20-node full mesh at 10 Hz',
	figures: [
		{id: 'cost.node', label: 'chorus-tui --headless, CPU per node', unit: '% of a core'},
		{id: 'cost.python', label: 'original-style Python node, CPU per node', unit: '% of a core'},
		{
			id: 'cost.node-vs-python',
			label: 'chorus-tui / Python, CPU per node',
			unit: 'ratio',
			target: {comparison: '<=', value: 0.6, text: '<= 0.6'},
		},
		{id: 'cost.node-libzmq', label: 'chorus-tui --engine libzmq (as before the built-in engine), CPU per node', unit: '% of a core'},
		{id: 'cost.node-libzmq-vs-python', label: 'chorus-tui --engine libzmq / Python, CPU per node', unit: 'ratio'},
		{id: 'cost.node.main-thread', label: 'chorus-tui: its main (JavaScript) thread', unit: '% of a core'},
		{id: 'cost.node.zmq-io-thread', label: 'chorus-tui: its libzmq I/O thread (none unless a socket uses libzmq)', unit: '% of a core'},
		{id: 'cost.node.other-threads', label: 'chorus-tui: every other thread (V8, libuv, ZMQ reaper)', unit: '% of a core'},
		{id: 'cost.node.rss', label: 'chorus-tui --headless, resident memory per node', unit: 'MiB'},
	],
	run: runCost,
};

async function runCost(context: BenchContext): Promise<ModuleOutput> {
	const nodes = context.quick ? 4 : 20;
	const runs = context.quick ? 1 : 3;
	// A minute of steady state before measuring, for every variant alike: V8 compiles a node's hot
	// paths only after they have run many times, and a node runs for hours (after 6 s a node used
	// about 1.6 times the CPU it uses after a minute; measured with 10 nodes).
	const settleMs = context.quick ? 500 : 45_000;
	const windowMs = context.quick ? 1000 : 10_000;
	const measurements = new Measurements();
	for (let run = 0; run < runs; run++) {
		const chorus = await measureChorusMesh(nodes, settleMs, windowMs, measurements, 'builtin');
		context.log(`cost run ${run + 1}/${runs} chorus: ${chorus.toFixed(2)} % of a core per node`);
		const chorusLibzmq = await measureChorusMesh(nodes, settleMs, windowMs, measurements, 'libzmq');
		context.log(`cost run ${run + 1}/${runs} chorus --engine libzmq: ${chorusLibzmq.toFixed(2)} % of a core per node`);
		const python = await measurePythonMesh(nodes, settleMs, windowMs);
		context.log(`cost run ${run + 1}/${runs} python: ${python.toFixed(2)} % of a core per node`);
		measurements.add('cost.node', round2(chorus));
		measurements.add('cost.python', round2(python));
		measurements.add('cost.node-vs-python', Math.round((chorus / python) * 1000) / 1000);
		measurements.add('cost.node-libzmq', round2(chorusLibzmq));
		measurements.add('cost.node-libzmq-vs-python', Math.round((chorusLibzmq / python) * 1000) / 1000);
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`${nodes} processes in a full mesh on 127.0.0.1, 10 Hz: \`chorus-tui --headless --demo 0\` (defaults: the built-in ZMTP engine; NDJSON report every 1000 ms read by the runner), the same with \`--engine libzmq\` (zeromq.js, the figure before the built-in engine), then ${nodes} Python nodes built like the original (bench/python/original_node.py: pyzmq, a receive thread looping recv_json(NOBLOCK) with a 10 ms sleep, a publish thread every 100 ms).`,
			`Once every chorus node lists all ${nodes - 1} peers (the Python ones: once all print ready), ${settleMs} ms to settle, then CPU time (utime + stime of the whole process, all threads, /proc/PID/stat) over a ${windowMs} ms window; the figure is the mean over the ${nodes} processes, as a percentage of one core. ${runs} run(s), alternating; ratios per run, then the median.`,
		],
	};
}

async function measureWindow(pids: number[], windowMs: number, threads?: Map<string, number[]>): Promise<number> {
	const before = pids.map((pid) => cpuSeconds(pid));
	const threadsBefore = pids.map((pid) => cpuSecondsByThread(pid));
	const startedMs = performance.now();
	await sleep(windowMs);
	const after = pids.map((pid) => cpuSeconds(pid));
	const threadsAfter = pids.map((pid) => cpuSecondsByThread(pid));
	const seconds = (performance.now() - startedMs) / 1000;
	if (threads !== undefined) {
		// Per thread name: the mean over processes of that thread group's share of a core.
		const names = new Set(threadsAfter.flatMap((byName) => [...byName.keys()]));
		for (const name of names) {
			const shares = pids.map((_pid, index) => (((threadsAfter[index]!.get(name) ?? 0) - (threadsBefore[index]!.get(name) ?? 0)) / seconds) * 100);
			(threads.get(name) ?? threads.set(name, []).get(name)!).push(mean(shares));
		}
	}

	return mean(pids.map((_pid, index) => ((after[index]! - before[index]!) / seconds) * 100));
}

async function measureChorusMesh(
	count: number,
	settleMs: number,
	windowMs: number,
	measurements: Measurements,
	engine: 'builtin' | 'libzmq',
): Promise<number> {
	const formTimeoutMs = count < 10 ? 10_000 : 30_000;
	const ports = await freePorts(count);
	const endpoints = ports.map((port) => `tcp://127.0.0.1:${port}`);
	const nodes = ports.map(
		(_port, index) =>
			new HeadlessNode(`cost-${index + 1}`, [
				'--bind',
				endpoints[index]!,
				'--peer',
				endpoints.filter((_endpoint, other) => other !== index).join(','),
				'--engine',
				engine,
			]),
	);
	try {
		const meshed = await waitUntil(
			() => nodes.every((node) => (node.lastSnapshot?.peers.filter((peer) => peer.state === 'alive').length ?? 0) === count - 1),
			formTimeoutMs,
			100,
		);
		if (!meshed) {
			measurements.warn(`the ${count}-node chorus mesh did not form within ${formTimeoutMs / 1000} s; measured anyway`);
		}

		await sleep(settleMs);
		const threads = new Map<string, number[]>();
		const share = await measureWindow(nodes.map((node) => node.pid), windowMs, threads);
		if (engine === 'builtin') {
			measurements.add('cost.node.main-thread', round2(mean(threads.get('main') ?? [Number.NaN])));
			// A process that opened no libzmq socket has no I/O thread at all.
			measurements.add('cost.node.zmq-io-thread', round2(mean(threads.get('ZMQbg/IO/0') ?? [0])));
			const others = [...threads].filter(([name]) => name !== 'main' && name !== 'ZMQbg/IO/0');
			measurements.add('cost.node.other-threads', round2(others.reduce((sum, [, shares]) => sum + mean(shares), 0)));
			measurements.add('cost.node.rss', Math.round(mean(nodes.map((node) => residentMiB(node.pid)))));
		}

		return share;
	} finally {
		await stopAll(nodes.map((node) => node.child));
	}
}

async function measurePythonMesh(count: number, settleMs: number, windowMs: number): Promise<number> {
	const ports = await freePorts(count);
	const nodes = ports.map(
		(port, index) =>
			new Child(PYTHON, [
				path.join(PYTHON_DIR, 'original_node.py'),
				String(port),
				ports.filter((_port, other) => other !== index).join(','),
				`python-${index + 1}`,
			]),
	);
	try {
		await Promise.all(nodes.map(async (node) => node.waitForLine((line) => line === 'ready', 20_000)));
		await sleep(settleMs);
		return await measureWindow(nodes.map((node) => node.pid), windowMs);
	} finally {
		await stopAll(nodes);
	}
}

function residentMiB(pid: number): number {
	try {
		const status = readStatus(pid);
		const match = /VmRSS:\s+(\d+) kB/.exec(status);
		return match ? Number(match[1]) / 1024 : Number.NaN;
	} catch {
		return Number.NaN;
	}
}

function readStatus(pid: number): string {
	return readFileSync(`/proc/${pid}/status`, 'utf8');
}

function round2(value: number): number {
	return Math.round(value * 100) / 100;
}
