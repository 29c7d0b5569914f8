/**
Headless mode: run the node (and its local demo peers, `--demo`), stream NDJSON on stdout, play a
`--scenario` if given, stop cleanly on SIGINT or SIGTERM, demo peers included. SIGHUP reloads the
allow file, as daemons with an ACL do; it never stops the node.
*/

import process from 'node:process';
import type {Config} from '../config.js';
import {startReporter} from '../report/ndjson.js';
import type {SessionRecording} from '../report/recording/session-recording.js';
import {MetricsBindError, serveSessionMetrics} from '../report/session-metrics.js';
import {BindError} from '../mesh/net/transport.js';
import {MeshSession} from '../session/session.js';
import {attachParentControl, controlRequested} from '../swarm/child-control.js';
import {describePortInUse} from './port-in-use.js';

/** Resolves with the process exit code once the node has stopped. */
export async function runHeadless(config: Config): Promise<number> {
	const session = new MeshSession(config, {
		// A control `stop`: the same clean stop as SIGTERM, exit code 0.
		onControlStop() {
			requestStop();
		},
	});
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

	let recording: SessionRecording | undefined;
	try {
		// Loaded only with --record (and --scenario's player below only with --scenario): a node that
		// does neither does not pay for their modules in start-up time or memory.
		recording = config.recordFile === undefined
			? undefined
			: await (await import('../report/recording/session-recording.js')).startSessionRecording(config, session, 'headless');
	} catch (error) {
		process.stderr.write(`chorus-tui: ${(error as Error).message}\n`);
		return 2;
	}

	let markStarted = () => {};
	// The first snapshot follows the node's first tick, not one report interval (see ndjson.ts).
	const started = new Promise<void>((resolve) => {
		markStarted = resolve;
	});
	const reporter = startReporter(session, {reportMs: config.reportMs, write, started});
	let metrics: Awaited<ReturnType<typeof serveSessionMetrics>>;
	try {
		await session.start();
		// Only with --metrics; prom-client and node:http are loaded then, not before. Before the first
		// snapshot, so that a reader who sees it can scrape.
		metrics = await serveSessionMetrics(session, config);
		markStarted();
	} catch (error) {
		reporter.stop();
		await session.stop();
		await recording?.stop();
		if (error instanceof BindError && error.code === 'EADDRINUSE') {
			process.stderr.write(`chorus-tui: ${describePortInUse(error.endpoint)}\n`);
			return 1;
		}

		if (error instanceof MetricsBindError) {
			process.stderr.write(`chorus-tui: ${error.message}\n`);
			return 1;
		}

		throw error;
	}

	// A demo peer of another session obeys its parent's control channel and stops when it goes.
	const control = controlRequested() ? attachParentControl(session.node, requestStop) : undefined;
	const scenario = config.scenario === undefined
		? undefined
		: (await import('../scenario/player.js')).playScenario(session, config.scenario, {
			record(event) {
				session.record(event);
			},
			onEnd: requestStop,
			startWhen: session.demoPeersReady(),
		});
	// A recorded scenario that breaks the whole mesh records what every member hears, pull by pull.
	if (recording !== undefined && config.scenario?.steps.some((step) => step.action === 'partition' || step.action === 'member-fault' || step.action === 'clear-all')) {
		session.watchMesh(true);
	}

	const stop = () => {
		requestStop();
	};

	// The result is an event on stdout; a failure is also one line on stderr, where operators look.
	const reload = () => {
		void session.reloadAllowFile().then(({ok, message}) => {
			if (!ok) {
				process.stderr.write(`chorus-tui: warning: ${message}\n`);
			}
		});
	};

	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
	process.on('SIGHUP', reload);
	await stopRequested;
	process.off('SIGINT', stop);
	process.off('SIGTERM', stop);
	process.off('SIGHUP', reload);
	scenario?.stop();
	control?.detach();
	await metrics?.close();
	await session.stop();
	// After the node, so that its last event (node-stopped) is still written.
	reporter.stop();
	await recording?.stop();
	return 0;
}
