/**
What the in-process mesh hosts (mesh-host.ts, sparse-host.ts) share: start every node at once, then
print {"type":"started"} and a sample a second with the process's CPU and RSS; {"type":"error"} and
exit 1 when a node cannot start; a clean stop on SIGTERM. Each line is one JSON object on stdout.
*/

import process from 'node:process';
import type {ChorusNode} from '../../source/mesh/node.js';

export function print(fields: Record<string, unknown>): void {
	process.stdout.write(`${JSON.stringify(fields)}\n`);
}

export type HostOptions = {
	/** After every node has started, before `started` is printed (a sparse mesh adds its links here). */
	afterStart?: () => void;
	/** The mesh's own fields of a sample; the loop adds cpuS and rssMiB. */
	sample: () => Record<string, unknown>;
};

export async function hostMesh(nodes: readonly ChorusNode[], options: HostOptions): Promise<void> {
	let stopping = false;
	const stop = async (code: number): Promise<never> => {
		stopping = true;
		await Promise.allSettled(nodes.map(async (node) => node.stop()));
		process.exit(code);
	};

	process.on('SIGTERM', () => {
		void stop(0);
	});

	try {
		// All at once: every node binds before any has ticked long. Started one by one, the nodes already
		// ticking drain N−1 subscribers each, many still waiting on endpoints not yet bound, and over
		// inproc a 100-node mesh took minutes to start.
		await Promise.all(nodes.map(async (node) => node.start()));
		options.afterStart?.();
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
		print({type: 'sample', ...options.sample(), cpuS: (cpu.user + cpu.system) / 1e6, rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20)});
	}, 1000);
}
