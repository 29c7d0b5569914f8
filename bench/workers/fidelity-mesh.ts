/**
Full meshes of ChorusNode instances over inproc://, several at once in this one process, each with
the fidelity benchmark's ω set and initial phases, noise off; samples every node's own phase.

Usage: fidelity-mesh.js JSON   with {n, seed, formS, warmupS, windowS, sampleEveryMs, runs: [{id, coupling, hz, delayMs}]}
Prints one {"type":"result", id, formedAtS, formedPhases, times, r, psi, lateP99Ms, cpuShare} per run
when done, then exits. `formedPhases`: every node's phase at `formedAtS` (the first sample at or after
formS), once every node has heard every other: where a reference started from the formed mesh begins.
Times are seconds since every node started.
Written against ChorusNode's public API only, so that it also runs on an older checkout (the
benchmark's "before" figures).
*/

import process from 'node:process';
import {ChorusNode} from '../../source/mesh/node.js';
import {seededUniform} from '../../source/mesh/model/random.js';
import {meanField, population} from '../lib/reference-kuramoto.js';

type Run = {id: string; coupling: number; hz: number; delayMs: number};
type Config = {n: number; seed: number; formS: number; warmupS: number; windowS: number; sampleEveryMs: number; runs: Run[]};

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const {omegasRadPerS, initialPhasesRad} = population(config.n, config.seed);

const meshes = config.runs.map((run, runIndex) => {
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
				random: seededUniform(config.seed + index),
			}),
	);
	return {run, nodes, formedAtS: Number.NaN, formedPhases: [] as number[], times: [] as number[], r: [] as number[], psi: [] as number[]};
});

// Every node of every mesh binds before any ticks (see mesh-host.ts).
await Promise.all(meshes.flatMap((mesh) => mesh.nodes.map(async (node) => node.start())));
const startedMs = performance.now();
const cpuAtStart = process.cpuUsage();
for (const mesh of meshes) {
	if (mesh.run.delayMs > 0) {
		for (const node of mesh.nodes) {
			node.setInboundFault('all', {delayMs: mesh.run.delayMs});
		}
	}
}

const endS = config.warmupS + config.windowS;
await new Promise<void>((resolve) => {
	const timer = setInterval(() => {
		const tS = (performance.now() - startedMs) / 1000;
		for (const mesh of meshes) {
			if (tS >= config.formS && Number.isNaN(mesh.formedAtS)) {
				mesh.formedAtS = tS;
				mesh.formedPhases = mesh.nodes.map((node) => node.snapshot().node.phase);
			}
		}

		if (tS >= config.warmupS) {
			for (const mesh of meshes) {
				const {r, psiRad} = meanField(mesh.nodes.map((node) => node.snapshot().node.phase));
				mesh.times.push(tS);
				mesh.r.push(r);
				mesh.psi.push(psiRad);
			}
		}

		if (tS >= endS) {
			clearInterval(timer);
			resolve();
		}
	}, config.sampleEveryMs);
});

const cpu = process.cpuUsage(cpuAtStart);
const elapsedS = (performance.now() - startedMs) / 1000;
for (const mesh of meshes) {
	const p99s = mesh.nodes.map((node) => node.snapshot().stats.tickLateMs.p99).sort((a, b) => a - b);
	process.stdout.write(
		`${JSON.stringify({
			type: 'result',
			id: mesh.run.id,
			formedAtS: mesh.formedAtS,
			formedPhases: mesh.formedPhases,
			times: mesh.times,
			r: mesh.r,
			psi: mesh.psi,
			lateP99Ms: p99s[p99s.length >> 1],
			cpuShare: (cpu.user + cpu.system) / 1e6 / elapsedS,
		})}\n`,
	);
}

await Promise.all(meshes.flatMap((mesh) => mesh.nodes.map(async (node) => node.stop())));
process.exit(0);
