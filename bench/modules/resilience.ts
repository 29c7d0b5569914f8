/**
6. Resilience: with the defaults and 8 nodes, what a SIGKILLed peer, its restart, and 30 % inbound
drop with 200 ms delay do to the mesh, against the same mesh with `--legacy-admission` (the
original Python node's rules: no TTL, the last message wins).
*/

import {DEFAULTS} from '../../source/config.js';
import type {ChorusNode} from '../../source/mesh/node.js';
import {freePorts} from '../../test/helpers/ports.js';
import {HeadlessNode, waitUntil, type Snapshot} from '../lib/headless.js';
import {globalOrderParameter} from '../lib/global-r.js';
import {createMesh, sampleMesh} from '../lib/mesh.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {nodeEndpoints} from '../lib/ports.js';
import {sleep, stopAll} from '../lib/proc.js';
import {mean, median} from '../lib/stats.js';

type Mode = 'modern' | 'legacy';
const MODES: Mode[] = ['modern', 'legacy'];
const NODES = 8;
/** --quick kills and restarts in a mesh of this many processes: they start much sooner than 8 on a busy machine. */
const QUICK_PROCESSES = 4;
const FAULT = {drop: 0.3, delayMs: 200, jitterMs: 200};

export const resilience: BenchModule = {
	name: 'resilience',
	title: '6. Resilience: 8 nodes, defaults against --legacy-admission',
	figures: [
		{
			id: 'resilience.modern.evict',
			label: 'SIGKILLed peer: kill to eviction (defaults, TTL 5 s)',
			unit: 's',
			target: {comparison: '<=', value: 5.5, text: '<= TTL + 0.5 s'},
		},
		{id: 'resilience.legacy.evict', label: 'SIGKILLed peer: kill to eviction (legacy)', unit: 's'},
		{
			id: 'resilience.modern.ghost-share',
			label: 'survivors still coupling to the dead peer at the end of the watch (defaults)',
			unit: 'ratio',
			target: {comparison: '<=', value: 0, text: '0 (no ghost)'},
		},
		{id: 'resilience.legacy.ghost-share', label: 'survivors still coupling to the dead peer at the end of the watch (legacy)', unit: 'ratio'},
		{id: 'resilience.modern.global-r', label: 'global r of the survivors (every survivor\'s own phase at one instant) at the end of the watch (defaults)', unit: 'r'},
		{id: 'resilience.legacy.global-r', label: 'global r of the survivors (every survivor\'s own phase at one instant) at the end of the watch (legacy)', unit: 'r'},
		{id: 'resilience.modern.survivor-r', label: 'r each survivor sees (its own view: itself and the peers it couples to) at the end of the watch (defaults)', unit: 'r'},
		{id: 'resilience.legacy.survivor-r', label: 'r each survivor sees (its own view, the dead peer\'s frozen phase included) at the end of the watch (legacy)', unit: 'r'},
		{
			id: 'resilience.modern.readmit',
			label: 'restart (spawn, same id) to re-admission by the others (defaults)',
			unit: 's',
			target: {comparison: '<=', value: 2, text: '<= 2 s (start-up included)'},
		},
		{id: 'resilience.legacy.readmit', label: 'restart (spawn, same id) to re-admission by the others (legacy)', unit: 's'},
		{id: 'resilience.modern.clean-r', label: 'r with no fault (defaults)', unit: 'r'},
		{id: 'resilience.legacy.clean-r', label: 'r with no fault (legacy)', unit: 'r'},
		{id: 'resilience.modern.fault-r', label: 'r under 30 % drop, 200 ms delay + up to 200 ms jitter (defaults)', unit: 'r'},
		{id: 'resilience.legacy.fault-r', label: 'r under 30 % drop, 200 ms delay + up to 200 ms jitter (legacy)', unit: 'r'},
		{id: 'resilience.modern.stale-rejected', label: 'reordered (stale) messages refused under the fault, per node per minute (defaults)', unit: '/min'},
		{
			id: 'resilience.modern.regressions',
			label: 'a peer\'s Lamport time seen going backwards under the fault, per node per minute (defaults)',
			unit: '/min',
			target: {comparison: '<=', value: 0, text: '0'},
		},
		{id: 'resilience.legacy.regressions', label: 'a peer\'s Lamport time seen going backwards under the fault, per node per minute (legacy)', unit: '/min'},
	],
	run: runResilience,
};

