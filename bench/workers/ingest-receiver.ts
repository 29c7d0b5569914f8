/**
One receiver under the ingest flood, in its own process: `node` (a ChorusNode: receive, decode,
validate, admit), `node-libzmq` (the same on the libzmq engine, as it was before the built-in one)
or `bare` (a zeromq.js subscriber loop that only receives, the stack's ceiling).

Usage: ingest-receiver.js node|node-libzmq|bare BIND_PORT PORT[,PORT...] [LATENESS_TICKS]
Prints {"t": ms, "count": n, ...} every half second; `count` is admitted messages for `node` and
received messages for `bare`. A node's tickLateMs covers its last LATENESS_TICKS ticks (default 128).
*/

import process from 'node:process';
import * as zmq from 'zeromq';
import {defaultNodeOptions} from '../../source/session/node-from-config.js';
import {ChorusNode} from '../../source/mesh/node.js';

const [mode, bindPort, portList, latenessTicks] = process.argv.slice(2);
const endpoints = (portList ?? '').split(',').map((port) => `tcp://127.0.0.1:${port}`);
const REPORT_MS = 500;

function report(fields: Record<string, unknown>): void {
	process.stdout.write(`${JSON.stringify({t: performance.now(), ...fields})}\n`);
}

async function runNode(engine: 'builtin' | 'libzmq'): Promise<void> {
	const node = new ChorusNode(
		defaultNodeOptions({id: 'ingest-node', bindEndpoint: `tcp://127.0.0.1:${bindPort}`}, {peerEndpoints: endpoints, transport: {engine}, ...(latenessTicks === undefined ? {} : {latenessWindowTicks: Number(latenessTicks)})}),
	);
	await node.start();
	setInterval(() => {
		const {stats, peers} = node.snapshot();
		report({
			count: stats.admitted,
			received: stats.received,
			rejected: stats.rejected,
			peers: peers.length,
			ticks: stats.ticks,
			tickLateMs: stats.tickLateMs,
		});
	}, REPORT_MS);
	process.on('SIGTERM', () => {
		void node.stop().then(() => process.exit(0));
	});
}

async function runBare(): Promise<void> {
	const socket = new zmq.Subscriber({linger: 0});
	socket.subscribe();
	for (const endpoint of endpoints) {
		socket.connect(endpoint);
	}

	let count = 0;
	setInterval(() => {
		report({count});
	}, REPORT_MS);
	process.on('SIGTERM', () => {
		socket.close();
		process.exit(0);
	});
	for await (const _frames of socket) {
		count++;
	}
}

if (mode === 'node' || mode === 'node-libzmq') {
	await runNode(mode === 'node' ? 'builtin' : 'libzmq');
} else if (mode === 'bare') {
	await runBare();
} else {
	process.stderr.write(`ingest-receiver: unknown mode ${String(mode)}; use node, node-libzmq or bare\n`);
	process.exit(2);
}
