/**
Headless mode: run the node (and its local demo peers, `--demo`), stream NDJSON on stdout, play a
`--scenario` if given, stop cleanly on SIGINT or SIGTERM, demo peers included.
*/

import process from 'node:process';
import type {Config} from '../config.js';
import {startReporter} from '../report/ndjson.js';
import {BindError} from '../mesh/net/transport.js';
import {playScenario} from '../scenario/player.js';
import {MeshSession} from '../session/session.js';
import {attachParentControl, controlRequested} from '../swarm/child-control.js';
import {describePortInUse} from './port-in-use.js';

/** Resolves with the process exit code once the node has stopped. */
export async function runHeadless(config: Config): Promise<number> {
	const session = new MeshSession(config);
	const write = (line: string) => {
		process.stdout.write(line);
	};

	let requestStop = () => {};
	const stopRequested = new Promise<void>((resolve) => {
		requestStop = resolve;
	});
	// A reader that went away (`| head`) is a normal end, not a crash.
	process.stdout.on('error', () => {
		requestStop();
	});

	const reporter = startReporter(session, {reportMs: config.reportMs, write});
	try {
		await session.start();
	} catch (error) {
		reporter.stop();
		await session.stop();
		if (error instanceof BindError && error.code === 'EADDRINUSE') {
			process.stderr.write(`chorus-tui: ${describePortInUse(error.endpoint)}\n`);
			return 1;
		}

		throw error;
	}

	// A demo peer of another session obeys its parent's control channel and stops when it goes.
	const control = controlRequested() ? attachParentControl(session.node, requestStop) : undefined;
	const scenario = config.scenario === undefined
		? undefined
		: playScenario(session, config.scenario, {
			record(event) {
				session.record(event);
			},
			onEnd: requestStop,
			startWhen: session.demoPeersReady(),
		});
	const stop = () => {
		requestStop();
	};

	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
	await stopRequested;
	process.off('SIGINT', stop);
	process.off('SIGTERM', stop);
	scenario?.stop();
	control?.detach();
	await session.stop();
	// After the node, so that its last event (node-stopped) is still written.
	reporter.stop();
	return 0;
}