async function runResilience(context: BenchContext): Promise<ModuleOutput> {
	const measurements = new Measurements();
	const ttlS = context.quick ? 1 : DEFAULTS.ttlS;
	const cycles = context.quick ? 1 : 2;
	for (const mode of MODES) {
		await killAndRestart(mode, ttlS, cycles, context, measurements);
	}

	for (const mode of MODES) {
		await underFault(mode, context, measurements);
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`Kill and restart: ${context.quick ? QUICK_PROCESSES : NODES} \`chorus-tui --headless --demo 0 --report-ms 100\` processes in a full mesh (TTL ${ttlS} s${context.quick ? ', shortened for --quick' : ', the default'}), with and without \`--legacy-admission\`. Once every node lists every peer and r >= 0.95, one node gets SIGKILL; each survivor's delay is from the kill to its first snapshot that no longer couples to the dead peer (absent or \`evicted\`). The watch lasts TTL + 1.5 s (defaults) or 2.4 × TTL (legacy). Two r at the end of the watch: each survivor's own (its view of itself and the peers it couples to, median over survivors; in legacy mode it includes the dead peer's frozen phase) and the global r of the survivors (every survivor's own phase from its latest snapshot, carried forward to one instant by the mean natural frequency, bench/lib/global-r.ts; mean of five samples 100 ms apart). Then the same id and port are spawned again; the delay is to each survivor's first snapshot listing the new incarnation. ${cycles} kill(s) per mode; figures are medians over survivors and kills.`,
			`Fault: ${NODES} ChorusNode instances in one process, full mesh over TCP loopback; once r >= 0.95, r is sampled with no fault for 3 s, then every node gets the node's own inbound fault on all peers (setInboundFault('all', {drop: ${FAULT.drop}, delayMs: ${FAULT.delayMs}, jitterMs: ${FAULT.jitterMs}}): the jitter makes reordering possible at 10 Hz), and after a settling time r (all ${NODES} phases read at one instant) is sampled every 200 ms. Stale refusals come from the nodes' counters; regressions are peers whose Lamport time in one snapshot is lower than in the one before.`,
		],
	};
}

function couplesTo(snapshot: Snapshot | undefined, peerId: string): boolean {
	const peer = snapshot?.peers.find((candidate) => candidate.id === peerId);
	return peer !== undefined && peer.state !== 'evicted';
}

