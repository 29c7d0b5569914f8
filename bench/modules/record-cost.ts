/**
Recording cost (`--record`): in a 20-node full mesh at 10 Hz, the CPU of nodes that record against
nodes that do not, in the same mesh and the same window (so a busy machine loads both alike), and
how fast a recording grows. Every node reports at 100 ms (`--report-ms 100`): the rate the terminal
UI samples, so the recorders write what a TUI recording writes (one snapshot of 19 peers every
100 ms and every event); the NDJSON on stdout is the same on both sides.
*/

import {mkdtempSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {Recorder} from '../../source/report/recording/recorder.js';
import type {SessionSnapshot} from '../../source/session/controller.js';
import {freePorts} from '../../test/helpers/ports.js';
import {HeadlessNode, waitUntil} from '../lib/headless.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {cpuSeconds, sleep, stopAll} from '../lib/proc.js';
import {mean} from '../lib/stats.js';

type Variant = 'none' | 'plain' | 'gzip';

export const recordCost: BenchModule = {
	name: 'record',
	title: 'Recording cost: --record in a 20-node full mesh at 10 Hz',
	figures: [
		{id: 'record.cpu.none', label: 'node without --record, CPU', unit: '% of a core'},
		{id: 'record.cpu.plain', label: 'node with --record file.ndjson, CPU', unit: '% of a core'},
		{id: 'record.cpu.gzip', label: 'node with --record file.ndjson.gz, CPU', unit: '% of a core'},
		{id: 'record.cpu.plain-overhead', label: '--record (plain), CPU added', unit: '%', target: {comparison: '<=', value: 5, text: '<= +5 %'}},
		{id: 'record.cpu.gzip-overhead', label: '--record (.gz), CPU added', unit: '%', target: {comparison: '<=', value: 5, text: '<= +5 %'}},
		{id: 'record.bytes-per-hour.plain', label: 'recording growth, 19 peers, a snapshot every 100 ms, plain', unit: 'MiB/h'},
		{id: 'record.bytes-per-hour.gzip', label: 'recording growth, 19 peers, a snapshot every 100 ms, .gz', unit: 'MiB/h'},
		{id: 'record.micro.cpu-per-snapshot', label: 'in process: CPU to record one snapshot of 19 peers (serialize, queue, write)', unit: 'µs'},
		{id: 'record.micro.cpu-at-10hz', label: 'in process: that at 10 snapshots a second', unit: '% of a core'},
		{id: 'record.micro.bytes-per-snapshot', label: 'in process: plain bytes of one snapshot of 19 peers', unit: 'B'},
		{id: 'record.micro.mib-per-hour.plain', label: 'bound: 19 peers at 10 snapshots a second, plain', unit: 'MiB/h'},
		{id: 'record.micro.mib-per-hour.gzip', label: 'bound: 19 peers at 10 snapshots a second, gzip', unit: 'MiB/h'},
		{id: 'record.peers', label: 'alive peers per node during the window (19 when the mesh formed)', unit: 'peers'},
		{id: 'record.bytes-per-snapshot', label: 'plain bytes per recorded snapshot (with the events between)', unit: 'B'},
	],
	run: runRecordCost,
};

async function runRecordCost(context: BenchContext): Promise<ModuleOutput> {
	const nodes = context.quick ? 6 : 20;
	const settleMs = context.quick ? 500 : 30_000;
	const windowMs = context.quick ? 2000 : 20_000;
	const measurements = new Measurements();
	const directory = mkdtempSync(path.join(tmpdir(), 'chorus-record-cost-'));
	await measureInProcess(directory, context.quick ? 500 : 5000, measurements);
	// A third of the nodes each way, interleaved so that no variant gets the first or last ports.
	const variants: Variant[] = Array.from({length: nodes}, (_, index) => (['none', 'plain', 'gzip'] as const)[index % 3]!);
	const ports = await freePorts(nodes);
	const endpoints = ports.map((port) => `tcp://127.0.0.1:${port}`);
	const fileOf = (index: number) => path.join(directory, `node-${index + 1}.ndjson${variants[index] === 'gzip' ? '.gz' : ''}`);
	const mesh = ports.map(
		(_port, index) =>
			new HeadlessNode(`rec-${index + 1}`, [
				'--bind',
				endpoints[index]!,
				'--peer',
				endpoints.filter((_endpoint, other) => other !== index).join(','),
				'--report-ms',
				'100',
				// No control endpoint: it would take port + 1, which may be another node's data port here.
				'--no-control',
				...(variants[index] === 'none' ? [] : ['--record', fileOf(index)]),
			]),
	);
	try {
		const alivePeers = () => mesh.map((node) => node.lastSnapshot?.peers.filter((peer) => peer.state === 'alive').length ?? 0);
		// A busy machine starts 20 processes slowly: a minute to mesh, then measured in any case (and said).
		const meshed = await waitUntil(() => alivePeers().every((count) => count === nodes - 1), 60_000, 200);
		if (!meshed) {
			measurements.warn(`the ${nodes}-node mesh did not form within 60 s (alive peers per node: ${alivePeers().join(' ')}); measured anyway`);
		}

		await sleep(settleMs);
		const sizeOf = (index: number) => (variants[index] === 'none' ? 0 : statSync(fileOf(index)).size);
		const cpuBefore = mesh.map((node) => cpuSeconds(node.pid));
		const sizeBefore = mesh.map((_node, index) => sizeOf(index));
		const startedMs = performance.now();
		await sleep(windowMs);
		const seconds = (performance.now() - startedMs) / 1000;
		measurements.add('record.peers', round2(mean(alivePeers())));
		const cpu = mesh.map((node, index) => ((cpuSeconds(node.pid) - cpuBefore[index]!) / seconds) * 100);
		const growth = mesh.map((_node, index) => (sizeOf(index) - sizeBefore[index]!) / seconds);
		const of = (variant: Variant, values: number[]) => mean(values.filter((_value, index) => variants[index] === variant));
		const none = of('none', cpu);
		const plain = of('plain', cpu);
		const gzip = of('gzip', cpu);
		measurements.add('record.cpu.none', round2(none));
		measurements.add('record.cpu.plain', round2(plain));
		measurements.add('record.cpu.gzip', round2(gzip));
		measurements.add('record.cpu.plain-overhead', round2(((plain - none) / none) * 100));
		measurements.add('record.cpu.gzip-overhead', round2(((gzip - none) / none) * 100));
		// A gzip stream is flushed every 2 s: over a 20 s window the file size follows the stream closely.
		measurements.add('record.bytes-per-hour.plain', round2((of('plain', growth) * 3600) / 1024 / 1024));
		measurements.add('record.bytes-per-hour.gzip', round2((of('gzip', growth) * 3600) / 1024 / 1024));
		// 10 snapshots a second (--report-ms 100).
		measurements.add('record.bytes-per-snapshot', Math.round(of('plain', growth) / 10));
		context.log(`record: CPU none ${none.toFixed(2)} %, plain ${plain.toFixed(2)} %, gzip ${gzip.toFixed(2)} % of a core`);
	} finally {
		await stopAll(mesh.map((node) => node.child));
		rmSync(directory, {recursive: true, force: true});
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`${nodes} \`chorus-tui --headless --demo 0 --report-ms 100 --no-control\` processes in a full mesh on 127.0.0.1 at 10 Hz; a third record to a plain file (\`--record node.ndjson\`), a third to gzip (\`.ndjson.gz\`), a third do not record, interleaved by port.`,
			`In process first: ${context.quick ? 500 : 5000} snapshots of 19 peers (every field a 20-node mesh fills) recorded through the real Recorder to a plain and a gzip file, one a turn of the event loop (as between ticks), after a warm-up of 1000; CPU by process.cpuUsage() (the write stream's and gzip's threads included), bytes from the file sizes. Then the mesh:`,
			`Once every node lists all ${nodes - 1} peers, ${settleMs} ms to settle, then CPU time (utime + stime, all threads, /proc/PID/stat) and file growth over a ${windowMs} ms window. CPU added = (mean of recorders − mean of the others) / mean of the others. Growth is per node recording a snapshot of ${nodes - 1} peers every 100 ms (what the terminal UI records); headless at the default --report-ms 1000 it is a tenth of it. One run.`,
		],
	};
}

