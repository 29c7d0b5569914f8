/**
Several nodes in one process over inproc:// (what the one-process scale benchmark uses), on the
built-in in-memory engine and on libzmq's inproc: they find each other whatever order they bind in,
converge, a stopped node is evicted, and a node started again on the same endpoint is taken back.
*/

import {afterEach, describe, expect, it} from 'vitest';
import type {EngineChoice} from '../../source/mesh/net/engine/select.js';
import {ChorusNode, type NodeOptions} from '../../source/mesh/node.js';
import {eventually, nextEvent, testNodeOptions} from '../helpers/nodes.js';

const running: ChorusNode[] = [];

afterEach(async () => {
	await Promise.allSettled(running.splice(0).map(async (node) => node.stop()));
});

describe.each<[EngineChoice]>([['builtin'], ['libzmq']])('nodes over inproc:// (engine %s)', (engine) => {
	it('form a full mesh (connecting before the peer binds), sync, evict a stopped peer and take it back', async () => {
		const endpoints = ['a', 'b', 'c'].map((name) => `inproc://chorus-test-${engine}-${name}-${process.pid}`);
		const optionsOf: NodeOptions[] = [];
		const nodes: ChorusNode[] = [];
		for (const [index, endpoint] of endpoints.entries()) {
			const options = await testNodeOptions({
				id: `inproc-${index + 1}`,
				bindEndpoint: endpoint,
				peerEndpoints: endpoints.filter((other) => other !== endpoint),
				coupling: 4,
				omegaRadPerS: Math.PI + index * 0.1,
				transport: {engine},
			});
			const node = new ChorusNode(options);
			optionsOf.push(options);
			nodes.push(node);
			running.push(node);
		}

		// One by one: the first connects to endpoints that nobody has bound yet.
		for (const node of nodes) {
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
		expect(nodes[0]!.snapshot().stats.rejected.oversize ?? 0).toBe(0);

		// The same endpoint bound again (a node restarted in this process): the others take it back.
		// libzmq's inproc does not re-establish a connection to an endpoint bound anew, which is one
		// reason the built-in engine serves inproc:// by default.
		if (engine === 'libzmq') {
			return;
		}

		const restarted = new ChorusNode(optionsOf[2]!);
		running.push(restarted);
		const back = nextEvent(nodes[0]!, (event) => ['peer-joined', 'peer-rejoined', 'peer-restarted'].includes(event.kind) && 'peer' in event && event.peer === 'inproc-3', 10_000);
		await restarted.start();
		await back;
		await eventually(
			'the restarted node lists both others as alive',
			() => restarted.snapshot().peers.filter((peer) => peer.state === 'alive').length === 2,
			10_000,
		);
	}, 40_000);
});