async function killAndRestart(mode: Mode, ttlS: number, cycles: number, context: BenchContext, measurements: Measurements): Promise<void> {
	// Control plane on (the default): each node's control endpoint takes its data port + 1.
	const size = context.quick ? QUICK_PROCESSES : NODES;
	const endpoints = await nodeEndpoints(size);
	const argsFor = (index: number) => [
		'--bind',
		endpoints[index]!,
		'--peer',
		endpoints.filter((_other, other) => other !== index).join(','),
		'--report-ms',
		'100',
		'--ttl',
		String(ttlS),
		...(mode === 'legacy' ? ['--legacy-admission'] : []),
	];
	const nodes = endpoints.map((_endpoint, index) => new HeadlessNode(`res-${index + 1}`, argsFor(index)));
	const all = new Set(nodes);
	try {
		// --quick does not wait for the phases to lock, only for every link.
		const rMin = context.quick ? 0 : 0.95;
		const formed = await waitUntil(
			() => nodes.every((node) => (node.lastSnapshot?.peers.filter((peer) => peer.state === 'alive').length ?? 0) === size - 1 && node.lastSnapshot!.node.r >= rMin),
			40_000,
			100,
		);
		if (!formed) {
			measurements.warn(`${mode}: the mesh did not form with r >= ${rMin} within 40 s; measured anyway`);
		}

		for (let cycle = 0; cycle < cycles; cycle++) {
			const victimIndex = size - 1 - cycle;
			const victim = nodes[victimIndex]!;
			const oldIncarnation = victim.lastSnapshot?.node.incarnation ?? 0;
			const survivors = nodes.filter((node) => node !== victim);
			const killedAtMs = performance.now();
			victim.child.kill('SIGKILL');
			const evictedAtMs = new Map<HeadlessNode, number>();
			const watchMs = mode === 'modern' ? (ttlS + 1.5) * 1000 : ttlS * 2400;
			await waitUntil(() => {
				for (const survivor of survivors) {
					if (!evictedAtMs.has(survivor) && survivor.lastSnapshot && survivor.lastSnapshot.atMs > killedAtMs && !couplesTo(survivor.lastSnapshot, victim.id)) {
						evictedAtMs.set(survivor, survivor.lastSnapshot.atMs);
					}
				}

				return mode === 'modern' && evictedAtMs.size === survivors.length;
			}, watchMs, 20);
			for (const atMs of evictedAtMs.values()) {
				measurements.add(`resilience.${mode}.evict`, round2((atMs - killedAtMs) / 1000));
			}

			const ghosts = survivors.filter((survivor) => couplesTo(survivor.lastSnapshot, victim.id)).length;
			measurements.add(`resilience.${mode}.ghost-share`, round2(ghosts / survivors.length));
			measurements.add(`resilience.${mode}.survivor-r`, round3(median(survivors.map((survivor) => survivor.lastSnapshot?.node.r ?? Number.NaN))));
			measurements.add(`resilience.${mode}.global-r`, round3(await sampleGlobalR(survivors)));
			const watchedS = round2((performance.now() - killedAtMs) / 1000);
			if (evictedAtMs.size < survivors.length) {
				measurements.note(
					`resilience.${mode}.evict`,
					`${survivors.length - evictedAtMs.size} of ${survivors.length} survivors never evicted the dead peer; still coupled ${watchedS} s after SIGKILL (end of the watch)`,
				);
			}

			context.log(`resilience ${mode} kill ${cycle + 1}: evicted by ${evictedAtMs.size}/${survivors.length}, ${ghosts} still coupled after ${watchedS} s`);

			// Restart: same id, same port, a new incarnation.
			const restartedAtMs = performance.now();
			const reborn = new HeadlessNode(victim.id, argsFor(victimIndex));
			nodes[victimIndex] = reborn;
			all.add(reborn);
			const readmittedAtMs = new Map<HeadlessNode, number>();
			await waitUntil(() => {
				for (const survivor of survivors) {
					const entry = survivor.lastSnapshot?.peers.find((peer) => peer.id === victim.id);
					if (!readmittedAtMs.has(survivor) && entry !== undefined && entry.incarnation > oldIncarnation && entry.state !== 'evicted') {
						readmittedAtMs.set(survivor, survivor.lastSnapshot!.atMs);
					}
				}

				return readmittedAtMs.size === survivors.length;
			}, 15_000, 20);
			for (const atMs of readmittedAtMs.values()) {
				measurements.add(`resilience.${mode}.readmit`, round2((atMs - restartedAtMs) / 1000));
			}

			if (readmittedAtMs.size < survivors.length) {
				measurements.warn(`${mode}: ${survivors.length - readmittedAtMs.size} survivors had not re-admitted the restarted peer after 15 s`);
			}

			context.log(`resilience ${mode} restart ${cycle + 1}: re-admitted by ${readmittedAtMs.size}/${survivors.length}, median ${median([...readmittedAtMs.values()].map((atMs) => atMs - restartedAtMs)).toFixed(0)} ms`);
			// Let the mesh settle again before the next kill.
			await sleep(1000);
		}
	} finally {
		await stopAll([...all].map((node) => node.child));
	}
}

