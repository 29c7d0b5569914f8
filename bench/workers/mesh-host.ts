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
const print = (fields: Record<string, unknown>) => {
	process.stdout.write(`${JSON.stringify(fields)}\n`);
};

let stopping = false;
async function stop(code: number): Promise<never> {
	stopping = true;
	await Promise.allSettled(nodes.map(async (node) => node.stop()));
	process.exit(code);
}

process.on('SIGTERM', () => {
	void stop(0);
});

try {
	// All at once: every node binds before any has ticked long. Started one by one, the nodes already
	// ticking drain N−1 subscribers each, many still waiting on endpoints not yet bound, and over
	// inproc a 100-node mesh took minutes to start.
	await Promise.all(nodes.map(async (node) => node.start()));
} catch (error) {
	print({type: 'error', message: (error as Error).message ?? String(error)});
	await stop(1);
}

print({type: 'started'});
const cpuAtStart = process.cpuUsage();
setInterval(() => {
	if (stopping) {
		return;
	}

	const cpu = process.cpuUsage(cpuAtStart);
	print({
		type: 'sample',
		...sampleMesh(nodes),
		cpuS: (cpu.user + cpu.system) / 1e6,
		rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20),
	});
}, 1000);
