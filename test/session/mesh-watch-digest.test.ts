// The mesh watch's `since`: against a real node's control server, a member whose peer table stood
// still answers with its digest alone, the watch keeps the cells it has, and a change in the table
// reaches the matrix on the next round. The client is the real ControlClient; the wrapper only
// records what went out and what came back.
import {afterEach, describe, expect, it} from 'vitest';
import {ControlClient} from '../../source/cluster/control/client.js';
import {ControlServer} from '../../source/cluster/control/server.js';
import type {ControlReply, Member} from '../../source/cluster/protocol.js';
import {ChorusNode} from '../../source/mesh/node.js';
import {MeshWatch} from '../../source/session/mesh-watch.js';
import {eventually, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).toReversed()) {
		await cleanup();
	}
});

describe('mesh watch with digests', () => {
	it('reads an unchanged table as a digest, keeps its cells, and sees the next change', async () => {
		const bPort = await freePort();
		const b = new ChorusNode(await testNodeOptions({id: 'node-b', bindEndpoint: loopback(bPort), peerEndpoints: []}));
		const a = new ChorusNode(await testNodeOptions({id: 'node-a', peerEndpoints: [loopback(bPort)]}));
		await b.start();
		await a.start();
		const server = await ControlServer.start({endpoint: loopback(await freePort()), node: a, onStop() {}, onEvent() {}});
		const client = new ControlClient({timeoutMs: 5000});
		cleanups.push(async () => {
			await client.close();
			await server.stop();
			await a.stop();
			await b.stop();
		});
		await eventually('a hears b', () => a.snapshot().peers.some((peer) => peer.id === 'node-b' && peer.state === 'alive'), 5000);

		const exchanges: Array<{since: unknown; reply: ControlReply}> = [];
		const members: Member[] = [
			{id: 'console', endpoint: 'tcp://127.0.0.1:1', incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0},
			{id: 'node-a', endpoint: a.endpoint, control: server.endpoint, incarnation: a.incarnation, state: 'alive', legacy: false, changedAtMs: 0},
			{id: 'node-b', endpoint: b.endpoint, incarnation: b.incarnation, state: 'alive', legacy: true, changedAtMs: 0},
		];
		const console_ = b.snapshot();
		const watch = new MeshWatch({
			selfId: 'console',
			client: {
				async request(endpoint, body, timeoutMs) {
					const reply = await client.request(endpoint, body, timeoutMs);
					exchanges.push({since: (body as {since?: string}).since, reply});
					return reply;
				},
			},
			snapshot: () => ({...console_, node: {...console_.node, id: 'console'}, peers: [], demo: [], members}),
			controlEndpoint: () => undefined,
			partition: () => undefined,
		});

		const cellsOfA = (matrix: Awaited<ReturnType<MeshWatch['pullOnce']>>) => matrix.rows.find((row) => row.id === 'node-a')?.cells;
		const first = await watch.pullOnce();
		expect(cellsOfA(first)).toMatchObject({'node-a': 'alive', 'node-b': 'alive'});
		expect(exchanges.at(-1)!.since).toBeUndefined();
		const digest = (exchanges.at(-1)!.reply as Record<string, unknown>)['digest'];
		expect(digest).toMatch(/^[\da-f]{8}$/);

		// Nothing changed: the watch sends the digest back and gets no peers, and the row keeps its cells.
		const second = await watch.pullOnce();
		expect(exchanges.at(-1)!.since).toBe(digest);
		expect(exchanges.at(-1)!.reply).toMatchObject({unchanged: true, peers: []});
		expect(cellsOfA(second)).toEqual(cellsOfA(first));
		expect(second.rows.find((row) => row.id === 'node-a')!.error).toBeUndefined();

		// a stops hearing b: the old digest no longer matches, the table comes whole, and the cell follows.
		a.setInboundFault('node-b', {blackhole: true});
		await eventually('a no longer lists b alive', () => a.snapshot().peers.every((peer) => peer.id !== 'node-b' || peer.state !== 'alive'), 10_000);
		const third = await watch.pullOnce();
		expect(exchanges.at(-1)!.since).toBe(digest);
		expect(exchanges.at(-1)!.reply).not.toHaveProperty('unchanged');
		expect(cellsOfA(third)!['node-b']).not.toBe('alive');
		const next = (exchanges.at(-1)!.reply as Record<string, unknown>)['digest'];
		expect(next).not.toBe(digest);
		await watch.pullOnce();
		expect(exchanges.at(-1)!.since).toBe(next);
	}, 20_000);
});
