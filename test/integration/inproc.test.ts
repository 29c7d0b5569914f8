/**
Several nodes in one process over ZeroMQ's inproc:// transport (what the one-process scale benchmark
uses): they find each other whatever order they bind in, converge, and a stopped node is evicted.
*/

import {afterEach, describe, expect, it} from 'vitest';
import {ChorusNode} from '../../source/mesh/node.js';
import {eventually, nextEvent, testNodeOptions} from '../helpers/nodes.js';

const running: ChorusNode[] = [];

afterEach(async () => {
	await Promise.allSettled(running.splice(0).map(async (node) => node.stop()));
});

describe('nodes over inproc://', () => {
	it('form a full mesh (connecting before the peer binds), sync, and evict a stopped peer', async () => {
		const endpoints = ['a', 'b', 'c'].map((name) => `inproc://chorus-test-${name}-${process.pid}`);
		const nodes: ChorusNode[] = [];
		for (const [index, endpoint] of endpoints.entries()) {
			// eslint-disable-next-line no-await-in-loop
			const node = new ChorusNode(await testNodeOptions({
				id: `inproc-${index + 1}`,
				bindEndpoint: endpoint,
				peerEndpoints: endpoints.filter((other) => other !== endpoint),
				coupling: 4,
				omegaRadPerS: Math.PI + index * 0.1,
			}));
			nodes.push(node);
			running.push(node);
		}

		// One by one: the first connects to endpoints that nobody has bound yet.
		for (const node of nodes) {
			// eslint-disable-next-line no-await-in-loop
			await node.start();
		}

		expect(nodes.map((node) => node.endpoint)).toEqual(endpoints);
		await eventually(
			'every node lists both others as alive with r >= 0.9',
			() => nodes.every((node) => {
				const snapshot = node.snapshot();
				return snapshot.peers.filter((peer) => peer.state === 'alive').length === 2 && snapshot.node.r >= 0.9;
			}),
			15_000,
		);

		const evicted = nextEvent(nodes[0]!, (event) => event.kind === 'peer-evicted' && event.peer === 'inproc-3', 10_000);
		await nodes[2]!.stop();
		await evicted;
		expect(nodes[0]!.snapshot().peers.find((peer) => peer.id === 'inproc-2')?.state).toBe('alive');
		// No link reset or drop is reported for inproc links: the watchdog guards network paths only.
		const stats = nodes[0]!.snapshot().stats;
		expect(stats.rejected.oversize ?? 0).toBe(0);
	}, 30_000);
});
