/**
Micro-benchmark of the node's own work per received message, without any socket: the path of
`ChorusNode#onFrames` in source/mesh/node.ts, run on the real functions in the same order —
`wire.decodeMessage` → `NodeSecurity.screen` (id binding, rate limiter) → the fault check →
`PeerTable.admit` → `LamportClock.observe`.

The frames are what 64 peers of ours send (`wire.encode`, every optional field our node writes,
about 170 bytes), each peer through its own subscription endpoint, Lamport times increasing. The
clock passed along is `performance.now()` (read where the node reads it, once per message, so its
cost counts) plus a simulated offset that makes each peer publish at 10 Hz, so the rate limiter lets
everything through as it does in a healthy mesh: every message takes the full path to admission.

Usage (after `npx tsc -p tsconfig.bench.json`):
  node dist-bench/bench/micro/decode-admit.js [--messages N] [--runs N] [--json]
  node --cpu-prof --cpu-prof-dir=/tmp/prof dist-bench/bench/micro/decode-admit.js

Prints ns per message and messages per CPU-second (user + system time of the whole process, so
garbage collection on helper threads counts), the median of the runs, and the same for each stage
alone to show where the time goes.
*/

import process from 'node:process';
import {defaultNodeOptions} from '../../source/session/node-from-config.js';
import {FaultPlan} from '../../source/mesh/model/faults.js';
import {LamportClock} from '../../source/mesh/model/lamport.js';
import {PeerTable} from '../../source/mesh/model/peer-table.js';
import {seededUniform} from '../../source/mesh/model/random.js';
import {NodeSecurity} from '../../source/mesh/security/screening.js';
import * as wire from '../../source/mesh/model/wire.js';
import type {RejectReason, WireMessage} from '../../source/mesh/model/wire.js';
import {median, round} from '../lib/stats.js';

const PEERS = 64;
/** Rounds of frames kept in memory (64 × 1024 × ~190 bytes ≈ 12 MiB); the run cycles through them. */
const ROUNDS = 1024;
const PUBLISH_INTERVAL_MS = 100;
const OWN_ID = 'bench-node';

function flag(name: string, fallback: number): number {
	const index = process.argv.indexOf(name);
	return index === -1 ? fallback : Number(process.argv[index + 1]);
}

const MESSAGES = flag('--messages', 3_000_000);
const RUNS = flag('--runs', 5);
const JSON_OUTPUT = process.argv.includes('--json');

type Arrival = {frames: Buffer[]; endpoint: string};

/** Round-robin over the peers, as a fair drain reads them; each frame its own Buffer, as a socket delivers it. */
function buildArrivals(): Arrival[] {
	const random = seededUniform(6);
	const peers = Array.from({length: PEERS}, (_, index) => ({
		nodeId: Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0'),
		endpoint: `tcp://127.0.0.1:${20_000 + index}`,
		incarnation: 1_764_130_000_000 + index * 17,
		omegaRadPerS: 2 * Math.PI * 0.5 + 0.3 * (random() * 2 - 1),
		phaseRad: (random() * 2 - 1) * Math.PI,
	}));
	const arrivals: Arrival[] = [];
	for (let round = 0; round < ROUNDS; round++) {
		for (const [index, peer] of peers.entries()) {
			peer.phaseRad = ((peer.phaseRad + peer.omegaRadPerS / 10 + Math.PI) % (2 * Math.PI)) - Math.PI;
			const frame = wire.encode({
				nodeId: peer.nodeId,
				phaseRad: peer.phaseRad,
				// In a full mesh every clock moves by about one per message admitted.
				lamportTime: 1000 + round * PEERS + index,
				incarnation: peer.incarnation,
				omegaRadPerS: peer.omegaRadPerS,
				hz: 10,
				endpoint: peer.endpoint,
			});
			arrivals.push({frames: [Buffer.from(frame)], endpoint: peer.endpoint});
		}
	}

	return arrivals;
}

/** What one ChorusNode holds for the receive path, fresh for each pass over the frames. */
class ReceivePath {
	readonly options = defaultNodeOptions({id: OWN_ID, bindEndpoint: 'tcp://127.0.0.1:1'});
	readonly table = new PeerTable({
		ttlMs: this.options.ttlMs,
		evictionGraceMs: this.options.evictionGraceMs,
		maxPeers: this.options.maxPeers,
		maxLamportJump: this.options.maxLamportJump,
		wallClockOffsetMs: performance.timeOrigin,
		legacyAdmission: this.options.legacyAdmission,
	});

	readonly clock = new LamportClock();
	readonly security = new NodeSecurity(OWN_ID, {}, () => undefined);
	readonly faults = new FaultPlan(seededUniform(1));
	readonly rejected: Partial<Record<RejectReason, number>> = {};
	received = 0;
	admitted = 0;
	events = 0;
	/** Added to performance.now(): each peer then appears to publish every 100 ms. */
	offsetMs = 0;

	now(): number {
		return performance.now() + this.offsetMs;
	}

