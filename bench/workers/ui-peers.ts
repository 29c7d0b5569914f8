/**
Many peers from one process, for the UI cost benchmark: N distinct peer ids (`ui-peer-0001`, ...)
each publishing valid wire v1 frames at 10 Hz, so that a TUI subscribed to this process sees N
peers without N processes.

Usage: ui-peers.js COUNT PORT[,PORT...] [--control [--console ID]]
Peers are spread over the PUB sockets (one per port), round robin. The node rate-limits each
connection to ten times the announced rate (100 messages per second at 10 Hz), so a socket carries
at most 8 peers: pass ceil(COUNT / 8) ports. Each peer sends once per 100 ms, the sends spread over
the period in 10 ms slices. Prints "ready" once bound; stops on SIGTERM or stdin EOF.

With `--control`, every peer also has a control plane, so that the mesh view (key `m`) has a row for
each: ui-control.ts binds one ZMTP ROUTER per peer (the same built-in engine the node's control
server uses) on a loopback port of its own, each peer's data frames announce it, and it answers
`view` and `members` as a member of a synchronized mesh that hears every other peer would (and the
console, `--console ID`). A member is told apart by its endpoint (the mesh view checks that the
reply names the member it asked), hence one port per peer.
*/

import process from 'node:process';
import * as zmq from 'zeromq';
import {encode} from '../../source/mesh/model/wire.js';
import {startControlPlanes} from './ui-control.js';

const PEERS_PER_SOCKET = 8;
const HZ = 10;
const PERIOD_MS = 1000 / HZ;
const SLICES = 10;

const count = Number(process.argv[2]);
const ports = (process.argv[3] ?? '').split(',').filter(Boolean);
const withControl = process.argv.includes('--control');
const consoleIndex = process.argv.indexOf('--console');
const consoleId = consoleIndex > 0 ? process.argv[consoleIndex + 1] : undefined;
if (!Number.isInteger(count) || count < 1 || ports.length * PEERS_PER_SOCKET < count) {
	process.stderr.write(`ui-peers: need COUNT and at least ceil(COUNT / ${PEERS_PER_SOCKET}) ports\n`);
	process.exit(2);
}

const sockets = ports.map((port) => {
	const socket = new zmq.Publisher({linger: 0, sendHighWaterMark: 1000});
	return {socket, endpoint: `tcp://127.0.0.1:${port}`};
});
await Promise.all(sockets.map(async ({socket, endpoint}) => socket.bind(endpoint)));

const incarnation = Date.now();
const omega = 2 * Math.PI * 0.5;
const startedMs = performance.now();
const peers = Array.from({length: count}, (_, index) => ({
	id: `ui-peer-${String(index + 1).padStart(4, '0')}`,
	socket: sockets[index % sockets.length]!,
	lamport: 0,
	// In step, each a little off the common phase, as a synchronized mesh looks.
	offset: ((index * 7919) % 100) / 250 - 0.2,
	control: undefined as string | undefined,
}));
const phaseOf = (offset: number, nowMs: number) => {
	const phase = (omega * (nowMs - startedMs)) / 1000 + offset;
	return ((phase % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
};

const controlPlanes = withControl
	? await startControlPlanes({
		peers: peers.map((peer) => ({id: peer.id, endpoint: peer.socket.endpoint, offset: peer.offset})),
		consoleId,
		incarnation,
		omega,
		phaseOf,
	})
	: undefined;
for (const [index, endpoint] of (controlPlanes?.endpoints ?? []).entries()) {
	peers[index]!.control = endpoint;
}

let stopping = false;
const stop = () => {
	stopping = true;
};

process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
process.stdout.write('ready\n');

let slice = 0;
let nextMs = performance.now();
while (!stopping) {
	const nowMs = performance.now();
	for (let index = slice; index < peers.length; index += SLICES) {
		const peer = peers[index]!;
		peer.lamport++;
		const frame = encode({
			nodeId: peer.id,
			phaseRad: phaseOf(peer.offset, nowMs),
			lamportTime: peer.lamport,
			incarnation,
			omegaRadPerS: omega,
			hz: HZ,
			endpoint: peer.socket.endpoint,
			...(peer.control === undefined ? {} : {control: peer.control}),
		});
		await peer.socket.socket.send(frame);
	}

	slice = (slice + 1) % SLICES;
	nextMs += PERIOD_MS / SLICES;
	const waitMs = nextMs - performance.now();
	if (waitMs < -PERIOD_MS) {
		// Far behind (a busy machine): skip ahead rather than burst.
		nextMs = performance.now();
	} else if (waitMs > 0) {
		await new Promise((resolve) => {
			setTimeout(resolve, waitMs);
		});
	}
}

for (const {socket} of sockets) {
	socket.close();
}

controlPlanes?.close();

process.exit(0);
