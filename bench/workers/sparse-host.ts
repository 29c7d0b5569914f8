/**
N ChorusNode instances in this one process over inproc://, in a sparse mesh: each subscribes to k
others picked at random, as `--fanout k` picks them (cluster/membership/fanout.ts) once membership
has converged. Sampled every second.

Usage: sparse-host.js N K [SEED]
Prints {"type":"started"} once every node is up and subscribed, then a sample a second
({"type":"sample", r, minPeers, maxPeers, lateP99Median, lateP99Max, cpuS, rssMiB}); {"type":"error",
message} and exit 1 when a node cannot start. Stops on SIGTERM.
*/

import process from 'node:process';
import {FanoutPicker} from '../../source/cluster/membership/fanout.js';
import {seededUniform} from '../../source/mesh/model/random.js';
import {createMesh, sampleMesh} from '../lib/mesh.js';
import {hostMesh, print} from './host-loop.js';

const count = Number(process.argv[2]);
const k = Number(process.argv[3]);
const seed = Number(process.argv[4] ?? 1);

if (!Number.isInteger(count) || count < 2 || !Number.isInteger(k) || k < 1) {
	print({type: 'error', message: 'usage: sparse-host.js N K [SEED]'});
	process.exit(2);
}

const endpoints = Array.from({length: count}, (_unused, index) => `inproc://chorus-sparse-${index + 1}`);
// No peers at construction: each node's k links are added once every node is bound.
const nodes = createMesh(endpoints, {peerEndpoints: [], seed});
const ids = endpoints.map((_endpoint, index) => String(index));
const random = seededUniform(seed + 1);

await hostMesh(nodes, {
	afterStart() {
		for (const [index, node] of nodes.entries()) {
			const picker = new FanoutPicker({k, fullMeshUpTo: k, random: seededUniform(Math.floor(random() * 2 ** 32))});
			const picks = picker.update(ids.filter((id) => id !== String(index)), 0);
			const chosen = picks.mode === 'sparse' ? [...picks.picks] : ids.filter((id) => id !== String(index));
			for (const id of chosen) {
				node.addPeer(endpoints[Number(id)]!);
			}
		}
	},
	sample() {
		// One snapshot per node per sample: a second pass for maxPeers doubled the sampler's block.
		return sampleMesh(nodes);
	},
});
