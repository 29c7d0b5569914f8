/**
Full meshes of ChorusNode instances over inproc://, in this one process, each with its seed's ω set
and initial phases, noise off; samples every node's phase at common instants.

Usage: fidelity-mesh.js JSON   with {n, warmupS, windowS, sampleEveryMs, runs: [{id, seed, coupling, hz, delayMs}]}
Prints one {"type":"result", ...MeshResult} per run when done, then exits. Times are seconds since
every node started. The fidelity benchmark runs one mesh per process (bench/modules/fidelity.ts).

- `coupledAtS`, `coupledPhases`: the coupling instant, the first check (every COUPLING_CHECK_MS) at
  which every node's peer table has held every other node alive, and every node's phase at that instant:
  where the reference simulation starts. Before it, some nodes still run with part of the mesh.
- Phases at an instant: a node's phase changes only when it ticks, and its ticks fall anywhere in
  the period, so each node's phase from its latest tick is carried to the instant by that node's own
  velocity between two of its ticks (what its peers' estimators do). `rawRMean`: r of the phases as
  of each node's latest tick, for the record.
- Lateness: every tick of every node from the coupling instant to the window's end, through the
  node's tick-lateness hook: how many ticks, how many started more than half a period and more
  than one period late, the p99.

Written against ChorusNode's public API only.
*/

import process from 'node:process';
import {ChorusNode} from '../../source/mesh/node.js';
import {wrapPhase} from '../../source/mesh/model/kuramoto.js';
import {seededUniform} from '../../source/mesh/model/random.js';
import {meanField, population} from '../lib/reference-kuramoto.js';

type Run = {id: string; seed: number; coupling: number; hz: number; delayMs: number};
type Config = {n: number; warmupS: number; windowS: number; sampleEveryMs: number; runs: Run[]};

export type MeshResult = {
	id: string;
	coupledAtS: number;
	coupledPhases: number[];
	times: number[];
	r: number[];
	psi: number[];
	rawRMean: number;
	/** Ticks from the coupling instant to the window's end; how many started over half a period and over one period late. */
	lateness: {ticks: number; overHalfPeriod: number; overPeriod: number; p99Ms: number};
	cpuShare: number;
};

/**
How often the coupling instant is looked for (the worker's one timer). Each look reads the peer table
of every node not yet complete: every 10 ms, those reads starved the mesh on a loaded machine.
*/
const COUPLING_CHECK_MS = 50;

const config = JSON.parse(process.argv[2] ?? '{}') as Config;

/** One node as the worker follows it: when each of its ticks started, and its latest two phases read at distinct ticks. */
class Followed {
	readonly tickStartsMs: number[] = [];
	readonly latenessMs: number[] = [];
	countLateness = false;
	velocityRadPerS: number;
	#tick = 0;
	#phaseRad = 0;
	#atMs = Number.NaN;
	#alivePeers = 0;
	/** Set once this node has held every other node alive: the coupling instant waits for every node. */
	heardAll = false;

	constructor(
		readonly node: ChorusNode,
		readonly omegaRadPerS: number,
	) {
		this.velocityRadPerS = omegaRadPerS;
		node.onTickLateness((lateMs) => {
			// The hook runs as the tick starts, before its step: the n-th call is the n-th step's start.
			this.tickStartsMs.push(performance.now());
			if (this.countLateness) {
				this.latenessMs.push(lateMs);
			}
		});
	}

