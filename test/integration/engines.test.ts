/**
The built-in ZMTP engine and libzmq on one mesh: a node on each, over TCP loopback, admit each other
both ways and converge, so that a mesh can mix them (and CURVE nodes, which always use libzmq,
speak the same wire as everyone else).
*/

import {afterEach, describe, expect, it} from 'vitest';
import {ChorusNode} from '../../source/mesh/node.js';
import {freePorts, loopback} from '../helpers/ports.js';
import {eventually, testNodeOptions} from '../helpers/nodes.js';

const running: ChorusNode[] = [];

afterEach(async () => {
	await Promise.allSettled(running.splice(0).map(async (node) => node.stop()));
});

describe('engines on one mesh', () => {
	it('a built-in node and a libzmq node admit each other and sync', async () => {
		const [portA, portB] = await freePorts(2);
		const a = new ChorusNode(await testNodeOptions({
			id: 'builtin-node',
			bindEndpoint: loopback(portA!),
			peerEndpoints: [loopback(portB!)],
			coupling: 4,
			transport: {engine: 'builtin'},
		}));
		const b = new ChorusNode(await testNodeOptions({
			id: 'libzmq-node',
			bindEndpoint: loopback(portB!),
			peerEndpoints: [loopback(portA!)],
			coupling: 4,
			omegaRadPerS: Math.PI + 0.2,
			transport: {engine: 'libzmq'},
		}));
		running.push(a, b);
		await a.start();
		await b.start();
		await eventually(
			'each node has admitted the other for a while and r >= 0.95',
			() => [a, b].every((node) => {
				const snapshot = node.snapshot();
				return snapshot.peers.some((peer) => peer.state === 'alive') && snapshot.stats.admitted > 10 && snapshot.node.r >= 0.95;
			}),
			15_000,
		);
		for (const node of [a, b]) {
			const {stats} = node.snapshot();
			expect(stats.admitted).toBeGreaterThan(10);
			expect(Object.values(stats.rejected).reduce((sum, count) => sum + (count ?? 0), 0)).toBe(0);
		}
	}, 30_000);
});
