/**
`removePeer`: unsubscribing from a publisher takes the peers heard through it out of the coupling
sum at once, not a TTL later (a `--fanout` pick swapped out for another), unless the peer is still
heard through another link we hold. Real nodes on loopback; the TTL is long (10 s) so that a peer
left to age out would still be coupled long after the one tick these tests allow.
*/

import {afterEach, describe, expect, it} from 'vitest';
import {ChorusNode, type NodeEvent, type NodeSnapshot} from '../../source/mesh/node.js';
import {eventually, sleep, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';

const TTL_MS = 10_000;
const HZ = 10;

/** The peers in the coupling sum: heard within their TTL and not quarantined. */
function coupled(snapshot: NodeSnapshot): string[] {
	return snapshot.peers.filter((peer) => peer.state !== 'evicted' && peer.state !== 'quarantined').map((peer) => peer.id).sort();
}

const started: ChorusNode[] = [];
afterEach(async () => {
	await Promise.all(started.splice(0).map(async (node) => node.stop()));
});

async function startNode(id: string, bindEndpoint: string, more: {peerEndpoints?: string[]; advertiseHost?: string} = {}): Promise<ChorusNode> {
	const node = new ChorusNode(await testNodeOptions({
		id, bindEndpoint, ttlMs: TTL_MS, hz: HZ, peerEndpoints: more.peerEndpoints ?? [], ...(more.advertiseHost === undefined ? {} : {advertiseHost: more.advertiseHost}),
	}));
	started.push(node);
	await node.start();
	return node;
}

describe('removePeer', () => {
	it('takes the peer heard only through that link out of the coupled peers within one tick, and lets it join again', async () => {
		const b = await startNode('b', loopback(await freePort()));
		const c = await startNode('c', loopback(await freePort()));
		const a = await startNode('a', loopback(await freePort()), {peerEndpoints: [b.endpoint, c.endpoint]});
		const events: NodeEvent[] = [];
		a.on((event) => events.push(event));
		await eventually('a couples to b and c', () => coupled(a.snapshot()).join(',') === 'b,c', 10_000);

		const ticksBefore = a.snapshot().stats.ticks;
		a.removePeer(b.endpoint);
		await eventually('a ticked once since', () => a.snapshot().stats.ticks >= ticksBefore + 1, 2000, 5);
		// One tick of 100 ms, where the TTL would have kept b for 10 s.
		expect(coupled(a.snapshot())).toEqual(['c']);
		expect(events).toContainEqual(expect.objectContaining({kind: 'peer-removed', peer: 'b', endpoint: b.endpoint, reason: 'unsubscribed'}));
		// Nothing of b is left to bring it back, and c, on its own link, was not touched.
		await sleep(500);
		expect(coupled(a.snapshot())).toEqual(['c']);
		expect(events.filter((event) => event.peer === 'c' && (event.kind === 'peer-removed' || event.kind === 'peer-evicted'))).toEqual([]);

		a.addPeer(b.endpoint);
		await eventually('b is coupled again once its link is back', () => coupled(a.snapshot()).join(',') === 'b,c', 10_000);
	});

	it('keeps a peer that is still heard through the endpoint it announces, when another link to it is removed', async () => {
		// b binds every address and announces 127.0.0.1; a reaches it through 127.0.0.2 as well (loopback answers all of 127/8).
		const port = await freePort();
		const b = await startNode('b', `tcp://0.0.0.0:${port}`, {advertiseHost: '127.0.0.1'});
		const alias = `tcp://127.0.0.2:${port}`;
		const a = await startNode('a', loopback(await freePort()), {peerEndpoints: [alias]});
		const events: NodeEvent[] = [];
		a.on((event) => events.push(event));
		await eventually('a hears b through the alias', () => coupled(a.snapshot()).join(',') === 'b', 10_000);
		expect(a.snapshot().peers[0]?.endpoint).toBe(b.endpoint);

		// b was last heard through the alias; its announced endpoint is a link a holds from now on.
		a.addPeer(b.endpoint);
		a.removePeer(alias);
		const ticksBefore = a.snapshot().stats.ticks;
		await eventually('a ticked three times since', () => a.snapshot().stats.ticks >= ticksBefore + 3, 2000, 5);
		expect(coupled(a.snapshot())).toEqual(['b']);
		expect(events.filter((event) => event.kind === 'peer-removed' || event.kind === 'peer-evicted')).toEqual([]);

		// And once that link goes too, b goes at once.
		a.removePeer(b.endpoint);
		expect(coupled(a.snapshot())).toEqual([]);
	});
});
