/**
N ChorusNode instances in this one process, in a full mesh, sampled every second.

Usage: mesh-host.js PORT[,PORT...]   (TCP loopback)
       mesh-host.js inproc:N         (N nodes over inproc://, the built-in in-memory engine)
Prints {"type":"started"} once every node is up, then a sample a second ({"type":"sample", r,
minPeers, lateP99Median, lateP99Max, cpuS, rssMiB}); {"type":"error", message} and exit 1 when a
node cannot start (the open-file limit, usually). Stops on SIGTERM.
*/

import process from 'node:process';
import {createMesh, raiseSocketLimit, sampleMesh} from '../lib/mesh.js';
import {hostMesh} from './host-loop.js';

raiseSocketLimit();
const spec = process.argv[2] ?? '';
const inproc = /^inproc:(\d+)$/.exec(spec);
const endpoints = inproc
	? Array.from({length: Number(inproc[1])}, (_unused, index) => `inproc://chorus-${index + 1}`)
	: spec
			.split(',')
			.filter(Boolean)
			.map((port) => `tcp://127.0.0.1:${port}`);
const nodes = createMesh(endpoints);
await hostMesh(nodes, {sample: () => sampleMesh(nodes)});
