/**
Membership: how fast a mesh learns itself through one seed, and what the control plane and gossip
cost a node.

1. Join time: N mesh sessions in this one process (tcp on 127.0.0.1, each with its control
   endpoint), a seed first, then the other N−1 at once, each with `--join` naming only the seed;
   the time from the joins until every node's membership lists all N members alive.
2. Cost: a 20-node full mesh at 10 Hz as `chorus-tui --headless` processes, CPU per node with the
   control plane and membership (nodes joined through one seed, gossip every 2 s) against the same
   mesh with `--no-control` and every peer given as `--peer` (the node as it was before them).
*/

import {ConfigError, resolveConfig} from '../../source/config.js';
import {MeshSession} from '../../source/session/session.js';
import {HeadlessNode, waitUntil} from '../lib/headless.js';
import {portBlock} from '../lib/ports.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {cpuSeconds, sleep, stopAll} from '../lib/proc.js';
import {mean, median} from '../lib/stats.js';

const JOIN_SIZES = [10, 50, 100];

export const membership: BenchModule = {
	name: 'membership',
	title: 'Membership: join through one seed, and the cost of the control plane and gossip',
	figures: [
		...JOIN_SIZES.map((size) => ({id: `membership.join-${size}`, label: `${size} nodes joining through one seed: until every node knows every member`, unit: 's'})),
		{id: 'membership.cost.without', label: '20-node mesh, --no-control and static --peer lists: CPU per node', unit: '% of a core'},
		{id: 'membership.cost.with', label: '20-node mesh joined through one seed, control plane and gossip on: CPU per node', unit: '% of a core'},
		{
			id: 'membership.cost.added',
			label: 'CPU per node the control plane and gossip add',
			unit: '%',
			target: {comparison: '<=', value: 10, text: '<= +10 %'},
		},
	],
	run: runMembership,
};

async function runMembership(context: BenchContext): Promise<ModuleOutput> {
	const measurements = new Measurements();
	const sizes = context.quick ? [4] : JOIN_SIZES;
	for (const size of sizes) {
		const seconds = await timeToKnowEveryone(size, measurements);
		context.log(`membership: ${size} nodes through one seed: ${seconds.toFixed(2)} s until all know all`);
		measurements.add(`membership.join-${size}`, Math.round(seconds * 100) / 100);
	}

	const nodes = context.quick ? 4 : 20;
	const settleMs = context.quick ? 500 : 30_000;
	const windowMs = context.quick ? 1000 : 10_000;
	const windows = context.quick ? 1 : 6;
	const cost = await pairedMeshCpu(nodes, settleMs, windowMs, windows, measurements);
	for (const [index, window] of cost.entries()) {
		context.log(`membership cost window ${index + 1}/${windows}: ${window.without.toFixed(2)} % without, ${window.with.toFixed(2)} % with (+${(((window.with / window.without) - 1) * 100).toFixed(1)} %)`);
	}

	measurements.add('membership.cost.without', round2(median(cost.map((window) => window.without))));
	measurements.add('membership.cost.with', round2(median(cost.map((window) => window.with))));
	measurements.add('membership.cost.added', round2(median(cost.map((window) => ((window.with / window.without) - 1) * 100))));

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`Join time: ${sizes.join(', ')} MeshSessions in one process (what \`chorus-tui\` runs: node, control server, membership), tcp on 127.0.0.1 with the built-in engine at 2 Hz (so that one process can carry the data plane of 100 nodes), TTL 5 s, gossip every 2 s; the seed starts, then the other nodes start at once with \`--join\` naming the seed only. Timed from the joins' start until every node's membership lists every node (in any state: in one process carrying 100 nodes a member may flap to suspect for a moment), polled every 50 ms.`,
			`Cost: two ${nodes}-node full meshes of \`chorus-tui --headless --demo 0\` processes at 10 Hz on 127.0.0.1, run at the same time: one without (\`--no-control\`, every peer a \`--peer\`), one with (control plane on, each node \`--join\`ing the first, gossip every 2 s, up to every 16 s once a node's pulls come back unchanged: pace.ts, stop 15). Once both are meshed, ${settleMs / 1000} s to settle, then ${windows} windows of ${windowMs / 1000} s: in each, CPU time of each whole process (/proc/PID/stat), the mean over a mesh's nodes as a share of one core. Each figure is the median over the windows; added is the median of the windows' (with − without) / without. Method changed at stop 13, after the miss: until then the two meshes ran one after the other with one 15 s window each, which moved the figure by ±15 % between runs of the same code (+39.9 % in the stop-12 run); run side by side, both meshes see the same machine in every window.`,
		],
	};
}