function round2(value: number): number {
	return Math.round(value * 100) / 100;
}

/** A snapshot as a node of a 20-node mesh takes it: 19 peers with every field, numbers with their usual digits. */
function meshSnapshot(tick: number): SessionSnapshot {
	return {
		t: tick * 100,
		node: {id: 'a1b2c3d4', incarnation: 1_796_167_874_293, lamport: 812 + tick, phase: 3.0214, r: 0.9712, endpoint: 'tcp://127.0.0.1:5555', omega: 3.1416, hz: 10},
		peers: Array.from({length: 19}, (_, index) => ({
			id: `node-${String(index + 1).padStart(3, '0')}`,
			state: 'alive',
			lamport: 810 + tick + index,
			lastSeenMs: (tick * 7 + index * 13) % 100,
			ttlRemainingMs: 5000 - ((tick * 7 + index * 13) % 100),
			phaseDiff: Math.round(Math.sin(tick / 10 + index) * 10_000) / 10_000,
			incarnation: 1_796_167_874_300 + index,
			endpoint: `tcp://127.0.0.1:${5556 + index}`,
		})),
		stats: {received: 240 * tick, admitted: 236 * tick, rejected: {stale: 4}, ticks: tick, tickLateMs: {p50: 0.2, p99: 1.1, max: 1.3}},
		faults: {peers: {}},
		demo: [],
	} as unknown as SessionSnapshot;
}

