/**
Gossip with digests, on real nodes and real control planes (MeshSession, as `chorus-tui --headless`
runs it, four in this process over TCP loopback): a steady mesh's pulls come back `unchanged` (each
pull sends the digest of the asker's own list), and a change that only gossip carries (a legacy node
one member learned of) still reaches every member.
*/

import {afterEach, describe, expect, test} from 'vitest';
import {resolveConfig} from '../../source/config.js';
import {ChorusNode} from '../../source/mesh/node.js';
import {MeshSession} from '../../source/session/session.js';
import {eventually, testNodeOptions} from '../helpers/nodes.js';
import {freePorts, loopback} from '../helpers/ports.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).toReversed()) {
		await cleanup();
	}
});

describe('gossip with digests', () => {
	test('a steady mesh\'s pulls come back unchanged; a member only gossip names still reaches everyone', async () => {
		const ports = await freePorts(4);
		const seed = loopback(ports[0]!);
		// A node with no control plane: what the others learn of it, they learn from the one given it as --peer.
		const legacy = new ChorusNode(await testNodeOptions({id: 'legacy'}));
		await legacy.start();
		const sessions: MeshSession[] = [];
		cleanups.push(async () => {
			await Promise.all(sessions.map(async (session) => session.stop()));
			await legacy.stop();
		});
		const configFor = (index: number) => resolveConfig({
			id: `g${index}`, bind: String(ports[index]), demo: '0', gossipInterval: '0.3', seed: String(index + 1),
			...(index === 0 ? {} : {join: [seed]}),
		});
		for (let index = 0; index < 4; index++) {
			sessions.push(new MeshSession(configFor(index)));
			await sessions[index]!.start();
		}

		const alive = (session: MeshSession) => (session.snapshot().members ?? []).filter((member) => member.state === 'alive').map((member) => member.id).sort();
		await eventually('all four know all four', () => sessions.every((session) => alive(session).length === 4), 20_000);
		const before = sessions.map((session) => session.membership!.stats());
		await eventually('pulls answered unchanged on every member', () => sessions.every((session, index) =>
			session.membership!.stats().pullsUnchanged - before[index]!.pullsUnchanged >= 3), 10_000);

		// Now one member learns of the legacy node (as gossip would bring it): its list, and its digest, are
		// no longer the others'. Their pulls from it get the list, and pulls between them once one has it.
		sessions[1]!.membership!.merge([{id: 'legacy', endpoint: legacy.endpoint, incarnation: legacy.incarnation, state: 'alive', legacy: true, changedAtMs: Date.now()}]);
		await eventually('every member lists the legacy node', () => sessions.every((session) => alive(session).includes('legacy')), 20_000);
		await eventually('every member subscribed to the legacy node and hears it', () => sessions.every((session) =>
			session.node.snapshot().peers.some((peer) => peer.id === 'legacy' && peer.state === 'alive')), 20_000);
		for (const session of sessions) {
			const stats = session.membership!.stats();
			expect(stats.pullsUnchanged).toBeLessThan(stats.pulls);
		}
	}, 60_000);
});
