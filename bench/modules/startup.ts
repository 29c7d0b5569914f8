/**
5. Start-up: `chorus-tui --headless --demo 0` with default flags (a snapshot every 1000 ms, control
plane on) from spawn to its first snapshot line, which the node writes as soon as it is bound and
has ticked once.
*/

import {HeadlessNode, waitUntil} from '../lib/headless.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {nodeEndpoints} from '../lib/ports.js';

export const startup: BenchModule = {
	name: 'startup',
	title: '5. Start-up: spawn to first snapshot line, default flags',
	figures: [
		{
			id: 'startup.first-snapshot',
			label: 'start-up, `chorus-tui --headless` (default flags) to its first snapshot line',
			unit: 'ms',
			target: {comparison: '<', value: 300, text: '< 300 ms'},
		},
		{id: 'startup.node-t', label: 'of which after the node started (the snapshot\'s own `t`)', unit: 'ms'},
	],
	run: runStartup,
};

async function runStartup(context: BenchContext): Promise<ModuleOutput> {
	const runs = context.quick ? 3 : 9;
	const measurements = new Measurements();
	for (let run = 0; run < runs; run++) {
		const [endpoint] = await nodeEndpoints(1);
		const node = new HeadlessNode(`startup-${run}`, ['--bind', endpoint!]);
		try {
			const seen = await waitUntil(() => node.lastSnapshot !== undefined || !node.child.running, 10_000, 2);
			if (!seen || node.lastSnapshot === undefined) {
				measurements.warn(`run ${run + 1}: no snapshot within 10 s; stderr: ${node.child.stderr.slice(-200)}`);
				continue;
			}

			const ms = node.lastSnapshot.atMs - node.child.spawnedAtMs;
			measurements.add('startup.first-snapshot', Math.round(ms));
			measurements.add('startup.node-t', Math.round(node.lastSnapshot.t));
			context.log(`startup run ${run + 1}/${runs}: ${Math.round(ms)} ms (node's t ${Math.round(node.lastSnapshot.t)} ms)`);
		} finally {
			await node.stop();
		}
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`${runs} runs of \`node dist/cli.js --headless --demo 0 --id ID --bind tcp://127.0.0.1:PORT\` (every other flag at its default: \`--report-ms 1000\`, control plane on port + 1), one at a time; the time from spawn() to the arrival of the first snapshot line on its stdout, as the parent sees it. The median is the figure. The snapshot's own \`t\` (ms since the node started) says how much of it comes after Node has loaded the program.`,
		],
	};
}