/**
The recorder alone, in this process: the CPU it takes to record a snapshot of 19 peers (the part on
the node's own thread, plus the write stream's and gzip's work that the same process does), and the
bytes a snapshot takes, plain and gzip. Free of the mesh's noise on a busy machine.
*/
async function measureInProcess(directory: string, snapshots: number, measurements: Measurements): Promise<void> {
	for (const gzip of [false, true]) {
		const file = path.join(directory, `micro.ndjson${gzip ? '.gz' : ''}`);
		const recorder = await Recorder.open(file, {flags: {}, mode: 'tui', ttlMs: 5000});
		const prepared = Array.from({length: 100}, (_, tick) => meshSnapshot(tick));
		// Each snapshot, then a turn of the event loop, as between two ticks: the write stream drains
		// as it does in a node. A warm-up first (V8 compiles the hot path), then the measured run.
		const recordSome = async (count: number) => {
			for (let tick = 0; tick < count; tick++) {
				recorder.snapshot(prepared[tick % prepared.length]!);
				await new Promise((resolve) => {
					setImmediate(resolve);
				});
			}
		};

		const warmUp = Math.min(1000, snapshots);
		await recordSome(warmUp);
		const before = process.cpuUsage();
		await recordSome(snapshots);
		const used = process.cpuUsage(before);
		await recorder.close();
		// Bytes over every snapshot written (a gzip stream is flushed at intervals, so not per part).
		const size = (statSync(file).size / (warmUp + snapshots)) * snapshots;
		if (gzip) {
			measurements.add('record.micro.mib-per-hour.gzip', round2((size / snapshots) * 10 * 3600 / 1024 / 1024));
		} else {
			const microseconds = (used.user + used.system) / snapshots;
			measurements.add('record.micro.cpu-per-snapshot', Math.round(microseconds));
			measurements.add('record.micro.cpu-at-10hz', round2((microseconds * 10) / 1e6 * 100));
			measurements.add('record.micro.bytes-per-snapshot', Math.round(size / snapshots));
			measurements.add('record.micro.mib-per-hour.plain', round2((size / snapshots) * 10 * 3600 / 1024 / 1024));
		}
	}
}
