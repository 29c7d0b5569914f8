/** In-process meshes for benchmarks: several ChorusNode instances in one process, full mesh. */

import * as zmq from 'zeromq';
import {DEFAULTS} from '../../source/config.js';
import {standardNormal} from '../../source/mesh/model/kuramoto.js';
import {ChorusNode, type NodeOptions} from '../../source/mesh/node.js';
import {seededUniform} from '../../source/mesh/model/random.js';
import {median, orderParameter} from './stats.js';

/**
libzmq refuses more than 1023 sockets per context by default; a mesh of N nodes in one process
needs about 3·N·(N−1) (a subscriber and its event monitor's two sockets per link). It must be
raised before the first socket exists.
*/
export function raiseSocketLimit(): void {
	const wanted = Math.min(zmq.context.maxSocketsLimit, 1 << 20);
	if (zmq.context.maxSockets < wanted) {
		zmq.context.maxSockets = wanted;
	}
}

export function createMesh(endpoints: readonly string[], options: Partial<NodeOptions> & {seed?: number} = {}): ChorusNode[] {
	const random = seededUniform(options.seed ?? 1);
	return endpoints.map(
		(endpoint, index) =>
			new ChorusNode({
				id: `node-${String(index + 1).padStart(3, '0')}`,
				bindEndpoint: endpoint,
				peerEndpoints: endpoints.filter((_other, otherIndex) => otherIndex !== index),
				ttlMs: DEFAULTS.ttlS * 1000,
				hz: DEFAULTS.hz,
				coupling: DEFAULTS.coupling,
				noiseSigma: DEFAULTS.noiseSigma,
				omegaRadPerS: DEFAULTS.omegaBaseRadPerS + DEFAULTS.omegaSpreadRadPerS * standardNormal(random),
				maxPeers: DEFAULTS.maxPeers,
				maxLamportJump: DEFAULTS.maxLamportJump,
				evictionGraceMs: DEFAULTS.evictionGraceMs,
				legacyAdmission: false,
				random: seededUniform(Math.floor(random() * 2 ** 32)),
				...options,
			}),
	);
}

export type MeshSample = {
	t: number;
	/** Order parameter of every node's own phase, read at one instant: the mesh's true r. */
	r: number;
	/** The fewest live (not evicted) peers any node lists. */
	minPeers: number;
	/** The most live (not evicted) peers any node lists. */
	maxPeers: number;
	/** Tick lateness p99 (each node's last 128 ticks): the median node and the worst node. */
	lateP99Median: number;
	lateP99Max: number;
	/** Every node's tick lateness p99, in node order. */
	p99s: number[];
};

export function sampleMesh(nodes: readonly ChorusNode[]): MeshSample {
	const phases: number[] = [];
	const p99s: number[] = [];
	let minPeers = Number.POSITIVE_INFINITY;
	let maxPeers = 0;
	for (const node of nodes) {
		const snapshot = node.snapshot();
		phases.push(snapshot.node.phase);
		p99s.push(snapshot.stats.tickLateMs.p99);
		const live = snapshot.peers.filter((peer) => peer.state !== 'evicted').length;
		minPeers = Math.min(minPeers, live);
		maxPeers = Math.max(maxPeers, live);
	}

	return {
		t: performance.now(),
		r: orderParameter(phases),
		minPeers: nodes.length === 0 ? 0 : minPeers,
		maxPeers,
		lateP99Median: median(p99s),
		lateP99Max: Math.max(...p99s),
		p99s,
	};
}
