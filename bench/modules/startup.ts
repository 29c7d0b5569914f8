/** 5. Start-up: `chorus-tui --headless --demo 0` from spawn to its first snapshot line. */

import {freePorts} from '../../test/helpers/ports.js';
import {HeadlessNode, waitUntil} from '../lib/headless.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';

export const startup: BenchModule = {
	name: 'startup',
	title: '5. Start-up: spawn to first snapshot line',
	figures: [
		{
			id: 'startup.first-snapshot',
			label: 'start-up, `chorus-tui --headless` to its first snapshot line',
			unit: 'ms',
			target: {comparison: '<', value: 1000, text: '< 1 s'},
		},
	],
	run: runStartup,
};

async function runStartup(context: BenchContext): Promise<ModuleOutput> {
	const runs = context.quick ? 3 : 9;
	const measurements = new Measurements();
	for (let run = 0; run < runs; run++) {
		const [port] = await freePorts(1);
		const node = new HeadlessNode(`startup-${run}`, ['--bind', `tcp://127.0.0.1:${port}`, '--report-ms', '10']);
		try {
			const seen = await waitUntil(() => node.lastSnapshot !== undefined || !node.child.running, 10_000, 2);
			if (!seen || node.lastSnapshot === undefined) {
				measurements.warn(`run ${run + 1}: no snapshot within 10 s; stderr: ${node.child.stderr.slice(-200)}`);
				continue;
			}

			const ms = node.lastSnapshot.atMs - node.child.spawnedAtMs;
			measurements.add('startup.first-snapshot', Math.round(ms));
			context.log(`startup run ${run + 1}/${runs}: ${Math.round(ms)} ms`);
		} finally {
			await node.stop();
		}
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`${runs} runs of \`node dist/cli.js --headless --demo 0 --report-ms 10 --bind tcp://127.0.0.1:PORT\`, one at a time; the time from spawn() to the arrival of the first snapshot line on its stdout, as the parent sees it. The median is the figure.`,
		],
	};
}
