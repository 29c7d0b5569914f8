/**
`link-reset` after silence: a peer link that delivers nothing while its TCP connection stays open is
closed and dialled afresh (transport.ts, SILENT_LINK_MS = 1.5 s). The silent publisher is a real
`chorus-tui --headless` process stopped with SIGSTOP: the kernel keeps its connections open and
even completes new TCP handshakes for it, but it sends nothing, and the ZMTP handshake of the redial
waits until it is resumed.
*/

import {afterEach, expect, it} from 'vitest';
import {ChorusNode, type NodeEvent} from '../../source/mesh/node.js';
import {HeadlessProcess} from '../helpers/headless-process.js';
import {eventually, sleep, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';

const nodes: ChorusNode[] = [];
const processes: HeadlessProcess[] = [];

afterEach(async () => {
	for (const child of processes) {
		child.child.kill('SIGCONT');
	}

	await Promise.all(processes.splice(0).map(async (child) => child.stop()));
	await Promise.all(nodes.splice(0).map(async (node) => node.stop()));
});

it('resets a link gone silent with its TCP connection open, and redials it', async () => {
	const port = await freePort();
	const endpoint = loopback(port);
	const quiet = new HeadlessProcess(['--id', 'quiet-peer', '--bind', String(port), '--demo', '0', '--report-ms', '500']);
	processes.push(quiet);
	await quiet.waitForEvent('node-started', undefined, 15_000);

	const node = new ChorusNode(await testNodeOptions({id: 'watcher', peerEndpoints: [endpoint], ttlMs: 10_000}));
	const events: Array<NodeEvent & {atMs: number}> = [];
	node.on((event) => events.push({...event, atMs: performance.now()}));
	nodes.push(node);
	await node.start();
	const alive = () => node.snapshot().peers.some((peer) => peer.id === 'quiet-peer' && peer.state === 'alive');
	await eventually('quiet-peer alive', alive, 15_000);

	// The control: a healthy link is never reset.
	await sleep(3000);
	expect(events.filter((event) => event.kind === 'link-reset')).toEqual([]);
	expect(events.filter((event) => event.kind === 'peer-connected')).toHaveLength(1);

	quiet.child.kill('SIGSTOP');
	const stoppedAtMs = performance.now();
	const reset = await eventually('a link-reset', () => events.find((event) => event.kind === 'link-reset'), 10_000);
	expect(reset).toMatchObject({kind: 'link-reset', endpoint});
	expect(reset['silentMs']).toBeGreaterThanOrEqual(1500);
	// Due 1.5 s after the last frame (at most 100 ms before the stop), seen at the next tick; generous
	// above for a loaded machine.
	expect(reset.atMs - stoppedAtMs).toBeGreaterThan(1200);
	expect(reset.atMs - stoppedAtMs).toBeLessThan(6000);
	// While the peer is stopped the redial cannot complete: no new connection, no second reset.
	await sleep(2000);
	expect(events.filter((event) => event.kind === 'peer-connected')).toHaveLength(1);
	expect(events.filter((event) => event.kind === 'link-reset')).toHaveLength(1);

	const receivedBefore = node.snapshot().stats.received;
	quiet.child.kill('SIGCONT');
	// The redial completes and the peer's messages flow through the new connection.
	const reconnected = await eventually('peer-connected after the reset', () => events.find((event) => event.kind === 'peer-connected' && event.atMs > reset.atMs), 10_000);
	expect(reconnected).toMatchObject({endpoint});
	await eventually('messages again', () => node.snapshot().stats.received > receivedBefore + 5, 10_000);
	await eventually('quiet-peer alive again', alive, 10_000);
}, 60_000);
