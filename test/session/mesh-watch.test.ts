// The mesh view's data from real parts: four sessions in this process on loopback, each with its
// control plane and membership, and one legacy node with none. The first session watches the mesh,
// sets a partition on every member, and clears it.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {partitionPlan} from '../../source/cluster/partition-shapes.js';
import {resolveConfig} from '../../source/config.js';
import {ChorusNode} from '../../source/mesh/node.js';
import type {MeshMatrix, SessionEvent} from '../../source/session/controller.js';
import {MeshSession} from '../../source/session/session.js';
import {portWithFreeNext} from '../cluster/control-helpers.js';
import {eventually, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';

const TTL_S = 2;
const IDS = ['m-1', 'm-2', 'm-3', 'm-4'];
const sessions: MeshSession[] = [];
let legacy: ChorusNode;
const events: SessionEvent[] = [];

/** Every member's row lists every other member in these states (self: alive). */
function cellsOf(matrix: MeshMatrix | undefined, row: string): Record<string, string> | undefined {
	return matrix?.rows.find((entry) => entry.id === row)?.cells;
}

function allAlive(matrix: MeshMatrix | undefined): boolean {
	return IDS.every((row) => {
		const cells = cellsOf(matrix, row);
		return cells !== undefined && [...IDS, 'legacy'].every((column) => cells[column] === 'alive');
	});
}

beforeAll(async () => {
	const ports = [];
	for (let index = 0; index < IDS.length; index++) {
		ports.push(await portWithFreeNext());
	}

	const legacyPort = await freePort();
	const endpoints = ports.map((port) => loopback(port));
	legacy = new ChorusNode(await testNodeOptions({id: 'legacy', bindEndpoint: loopback(legacyPort), peerEndpoints: endpoints, ttlMs: TTL_S * 1000}));
	await legacy.start();
	for (const [index, id] of IDS.entries()) {
		const config = resolveConfig({
			id,
			bind: String(ports[index]),
			peer: [...endpoints.filter((_, other) => other !== index), loopback(legacyPort)],
			demo: '0',
			ttl: String(TTL_S),
			seed: String(index + 1),
			faultLease: '3',
			gossipInterval: '0.5',
		});
		const session = new MeshSession(config, index === 0 ? {onEvent: (event) => events.push(event)} : {});
		sessions.push(session);
		await session.start();
	}
}, 30_000);

afterAll(async () => {
	await Promise.all(sessions.map(async (session) => session.stop()));
	await legacy?.stop();
});

describe('mesh watch over real sessions', () => {
	it('shows every member alive, legacy as a column with no row; a partition turns the cross cells evicted on every row; clearing heals', async () => {
		const console_ = sessions[0]!;
		// Members are known once each has heard the others announce their control plane.
		await eventually('the console knows every member with its control plane', () => {
			const members = console_.members();
			return IDS.every((id) => members.some((member) => member.id === id && (id === 'm-1' || member.control !== undefined))) && members.some((member) => member.id === 'legacy');
		}, 15_000);
		console_.watchMesh(true);
		await eventually('an 4-row matrix, all alive', () => allAlive(console_.meshMatrix()), 10_000);
		const matrix = console_.meshMatrix()!;
		expect(matrix.columns.map((column) => column.id)).toEqual(['m-1', 'legacy', 'm-2', 'm-3', 'm-4']);
		expect(matrix.columns.find((column) => column.id === 'legacy')).toMatchObject({legacy: true});
		expect(matrix.rows.map((row) => row.id)).toEqual(IDS);
		expect(matrix.globalR).toBeGreaterThan(0);
		expect(matrix.globalR).toBeLessThanOrEqual(1);

		const result = await console_.partition('halves', undefined);
		const setAtMs = performance.now();
		expect(result.ok).toBe(true);
		expect(result.message).toMatch(/partition halves set on 4 of 4/);
		expect(result.message).toMatch(/legacy has no control plane: cut one way only/);
		const plan = partitionPlan([...IDS, 'legacy'], 'halves');
		const crossCellsEvicted = (candidate: MeshMatrix | undefined) => IDS.every((row) => {
			const cells = cellsOf(candidate, row);
			return cells !== undefined && [...plan.blackholes.get(row)!].every((peer) => cells[peer] === 'evicted');
		});
		const partitioned = await eventually('cross-half cells evicted on every row', () => (crossCellsEvicted(console_.meshMatrix()) ? console_.meshMatrix() : undefined), 15_000);
		const evictedAfterMs = performance.now() - setAtMs;
		console.log(`halves: cross cells evicted on every row ${Math.round(evictedAfterMs)} ms after the partition was set (TTL ${TTL_S} s)`);
		// TTL + 1 s, plus the pull's own second: the matrix is at most one round old.
		expect(evictedAfterMs).toBeLessThan((TTL_S + 1) * 1000 + 1500);
		// Inside a half, everyone still hears everyone.
		for (const row of IDS) {
			const cells = cellsOf(partitioned, row)!;
			for (const peer of IDS.filter((id) => id !== row && !plan.blackholes.get(row)!.has(id))) {
				expect(cells[peer], `${row} hears ${peer}`).toBe('alive');
			}
		}

		expect(partitioned.partition).toMatchObject({shape: 'halves', groups: plan.groups});
		expect(partitioned.partition!.groupR).toHaveLength(2);
		expect(events.some((event) => event.kind === 'mesh-partition' && event['shape'] === 'halves')).toBe(true);
		// Held beyond its lease (3 s): the session renews it.
		await new Promise((resolve) => setTimeout(resolve, 4000));
		expect(crossCellsEvicted(console_.meshMatrix())).toBe(true);

		const cleared = await console_.clearAll();
		const clearedAtMs = performance.now();
		expect(cleared).toMatchObject({ok: true});
		expect(cleared.message).toMatch(/cleared on 4 of 4/);
		await eventually('every cell alive again', () => allAlive(console_.meshMatrix()), 15_000);
		const healedAfterMs = performance.now() - clearedAtMs;
		console.log(`clear: every cell alive ${Math.round(healedAfterMs)} ms after clearAll`);
		expect(healedAfterMs).toBeLessThan(2000 + TTL_S * 1000 + 1500);
		expect(console_.meshMatrix()!.partition).toBeUndefined();
		console_.watchMesh(false);
	}, 40_000);

	it('sets a fault on a remote member through its control plane, and acts locally for a legacy one', async () => {
		const console_ = sessions[0]!;
		const remote = await console_.setMemberFault('m-3', {direction: 'inbound', target: 'm-2', fault: {drop: 0.5}});
		expect(remote).toMatchObject({ok: true});
		expect(remote.message).toMatch(/drop 50% on m-3 \(inbound from m-2\), lease 3 s/);
		expect(sessions[2]!.node.faults().peers['m-2']?.drop).toBe(0.5);

		const local = await console_.setMemberFault('legacy', {direction: 'outbound', fault: {delayMs: 100}});
		expect(local.message).toMatch(/acted locally: legacy has no control plane/);
		expect(console_.node.faults().peers['legacy']?.delayMs).toBe(100);

		const unknown = await console_.setMemberFault('nobody', {direction: 'outbound', fault: {drop: 0.1}});
		expect(unknown).toMatchObject({ok: false, message: 'nobody is not a member this node knows'});
		await console_.clearAll();
		expect(sessions[2]!.node.faults().peers['m-2']).toBeUndefined();
	}, 20_000);
});
