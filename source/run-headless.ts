/**
Headless mode: run the node, stream NDJSON on stdout, stop cleanly on SIGINT or SIGTERM.
*/

import process from 'node:process';
import type {Config} from './config.js';
import {startReporter} from './headless.js';
import {BindError} from './mesh/transport.js';
import {createNode} from './node-from-config.js';

/** Resolves with the process exit code once the node has stopped. */
export async function runHeadless(config: Config): Promise<number> {
	const node = createNode(config);
	const write = (line: string) => {
		process.stdout.write(line);
	};

	// A reader that went away (`| head`) is a normal end, not a crash.
	process.stdout.on('error', () => {
		void node.stop();
	});

	const reporter = startReporter(node, {reportMs: config.reportMs, write});
	try {
		await node.start();
	} catch (error) {
		reporter.stop();
		if (error instanceof BindError && error.code === 'EADDRINUSE') {
			process.stderr.write(`chorus-tui: ${describePortInUse(error.endpoint)}\n`);
			return 1;
		}

		throw error;
	}

	await new Promise<void>((resolve) => {
		const stop = () => {
			process.off('SIGINT', stop);
			process.off('SIGTERM', stop);
			resolve();
		};

		process.on('SIGINT', stop);
		process.on('SIGTERM', stop);
	});
	reporter.stop();
	await node.stop();
	return 0;
}

export function describePortInUse(endpoint: string): string {
	const port = /:(\d+)$/.exec(endpoint)?.[1] ?? endpoint;
	return `port ${port} is already in use (${endpoint}); choose another with --bind <port>, e.g. --bind ${Number(port) + 1}`;
}
