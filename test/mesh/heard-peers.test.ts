/**
`heardPeers()`: the light read membership takes twice a second instead of a snapshot. It must name
the same peers as the snapshot's live ones, with the endpoints and incarnation membership trusts,
and drop a peer the moment the snapshot would. Real nodes on loopback.
*/

import {afterEach, describe, expect, it} from 'vitest';
import {ChorusNode} from '../../source/mesh/node.js';
import {eventually, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';

const started: ChorusNode[] = [];
afterEach(async () => {
	await Promise.all(started.splice(0).map(async (node) => node.stop()));
});

async function startNode(id: string, peerEndpoints: string[] = []): Promise<ChorusNode> {
	const node = new ChorusNode(await testNodeOptions({id, bindEndpoint: loopback(await freePort()), ttlMs: 10_000, hz: 10, peerEndpoints}));
	started.push(node);
	await node.start();
	return node;
}

describe('heardPeers', () => {
	it('lists the peers the snapshot shows live, with what they announce and the link they came through, and drops a removed one', async () => {
		const b = await startNode('b');
		b.announceControl('tcp://127.0.0.1:5999');
		const c = await startNode('c');
		const a = await startNode('a', [b.endpoint, c.endpoint]);
		await eventually('a hears b with its control endpoint, and c', () => {
			const heard = a.heardPeers();
			return heard.some((peer) => peer.id === 'b' && peer.control !== undefined) && heard.some((peer) => peer.id === 'c');
		}, 10_000);

		const live = a.snapshot().peers.filter((peer) => peer.state !== 'evicted' && peer.state !== 'quarantined').map((peer) => peer.id).sort();
		const heard = a.heardPeers();
		expect(heard.map((peer) => peer.id).sort()).toEqual(live);
		expect(heard.find((peer) => peer.id === 'b')).toMatchObject({endpoint: b.endpoint, via: b.endpoint, control: 'tcp://127.0.0.1:5999', incarnation: b.incarnation});
		expect(heard.find((peer) => peer.id === 'c')).toMatchObject({endpoint: c.endpoint, control: undefined, incarnation: c.incarnation});
		for (const peer of heard) {
			// Heard at 10 Hz: well within a second, never negative.
			expect(peer.silentForMs).toBeGreaterThanOrEqual(0);
			expect(peer.silentForMs).toBeLessThan(1000);
		}

		a.removePeer(b.endpoint);
		await eventually('b is gone from what a hears', () => a.heardPeers().every((peer) => peer.id !== 'b'), 2000, 5);
		expect(a.heardPeers().map((peer) => peer.id)).toEqual(['c']);
	});
});
