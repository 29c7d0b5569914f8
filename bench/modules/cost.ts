/**
2. Cost per node: CPU share of one core per node (the whole process, every thread, from
/proc/PID/stat) in a 20-node full mesh at 10 Hz on loopback, `chorus-tui --headless --demo 0`
processes (defaults: control plane on, CURVE off) beside nodes built like the original Python one,
in the same run: over the first 15 s after the mesh forms (what a churning mesh pays again and
again: code not yet compiled, first collections, links just made) and in steady state. Then the
resident memory of each.
*/

import {readFileSync} from 'node:fs';
import path from 'node:path';
import {HeadlessNode, waitUntil} from '../lib/headless.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {PYTHON, PYTHON_DIR} from '../lib/paths.js';
import {nodeEndpoints, portBlock} from '../lib/ports.js';
import {Child, cpuSeconds, cpuSecondsByThread, sleep, stopAll} from '../lib/proc.js';
import {mean} from '../lib/stats.js';

export const cost: BenchModule = {
	name: 'cost',
	title: '2. Cost per node: 20-node full mesh at 10 Hz',
	figures: [
		{id: 'cost.first15.node', label: 'chorus-tui --headless, CPU per node, first 15 s after the mesh forms', unit: '% of a core'},
		{id: 'cost.first15.python', label: 'original-style Python node, CPU per node, first 15 s after the mesh forms', unit: '% of a core'},
		{
			id: 'cost.first15.node-vs-python',
			label: 'chorus-tui ÷ Python, CPU per node, first 15 s after the mesh forms',
			unit: 'ratio',
			target: {comparison: '<=', value: 0.8, text: '<= 0.8'},
		},
		{id: 'cost.node', label: 'chorus-tui --headless, CPU per node, steady state', unit: '% of a core'},
		{id: 'cost.python', label: 'original-style Python node, CPU per node, steady state', unit: '% of a core'},
		{
			id: 'cost.node-vs-python',
			label: 'chorus-tui ÷ Python, CPU per node, steady state',
			unit: 'ratio',
			target: {comparison: '<=', value: 0.5, text: '<= 0.5'},
		},
		{id: 'cost.node.main-thread', label: 'chorus-tui, steady state: its main (JavaScript) thread', unit: '% of a core'},
		{id: 'cost.node.zmq-io-thread', label: 'chorus-tui, steady state: its libzmq I/O thread (none unless a socket uses libzmq)', unit: '% of a core'},
		{id: 'cost.node.other-threads', label: 'chorus-tui, steady state: every other thread (V8, libuv)', unit: '% of a core'},
		{
			id: 'cost.node.rss',
			label: 'chorus-tui --headless (control plane on, CURVE off), resident memory per node',
			unit: 'MiB',
			target: {comparison: '<=', value: 48, text: '<= 48 MiB'},
		},
		{id: 'cost.python.rss', label: 'original-style Python node, resident memory per node', unit: 'MiB'},
	],
	run: runCost,
};

type Windows = {first: number; steady: number; rssMiB: number; threads?: Map<string, number>};

async function runCost(context: BenchContext): Promise<ModuleOutput> {
	const nodes = context.quick ? 4 : 20;
	const runs = context.quick ? 1 : 2;
	const firstMs = context.quick ? 1500 : 15_000;
	// Steady state: the issue measured 3.1 % of a core per node 2 s after the mesh formed and 1.4 %
	// after 40 s (V8 compiles a node's hot paths only after they have run many times).
	const steadyFromMs = context.quick ? 2000 : 40_000;
	const steadyMs = context.quick ? 1000 : 10_000;
	const measurements = new Measurements();
	for (let run = 0; run < runs; run++) {
		const chorus = await measureChorusMesh(nodes, firstMs, steadyFromMs, steadyMs, measurements);
		context.log(`cost run ${run + 1}/${runs} chorus: first 15 s ${chorus.first.toFixed(2)} %, steady ${chorus.steady.toFixed(2)} % of a core per node, ${chorus.rssMiB.toFixed(1)} MiB`);
		const python = await measurePythonMesh(nodes, firstMs, steadyFromMs, steadyMs, measurements);
		context.log(`cost run ${run + 1}/${runs} python: first 15 s ${python.first.toFixed(2)} %, steady ${python.steady.toFixed(2)} % of a core per node, ${python.rssMiB.toFixed(1)} MiB`);
		measurements.add('cost.first15.node', round2(chorus.first));
		measurements.add('cost.first15.python', round2(python.first));
		measurements.add('cost.first15.node-vs-python', round3(chorus.first / python.first));
		measurements.add('cost.node', round2(chorus.steady));
		measurements.add('cost.python', round2(python.steady));
		measurements.add('cost.node-vs-python', round3(chorus.steady / python.steady));
		measurements.add('cost.node.rss', round2(chorus.rssMiB));
		measurements.add('cost.python.rss', round2(python.rssMiB));
		const threads = chorus.threads ?? new Map<string, number>();
		measurements.add('cost.node.main-thread', round2(threads.get('main') ?? Number.NaN));
		// A process that opened no libzmq socket has no I/O thread at all.
		measurements.add('cost.node.zmq-io-thread', round2(threads.get('ZMQbg/IO/0') ?? 0));
		measurements.add('cost.node.other-threads', round2([...threads].filter(([name]) => name !== 'main' && name !== 'ZMQbg/IO/0').reduce((sum, [, share]) => sum + share, 0)));
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`${nodes} processes in a full mesh on 127.0.0.1, 10 Hz: \`chorus-tui --headless --demo 0 --bind ... --peer ...\` (defaults: the built-in ZMTP engine, control plane on at data port + 1, CURVE off, an NDJSON snapshot every 1000 ms read by the runner), then ${nodes} Python nodes built like the original (bench/python/original_node.py: pyzmq, a receive thread looping recv_json(NOBLOCK) with a 10 ms sleep, a publish thread every 100 ms; it prints once a second how many peers it heard in the last second).`,
			`The mesh has formed when every chorus node lists all ${nodes - 1} peers alive (Python: when every node heard all ${nodes - 1} in the last second). From then: CPU time (utime + stime of the whole process, all threads, /proc/PID/stat) over the first ${firstMs / 1000} s, and over ${steadyMs / 1000} s from ${steadyFromMs / 1000} s after forming (steady state); each the mean over the ${nodes} processes, as a percentage of one core. Resident memory (VmRSS, /proc/PID/status) at the end of the steady window, mean over the processes. ${runs} run(s), chorus then Python; ratios per run, then the median.`,
			'The libzmq engine (`--engine libzmq`) is no longer measured here: it cost 1.22× the Python node (bench/optimizations.md); the ingest module still measures it.',
		],
	};
}

