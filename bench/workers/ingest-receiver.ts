/**
One receiver under the ingest flood, in its own process: `node` (a ChorusNode: receive, decode,
validate, admit), `node-libzmq` (the same on the libzmq engine, as it was before the built-in one)
or `bare` (the node's own receive loop without the node: its Transport on the built-in engine,
polled once per 100 ms tick and then drained between ticks while more is waiting, exactly as the
node polls it, but counting messages instead of decoding them: the ceiling of the engine in use).

Usage: ingest-receiver.js node|node-libzmq|bare BIND_PORT PORT[,PORT...] [LATENESS_TICKS]
Prints {"t": ms, "count": n, ...} every half second (t on CLOCK_MONOTONIC, as the Python receiver and the load generator report it); `count` is admitted messages for `node` and
received messages for `bare`. A node's tickLateMs covers its last LATENESS_TICKS ticks (default 128).
*/

import process from 'node:process';
import {defaultNodeOptions} from '../../source/session/node-from-config.js';
import {ChorusNode} from '../../source/mesh/node.js';
import {Transport} from '../../source/mesh/net/transport.js';
import {DEFAULTS} from '../../source/config.js';

const [mode, bindPort, portList, latenessTicks] = process.argv.slice(2);
const endpoints = (portList ?? '').split(',').map((port) => `tcp://127.0.0.1:${port}`);
const REPORT_MS = 500;

/** Milliseconds on CLOCK_MONOTONIC, the clock of Python's time.monotonic(): the load generator's reports line up with ours. */
function monotonicMs(): number {
	return Number(process.hrtime.bigint() / 1000n) / 1000;
}

function report(fields: Record<string, unknown>): void {
	process.stdout.write(`${JSON.stringify({t: monotonicMs(), ...fields})}\n`);
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

/** What the node does on a tick and between ticks (source/mesh/node.ts: #tick, #schedulePump), minus everything but reading. */
const DRAIN_BUDGET = 512;
const TICK_MS = 100;

async function runBare(): Promise<void> {
	const transport = new Transport({
		bindEndpoint: `tcp://127.0.0.1:${bindPort}`,
		engine: 'builtin',
		maxMessageBytes: DEFAULTS.maxMessageBytes,
		highWaterMark: DEFAULTS.hwm,
	});
	await transport.start();
	for (const endpoint of endpoints) {
		transport.addPeer(endpoint);
	}

	let count = 0;
	const onFrames = () => {
		count++;
	};

	let pumping = false;
	const pump = () => {
		if (pumping) {
			return;
		}

		pumping = true;
		setImmediate(async () => {
			pumping = false;
			if (await transport.poll(DRAIN_BUDGET, onFrames)) {
				pump();
			}
		});
	};

	setInterval(async () => {
		if (await transport.poll(DRAIN_BUDGET, onFrames)) {
			pump();
		}
	}, TICK_MS);
	setInterval(() => {
		report({count});
	}, REPORT_MS);
	process.on('SIGTERM', () => {
		void transport.close().then(() => process.exit(0));
	});
}

if (mode === 'node' || mode === 'node-libzmq') {
	await runNode(mode === 'node' ? 'builtin' : 'libzmq');
} else if (mode === 'bare') {
	await runBare();
} else {
	process.stderr.write(`ingest-receiver: unknown mode ${String(mode)}; use node, node-libzmq or bare\n`);
	process.exit(2);
}