	// The body of ChorusNode#onFrames, #admit; keep in step with source/mesh/node.ts.
	onFrames(frames: Buffer[], endpoint: string): void {
		this.received++;
		if (frames.length !== 1) {
			this.reject('multipart');
			return;
		}

		const message = wire.decodeMessage(frames[0]!, OWN_ID, this.options.transport?.maxMessageBytes);
		if (typeof message === 'string') {
			this.reject(message);
			return;
		}

		const nowMs = this.now();
		const refused = this.security.screen(message, endpoint, nowMs);
		if (refused !== undefined) {
			this.reject(refused);
			return;
		}

		if (this.faults.inboundActive) {
			throw new Error('no fault is set in this benchmark');
		}

		this.admit(message, nowMs, endpoint);
	}

	admit(message: WireMessage, nowMs: number, endpoint = ''): void {
		const outcome = this.table.admit(message, nowMs, this.clock.time, endpoint);
		if (!outcome.admitted) {
			this.reject(outcome.reason);
			return;
		}

		this.admitted++;
		this.clock.observe(message.lamportTime);
		if (outcome.change !== 'updated') {
			this.events++;
		}
	}

	reject(reason: RejectReason): void {
		this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
	}
}

type Stage = 'full' | 'decode' | 'screen' | 'admit';

type Sample = {cpuNsPerMessage: number; wallNsPerMessage: number};

/** Run `messages` messages through a stage, cycling over the arrivals with fresh node state per pass. */
function run(stage: Stage, arrivals: Arrival[], messages: number): Sample {
	const stepMs = PUBLISH_INTERVAL_MS / PEERS;
	// Stages after decode take decoded messages, decoded here outside the measurement.
	const decoded =
		stage === 'screen' || stage === 'admit'
			? arrivals.map((arrival) => {
					const result = wire.decode(arrival.frames[0]!, OWN_ID);
					if (!result.ok) {
						throw new Error(`bench frame refused: ${result.reason}`);
					}

					return result.message;
				})
			: [];
	let path = new ReceivePath();
	let sink = 0;
	const cpuBefore = process.cpuUsage();
	const wallBefore = performance.now();
	for (let index = 0, cursor = 0; index < messages; index++, cursor++) {
		if (cursor === arrivals.length) {
			cursor = 0;
			sink += path.admitted;
			path = new ReceivePath();
		}

		path.offsetMs = cursor * stepMs;
		const arrival = arrivals[cursor]!;
		switch (stage) {
			case 'full': {
				path.onFrames(arrival.frames, arrival.endpoint);
				break;
			}

			case 'decode': {
				sink += typeof wire.decodeMessage(arrival.frames[0]!, OWN_ID) === 'string' ? 0 : 1;
				break;
			}

			case 'screen': {
				sink += path.security.screen(decoded[cursor]!, arrival.endpoint, path.now()) === undefined ? 1 : 0;
				break;
			}

			case 'admit': {
				path.admit(decoded[cursor]!, path.now());
				break;
			}
		}
	}

	const wallNs = (performance.now() - wallBefore) * 1e6;
	const cpu = process.cpuUsage(cpuBefore);
	if (stage === 'full' || stage === 'admit') {
		const refusals = Object.entries(path.rejected);
		if (refusals.length > 0) {
			throw new Error(`the benchmark's messages should all be admitted; refused: ${JSON.stringify(path.rejected)}`);
		}
	}

	if (sink < 0) {
		console.log(sink);
	}

	return {cpuNsPerMessage: ((cpu.user + cpu.system) * 1000) / messages, wallNsPerMessage: wallNs / messages};
}

function measure(stage: Stage, arrivals: Arrival[], messages: number, runs: number) {
	run(stage, arrivals, Math.min(messages, 500_000)); // Warm-up: let the JIT settle.
	const samples = Array.from({length: runs}, () => run(stage, arrivals, messages));
	const cpuNs = median(samples.map((sample) => sample.cpuNsPerMessage));
	return {
		stage,
		cpuNsPerMessage: round(cpuNs, 1),
		wallNsPerMessage: round(median(samples.map((sample) => sample.wallNsPerMessage)), 1),
		messagesPerCpuSecond: Math.round(1e9 / cpuNs),
		cpuNsPerMessageRuns: samples.map((sample) => round(sample.cpuNsPerMessage, 1)),
	};
}

const arrivals = buildArrivals();
const stages: Stage[] = ['full', 'decode', 'screen', 'admit'];
const results = stages.map((stage) => measure(stage, arrivals, stage === 'full' ? MESSAGES : MESSAGES / 2, RUNS));
if (JSON_OUTPUT) {
	console.log(JSON.stringify({messages: MESSAGES, runs: RUNS, node: process.version, results}, null, '\t'));
} else {
	console.log(`${MESSAGES} messages per run, median of ${RUNS} runs, ${PEERS} peers, Node ${process.version}`);
	for (const result of results) {
		console.log(
			`${result.stage.padEnd(7)} ${String(result.cpuNsPerMessage).padStart(7)} ns/msg CPU  ${String(result.wallNsPerMessage).padStart(7)} ns/msg wall  ${result.messagesPerCpuSecond.toLocaleString('en-US').padStart(10)} msgs per CPU-s  runs ${result.cpuNsPerMessageRuns.join(' ')}`,
		);
	}
}