/** CPU share of one core per process over `windowMs`, the mean over the processes; with `threads`, the same per thread name. */
async function measureWindow(pids: number[], windowMs: number, threads?: Map<string, number>): Promise<number> {
	const before = pids.map((pid) => cpuSeconds(pid));
	const threadsBefore = threads === undefined ? [] : pids.map((pid) => cpuSecondsByThread(pid));
	const startedMs = performance.now();
	await sleep(windowMs);
	const after = pids.map((pid) => cpuSeconds(pid));
	const threadsAfter = threads === undefined ? [] : pids.map((pid) => cpuSecondsByThread(pid));
	const seconds = (performance.now() - startedMs) / 1000;
	if (threads !== undefined) {
		const names = new Set(threadsAfter.flatMap((byName) => [...byName.keys()]));
		for (const name of names) {
			threads.set(name, mean(pids.map((_pid, index) => (((threadsAfter[index]!.get(name) ?? 0) - (threadsBefore[index]!.get(name) ?? 0)) / seconds) * 100)));
		}
	}

	return mean(pids.map((_pid, index) => ((after[index]! - before[index]!) / seconds) * 100));
}

async function measureWindows(pids: number[], firstMs: number, steadyFromMs: number, steadyMs: number, threads?: Map<string, number>): Promise<Windows> {
	const formedMs = performance.now();
	const first = await measureWindow(pids, firstMs);
	await sleep(Math.max(0, formedMs + steadyFromMs - performance.now()));
	const steady = await measureWindow(pids, steadyMs, threads);
	return {first, steady, rssMiB: mean(pids.map((pid) => residentMiB(pid))), threads};
}

async function measureChorusMesh(count: number, firstMs: number, steadyFromMs: number, steadyMs: number, measurements: Measurements): Promise<Windows> {
	const formTimeoutMs = count < 10 ? 10_000 : 60_000;
	const endpoints = await nodeEndpoints(count);
	const nodes = endpoints.map(
		(endpoint, index) => new HeadlessNode(`cost-${index + 1}`, ['--bind', endpoint, '--peer', endpoints.filter((_other, other) => other !== index).join(',')]),
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

		return await measureWindows(nodes.map((node) => node.pid), firstMs, steadyFromMs, steadyMs, new Map());
	} finally {
		await stopAll(nodes.map((node) => node.child));
	}
}

async function measurePythonMesh(count: number, firstMs: number, steadyFromMs: number, steadyMs: number, measurements: Measurements): Promise<Windows> {
	const base = await portBlock(count);
	const ports = Array.from({length: count}, (_, index) => base + index);
	const heard = Array.from({length: count}, () => 0);
	const nodes = ports.map(
		(port, index) =>
			new Child(PYTHON, [path.join(PYTHON_DIR, 'original_node.py'), String(port), ports.filter((_port, other) => other !== index).join(','), `python-${index + 1}`], {
				env: {ORIGINAL_NODE_STATUS: '1'},
				keepLines: false,
				onLine(text) {
					if (text.startsWith('{')) {
						heard[index] = (JSON.parse(text) as {heard: number}).heard;
					}
				},
			}),
	);
	try {
		const formTimeoutMs = count < 10 ? 10_000 : 60_000;
		const meshed = await waitUntil(() => heard.every((peers) => peers === count - 1), formTimeoutMs, 100);
		if (!meshed) {
			measurements.warn(`the ${count}-node Python mesh did not form within ${formTimeoutMs / 1000} s (peers heard per node: ${heard.join(' ')}); measured anyway`);
		}

		return await measureWindows(nodes.map((node) => node.pid), firstMs, steadyFromMs, steadyMs);
	} finally {
		await stopAll(nodes);
	}
}

export function residentMiB(pid: number): number {
	try {
		const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
		return match ? Number(match[1]) / 1024 : Number.NaN;
	} catch {
		return Number.NaN;
	}
}

function round2(value: number): number {
	return Math.round(value * 100) / 100;
}

function round3(value: number): number {
	return Math.round(value * 1000) / 1000;
}
