/**
Gossip with digests, on real nodes and real control planes (MeshSession, as `chorus-tui --headless`
runs it, four in this process over TCP loopback): a steady mesh's pulls come back `unchanged` (each
pull sends the digest of the asker's own list), and a change that only gossip carries (a legacy node
one member learned of) still reaches every member. A settled mesh pulls less often (pace.ts), and a
change quickens the members it meets.
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

type Mesh = {sessions: MeshSession[]; legacy: ChorusNode};

/** Four members joined through the first, and a node with no control plane that none of them knows yet. */
async function startMesh(gossipInterval: string): Promise<Mesh> {
	const ports = await freePorts(4);
	const seed = loopback(ports[0]!);
	// A node with no control plane: what the others learn of it, they learn from the one given it.
	const legacy = new ChorusNode(await testNodeOptions({id: 'legacy'}));
	await legacy.start();
	const sessions: MeshSession[] = [];
	cleanups.push(async () => {
		await Promise.all(sessions.map(async (session) => session.stop()));
		await legacy.stop();
	});
	const configFor = (index: number) => resolveConfig({
		id: `g${index}`, bind: String(ports[index]), demo: '0', gossipInterval, seed: String(index + 1),
		...(index === 0 ? {} : {join: [seed]}),
	});
	for (let index = 0; index < 4; index++) {
		sessions.push(new MeshSession(configFor(index)));
		await sessions[index]!.start();
	}

	await eventually('all four know all four', () => sessions.every((session) => alive(session).length === 4), 20_000);
	return {sessions, legacy};
}

function alive(session: MeshSession): string[] {
	return (session.snapshot().members ?? []).filter((member) => member.state === 'alive').map((member) => member.id).sort();
}

/** One member learns of the legacy node, as gossip would bring it: its list, and its digest, are no longer the others'. */
function teachOne({sessions, legacy}: Mesh): void {
	sessions[1]!.membership!.merge([{id: 'legacy', endpoint: legacy.endpoint, incarnation: legacy.incarnation, state: 'alive', legacy: true, changedAtMs: Date.now()}]);
}

describe('gossip with digests', () => {
	test('a steady mesh\'s pulls come back unchanged; a member only gossip names still reaches everyone', async () => {
		const mesh = await startMesh('0.3');
		const {sessions} = mesh;
		const before = sessions.map((session) => session.membership!.stats());
		await eventually('pulls answered unchanged on every member', () => sessions.every((session, index) =>
			session.membership!.stats().pullsUnchanged - before[index]!.pullsUnchanged >= 3), 10_000);

		// Their pulls from the one that knows get the list, and pulls between them once one has it.
		teachOne(mesh);
		await eventually('every member lists the legacy node', () => sessions.every((session) => alive(session).includes('legacy')), 20_000);
		await eventually('every member subscribed to the legacy node and hears it', () => sessions.every((session) =>
			session.node.snapshot().peers.some((peer) => peer.id === 'legacy' && peer.state === 'alive')), 20_000);
		for (const session of sessions) {
			const stats = session.membership!.stats();
			expect(stats.pullsUnchanged).toBeLessThan(stats.pulls);
		}
	}, 60_000);

	test('a settled mesh pulls 8 times less often, and a change quickens every member it meets', async () => {
		const mesh = await startMesh('1');
		const {sessions} = mesh;
		// Unchanged pulls after 1, 2 and 4 s: the wait is 8 s on every member.
		await eventually('every member settled to one pull every 8 s', () => sessions.every((session) => session.membership!.stats().pullEveryMs === 8000), 30_000);

		teachOne(mesh);
		const taughtAt = performance.now();
		// The one taught quickens at once; each member it pulls sees another digest and quickens too.
		await eventually('the taught member and one it pulled are back at a pull a second', () =>
			sessions.filter((session) => session.membership!.stats().pullEveryMs === 1000).length >= 2, 5000, 20);
		await eventually('every member lists the legacy node', () => sessions.every((session) => alive(session).includes('legacy')), 30_000);
		console.log(`a member only one knew reached all four ${Math.round(performance.now() - taughtAt)} ms after, from a settled mesh (8 s between pulls)`);
	}, 60_000);
});