async function timeToKnowEveryone(size: number, measurements: Measurements): Promise<number> {
	const base = await portBlock(size * 2);
	const config = (index: number, join: boolean) => {
		try {
			return resolveConfig({
				id: `m${index}`,
				bind: `tcp://127.0.0.1:${base + index * 2}`,
				demo: '0',
				hz: '2',
				ttl: '5',
				gossipInterval: '2',
				...(join ? {join: [`tcp://127.0.0.1:${base}`]} : {}),
			});
		} catch (error) {
			if (error instanceof ConfigError) {
				throw new Error(error.message, {cause: error});
			}

			throw error;
		}
	};

	const sessions: MeshSession[] = [];
	try {
		const seed = new MeshSession(config(0, false));
		sessions.push(seed);
		await seed.start();
		const startedMs = performance.now();
		const joiners = Array.from({length: size - 1}, (_, offset) => new MeshSession(config(offset + 1, true)));
		sessions.push(...joiners);
		await Promise.all(joiners.map(async (session) => session.start()));
		// Knowing a member is listing it; in one overloaded process a member may flap to suspect or dead
		// for a moment while it is known all the same.
		const knowsAll = (session: MeshSession) => (session.snapshot().members ?? []).length === size;
		const done = await waitUntil(() => sessions.every((session) => knowsAll(session)), 120_000, 50);
		const seconds = (performance.now() - startedMs) / 1000;
		if (!done) {
			const counts = sessions.map((session) => (session.snapshot().members ?? []).length);
			measurements.warn(`${size} nodes: not every node knew every member after 120 s (members per node: min ${Math.min(...counts)}, max ${Math.max(...counts)})`);
		}

		return seconds;
	} finally {
		await Promise.all(sessions.map(async (session) => session.stop()));
	}
}

type CostWindow = {without: number; with: number};

async function pairedMeshCpu(count: number, settleMs: number, windowMs: number, windows: number, measurements: Measurements): Promise<CostWindow[]> {
	const meshes: Mesh[] = [];
	try {
		const without = await startMesh(count, false, 'w');
		meshes.push(without);
		const withMembership = await startMesh(count, true, 'm');
		meshes.push(withMembership);
		for (const mesh of meshes) {
			const meshed = await waitUntil(
				() => mesh.nodes.every((node) => (node.lastSnapshot?.peers.filter((peer) => peer.state === 'alive').length ?? 0) === count - 1),
				60_000,
				100,
			);
			if (!meshed) {
				measurements.warn(`the ${count}-node mesh (${mesh.withMembership ? 'with' : 'without'} membership) did not form within 60 s; measured anyway`);
			}
		}

		await sleep(settleMs);
		const cpuOf = (mesh: Mesh) => mesh.nodes.map((node) => cpuSeconds(node.pid));
		const result: CostWindow[] = [];
		for (let window = 0; window < windows; window++) {
			const before = [cpuOf(without), cpuOf(withMembership)];
			const startedMs = performance.now();
			await sleep(windowMs);
			const after = [cpuOf(without), cpuOf(withMembership)];
			const seconds = (performance.now() - startedMs) / 1000;
			const share = (index: number) => mean(after[index]!.map((cpu, node) => ((cpu - before[index]![node]!) / seconds) * 100));
			result.push({without: share(0), with: share(1)});
		}

		return result;
	} finally {
		await stopAll(meshes.flatMap((mesh) => mesh.nodes.map((node) => node.child)));
	}
}

type Mesh = {withMembership: boolean; nodes: HeadlessNode[]};

async function startMesh(count: number, withMembership: boolean, prefix: string): Promise<Mesh> {
	const base = await portBlock(count * 2);
	const endpoints = Array.from({length: count}, (_, index) => `tcp://127.0.0.1:${base + index * 2}`);
	const nodes = endpoints.map((endpoint, index) => new HeadlessNode(`${prefix}${index + 1}`, [
		'--bind', endpoint,
		...(withMembership
			? (index === 0 ? [] : ['--join', endpoints[0]!])
			: ['--no-control', ...(count > 1 ? ['--peer', endpoints.filter((other) => other !== endpoint).join(',')] : [])]),
	]));
	return {withMembership, nodes};
}

function round2(value: number): number {
	return Math.round(value * 100) / 100;
}