async function underFault(mode: Mode, context: BenchContext, measurements: Measurements): Promise<void> {
	const settleMs = context.quick ? 500 : 5000;
	const windowMs = context.quick ? 1500 : 15_000;
	const cleanMs = context.quick ? 1000 : 3000;
	const rMin = context.quick ? 0 : 0.95;
	const ports = await freePorts(NODES);
	const nodes = createMesh(
		ports.map((port) => `tcp://127.0.0.1:${port}`),
		{legacyAdmission: mode === 'legacy', seed: 7},
	);
	try {
		for (const node of nodes) {
			await node.start();
		}

		const formed = await waitUntil(() => {
			const sample = sampleMesh(nodes);
			return sample.minPeers === NODES - 1 && sample.r >= rMin;
		}, 30_000, 200);
		if (!formed) {
			measurements.warn(`${mode}: the in-process mesh did not reach r >= ${rMin} within 30 s; measured anyway`);
		}

		measurements.add(`resilience.${mode}.clean-r`, round3(mean(await sampleR(nodes, cleanMs))));
		for (const node of nodes) {
			node.setInboundFault('all', FAULT);
		}

		await sleep(settleMs);
		const before = nodes.map((node) => node.snapshot().stats.rejected.stale ?? 0);
		let regressions = 0;
		const lastLamport = new Map<string, number>();
		const rs: number[] = [];
		const startedMs = performance.now();
		while (performance.now() - startedMs < windowMs) {
			await sleep(200);
			rs.push(sampleMesh(nodes).r);
			for (const node of nodes) {
				for (const peer of node.snapshot().peers) {
					const key = `${node.id}/${peer.id}`;
					const previous = lastLamport.get(key);
					if (previous !== undefined && peer.lamport < previous) {
						regressions++;
					}

					lastLamport.set(key, peer.lamport);
				}
			}
		}

		const minutes = (performance.now() - startedMs) / 60_000;
		const stale = nodes.reduce((sum, node, index) => sum + (node.snapshot().stats.rejected.stale ?? 0) - before[index]!, 0);
		measurements.add(`resilience.${mode}.fault-r`, round3(mean(rs)));
		measurements.add(`resilience.${mode}.regressions`, round2(regressions / NODES / minutes));
		if (mode === 'modern') {
			measurements.add('resilience.modern.stale-rejected', round2(stale / NODES / minutes));
		}

		context.log(`resilience ${mode} under fault: r ${mean(rs).toFixed(3)} (min ${Math.min(...rs).toFixed(3)}), ${stale} stale refused, ${regressions} regressions seen`);
	} finally {
		await Promise.allSettled(nodes.map(async (node) => node.stop()));
	}
}

/** The survivors' true r: their own phases carried to one instant, the mean of five samples 100 ms apart. */
async function sampleGlobalR(survivors: HeadlessNode[]): Promise<number> {
	const rs: number[] = [];
	for (let sample = 0; sample < 5; sample++) {
		rs.push(globalOrderParameter(survivors.map((survivor) => survivor.lastSnapshot)));
		await sleep(100);
	}

	return mean(rs);
}

async function sampleR(nodes: ChorusNode[], durationMs: number): Promise<number[]> {
	const rs: number[] = [];
	const startedMs = performance.now();
	while (performance.now() - startedMs < durationMs) {
		await sleep(200);
		rs.push(sampleMesh(nodes).r);
	}

	return rs;
}

function round2(value: number): number {
	return Math.round(value * 100) / 100;
}

function round3(value: number): number {
	return Math.round(value * 1000) / 1000;
}