	/** Read the node's phase (as of its latest step) and update its velocity from the previous read of another tick. */
	read(): void {
		const {node: state, stats, peers} = this.node.snapshot();
		this.#alivePeers = peers.filter((peer) => peer.state === 'alive').length;
		const tick = stats.ticks;
		const atMs = this.tickStartsMs[tick - 1];
		if (tick === 0 || atMs === undefined) {
			return;
		}

		if (tick !== this.#tick && !Number.isNaN(this.#atMs)) {
			const dtS = (atMs - this.#atMs) / 1000;
			// Unwrapped around ω·dt: a node never moves half a turn off its natural rate within a read.
			const expected = this.omegaRadPerS * dtS;
			this.velocityRadPerS = (expected + wrapPhase(state.phase - this.#phaseRad - expected)) / dtS;
		}

		this.#tick = tick;
		this.#phaseRad = state.phase;
		this.#atMs = atMs;
	}

	/** The phase at our instant `nowMs`, carried from the latest read tick by the node's velocity. */
	phaseAt(nowMs: number): number {
		return this.#phaseRad + (this.velocityRadPerS * (nowMs - this.#atMs)) / 1000;
	}

	get latestPhaseRad(): number {
		return this.#phaseRad;
	}

	/** Read the node, and note whether its peer table now holds every one of the mesh's `others` alive. */
	readForCoupling(others: number): void {
		this.read();
		this.heardAll ||= this.#alivePeers >= others;
	}
}

const meshes = config.runs.map((run, runIndex) => {
	const {omegasRadPerS, initialPhasesRad} = population(config.n, run.seed);
	const endpoints = omegasRadPerS.map((_omega, index) => `inproc://fidelity-${runIndex}-${index}`);
	const nodes = endpoints.map(
		(endpoint, index) =>
			new ChorusNode({
				id: `node-${String(index + 1).padStart(3, '0')}`,
				bindEndpoint: endpoint,
				peerEndpoints: endpoints.filter((_other, otherIndex) => otherIndex !== index),
				ttlMs: 5000,
				hz: run.hz,
				coupling: run.coupling,
				noiseSigma: 0,
				omegaRadPerS: omegasRadPerS[index]!,
				initialPhaseRad: initialPhasesRad[index]!,
				maxPeers: 1024,
				maxLamportJump: 1_000_000,
				evictionGraceMs: 3000,
				legacyAdmission: false,
				random: seededUniform(run.seed + index),
			}),
	);
	return {
		run,
		followed: nodes.map((node, index) => new Followed(node, omegasRadPerS[index]!)),
		coupledAtS: Number.NaN,
		coupledPhases: [] as number[],
		times: [] as number[],
		r: [] as number[],
		psi: [] as number[],
		rawR: [] as number[],
	};
});

// Every node of every mesh binds before any ticks (see mesh-host.ts).
await Promise.all(meshes.flatMap((mesh) => mesh.followed.map(async ({node}) => node.start())));
const startedMs = performance.now();
const cpuAtStart = process.cpuUsage();
for (const mesh of meshes) {
	if (mesh.run.delayMs > 0) {
		for (const {node} of mesh.followed) {
			node.setInboundFault('all', {delayMs: mesh.run.delayMs});
		}
	}
}

const endS = config.warmupS + config.windowS;
const sampleEveryS = config.sampleEveryMs / 1000;

function checkCoupling(mesh: (typeof meshes)[number], nowMs: number): void {
	for (const one of mesh.followed) {
		if (!one.heardAll) {
			one.readForCoupling(mesh.followed.length - 1);
		}
	}

	if (!mesh.followed.every((one) => one.heardAll)) {
		return;
	}

	// Every node read at this instant (the complete ones were last read at earlier checks).
	for (const one of mesh.followed) {
		one.read();
	}

	mesh.coupledAtS = (nowMs - startedMs) / 1000;
	mesh.coupledPhases = mesh.followed.map((one) => wrapPhase(one.phaseAt(nowMs)));
	for (const one of mesh.followed) {
		one.countLateness = true;
	}
}

function sample(mesh: (typeof meshes)[number], nowMs: number, tS: number): void {
	for (const one of mesh.followed) {
		one.read();
	}

	if (tS < config.warmupS) {
		return;
	}

	const {r, psiRad} = meanField(mesh.followed.map((one) => one.phaseAt(nowMs)));
	mesh.times.push(tS);
	mesh.r.push(r);
	mesh.psi.push(psiRad);
	mesh.rawR.push(meanField(mesh.followed.map((one) => one.latestPhaseRad)).r);
}

// Look for the coupling instant often, then sample every sampleEveryMs (reads in between keep each
// node's velocity fresh); one timer for all, so that every mesh is read at the same instants.
await new Promise<void>((resolve) => {
	let nextSampleS = 0;
	const timer = setInterval(() => {
		const nowMs = performance.now();
		const tS = (nowMs - startedMs) / 1000;
		for (const mesh of meshes) {
			if (Number.isNaN(mesh.coupledAtS)) {
				checkCoupling(mesh, nowMs);
			}
		}

		if (tS >= nextSampleS) {
			nextSampleS += sampleEveryS;
			for (const mesh of meshes) {
				if (!Number.isNaN(mesh.coupledAtS)) {
					sample(mesh, nowMs, tS);
				}
			}
		}

		if (tS >= endS) {
			clearInterval(timer);
			resolve();
		}
	}, COUPLING_CHECK_MS);
});

const cpu = process.cpuUsage(cpuAtStart);
const elapsedS = (performance.now() - startedMs) / 1000;
for (const mesh of meshes) {
	const lateness = mesh.followed.flatMap((one) => one.latenessMs).sort((a, b) => a - b);
	const periodMs = 1000 / mesh.run.hz;
	const result: MeshResult = {
		id: mesh.run.id,
		coupledAtS: mesh.coupledAtS,
		coupledPhases: mesh.coupledPhases,
		times: mesh.times,
		r: mesh.r,
		psi: mesh.psi,
		rawRMean: mesh.rawR.reduce((sum, value) => sum + value, 0) / mesh.rawR.length,
		lateness: {
			ticks: lateness.length,
			overHalfPeriod: lateness.filter((lateMs) => lateMs > periodMs / 2).length,
			overPeriod: lateness.filter((lateMs) => lateMs > periodMs).length,
			p99Ms: lateness[Math.min(lateness.length - 1, Math.floor(lateness.length * 0.99))] ?? Number.NaN,
		},
		cpuShare: (cpu.user + cpu.system) / 1e6 / elapsedS,
	};
	process.stdout.write(`${JSON.stringify({type: 'result', ...result})}\n`);
}

await Promise.all(meshes.flatMap((mesh) => mesh.followed.map(async ({node}) => node.stop())));
process.exit(0);
