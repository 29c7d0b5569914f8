/**
Every reason a frame can be refused, each with a real frame on a real socket: the node counts it and
keeps running.
*/

import {afterEach, describe, expect, it} from 'vitest';
import {ChorusNode} from '../../source/mesh/node.js';
import {MAX_MESSAGE_BYTES} from '../../source/mesh/model/wire.js';
import {eventually, nextEvent, RawPeer, sleep, testNodeOptions} from '../helpers/nodes.js';

let node: ChorusNode | undefined;
let peer: RawPeer | undefined;

afterEach(async () => {
	await node?.stop();
	peer?.close();
	node = undefined;
	peer = undefined;
});

async function nodeWithRawPeer(overrides = {}): Promise<{node: ChorusNode; peer: RawPeer}> {
	peer = await new RawPeer().bind();
	node = new ChorusNode(await testNodeOptions({peerEndpoints: [peer.endpoint], ...overrides}));
	const subscribed = peer.waitForSubscriber();
	await node.start();
	await subscribed;
	return {node, peer};
}

const valid = (id: string, lamport: number, extra = '') =>
	`{"node_id": "${id}", "phase": 0.5, "lamport_time": ${lamport}${extra}}`;

describe('a refused frame is counted and never stops the node', () => {
	it.each([
		// Short: depth is checked at every size, not only where parsing would be slow.
		['too-deep', `{"node_id": "x", "phase": 1, "lamport_time": 1, "x": ${'['.repeat(40)}${']'.repeat(40)}}`],
		['malformed-json', '{"node_id": "x", "phase": NaN, "lamport_time": 1}'],
		['malformed-json', Buffer.from([0x7b, 0xc3, 0x28, 0x7d])],
		['not-object', '[]'],
		['missing-field', '{"node_id": "x", "phase": 1}'],
		['bad-type', '{"node_id": "x", "phase": "1", "lamport_time": 1}'],
		['non-finite', '{"node_id": "x", "phase": 1e999, "lamport_time": 1}'],
		['own-id', valid('node-under-test', 1)],
		// To a node with no live peer: the bound holds, peers or no peers.
		['lamport-jump', valid('x', Number.MAX_SAFE_INTEGER)],
		['incarnation-ahead', valid('x', 1, `, "incarnation": ${Number.MAX_SAFE_INTEGER}`)],
	])('%s', async (reason, frame) => {
		const {node, peer} = await nodeWithRawPeer();
		const ticksBefore = node.snapshot().stats.ticks;
		await peer.send(frame);
		await eventually(`${reason} counted`, () => node.snapshot().stats.rejected[reason as 'stale'] === 1, 3000);
		const {stats, peers, node: self} = node.snapshot();
		expect(stats.received).toBe(1);
		expect(stats.admitted).toBe(0);
		expect(peers).toEqual([]);
		// Our own ticks and nothing else: the refused stamp did not move the clock.
		expect(self.lamport).toBeLessThan(1000);
		await eventually('the node keeps ticking', () => node.snapshot().stats.ticks > ticksBefore + 2, 3000);
	});

	it('multipart', async () => {
		const {node, peer} = await nodeWithRawPeer();
		await peer.send([valid('x', 1), valid('x', 2)]);
		await eventually('multipart counted', () => node.snapshot().stats.rejected.multipart === 1, 3000);
		expect(node.snapshot().peers).toEqual([]);
		expect(node.snapshot().stats).toMatchObject({received: 1, admitted: 0});
	});

	it('stale', async () => {
		const {node, peer} = await nodeWithRawPeer();
		await peer.send(valid('x', 10));
		await peer.send(valid('x', 9));
		await eventually('stale counted', () => node.snapshot().stats.rejected.stale === 1, 3000);
		expect(node.snapshot().peers[0]).toMatchObject({id: 'x', lamport: 10});
		expect(node.snapshot().stats).toMatchObject({received: 2, admitted: 1});
	});

	it('lamport-jump', async () => {
		const {node, peer} = await nodeWithRawPeer({maxLamportJump: 1000});
		await peer.send(valid('x', 10));
		await eventually('x admitted', () => node.snapshot().stats.admitted === 1, 3000);
		const quarantined = nextEvent(node, (event) => event.kind === 'peer-quarantined', 3000);
		await peer.send(valid('x', 9_000_000));
		expect(await quarantined).toMatchObject({peer: 'x', reason: 'lamport-jump'});
		expect(node.snapshot().stats.rejected['lamport-jump']).toBe(1);
		expect(node.snapshot().peers[0]).toMatchObject({id: 'x', state: 'quarantined', lamport: 10});
		// Its own ticks since, nowhere near the leap.
		expect(node.snapshot().node.lamport).toBeLessThan(1000);
	});

	it('peer-limit', async () => {
		const {node, peer} = await nodeWithRawPeer({maxPeers: 2});
		for (const id of ['a', 'b', 'c']) {
			await peer.send(valid(id, 5));
		}

		await eventually('peer-limit counted', () => node.snapshot().stats.rejected['peer-limit'] === 1, 3000);
		expect(node.snapshot().peers.map((p) => p.id).sort()).toEqual(['a', 'b']);
		expect(node.snapshot().stats).toMatchObject({received: 3, admitted: 2});
	});

	it('oversize: the connection is restored and the peer admitted again within 2 s', async () => {
		const {node, peer} = await nodeWithRawPeer();
		await peer.send(valid('x', 1));
		await eventually('x admitted', () => node.snapshot().stats.admitted === 1, 3000);
		const dropped = nextEvent(node, (event) => event.kind === 'connection-dropped', 3000);
		await peer.send(valid('x', 2, `, "pad": "${'y'.repeat(MAX_MESSAGE_BYTES + 10)}"`));
		const droppedEvent = await dropped;
		expect(droppedEvent.endpoint).toBe(peer.endpoint);
		const droppedAt = performance.now();
		expect(node.snapshot().stats.rejected.oversize).toBe(1);

		// The peer goes on publishing as a real one would; its next messages must get through.
		let lamport = 3;
		let admittedAt: number | undefined;
		while (performance.now() - droppedAt < 5000) {
			await peer.send(valid('x', lamport++));

			await sleep(50);
			// Lamport 2 was the oversized frame: anything above is a message from after the drop.
			if ((node.snapshot().peers[0]?.lamport ?? 0) > 2) {
				admittedAt = performance.now();
				break;
			}
		}

		expect(admittedAt, 'the peer was admitted again').toBeDefined();
		expect(admittedAt! - droppedAt).toBeLessThan(2000);
		expect(node.snapshot().stats.received).toBe(node.snapshot().stats.admitted + 1);
	});
});
