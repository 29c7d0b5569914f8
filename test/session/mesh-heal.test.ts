// Heal time after a long partition, from real parts: four sessions on loopback that found each other
// through `--join` (so membership, not --peer, owns their data links). A halves partition is held
// well past the TTL, long enough for membership's redial backoff to grow (1, 2, 4 s…) had it dropped
// the silenced links; then clearAll must bring every cell of the matrix back to alive within 2 s and
// one watch round.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {resolveConfig} from '../../source/config.js';
import type {MeshMatrix} from '../../source/session/controller.js';
import {MeshSession} from '../../source/session/session.js';
import {portWithFreeNext} from '../cluster/control-helpers.js';
import {eventually} from '../helpers/nodes.js';
import {loopback} from '../helpers/ports.js';

const TTL_S = 1;
const HOLD_MS = 6000;
/** The matrix is pulled about once a second: one round of margin on top of the 2 s the issue asks for. */
const HEAL_BOUND_MS = 2000 + 1000;
const IDS = ['h-1', 'h-2', 'h-3', 'h-4'];
const sessions: MeshSession[] = [];

function cells(matrix: MeshMatrix | undefined, row: string): Record<string, string> | undefined {
	return matrix?.rows.find((entry) => entry.id === row)?.cells;
}

function allAlive(matrix: MeshMatrix | undefined): boolean {
	return IDS.every((row) => IDS.every((column) => cells(matrix, row)?.[column] === 'alive'));
}

beforeAll(async () => {
	const ports = [];
	for (let index = 0; index < IDS.length; index++) {
		ports.push(await portWithFreeNext());
	}

	for (const [index, id] of IDS.entries()) {
		const config = resolveConfig({
			id,
			bind: String(ports[index]),
			...(index === 0 ? {} : {join: [loopback(ports[0]!)]}),
			demo: '0',
			ttl: String(TTL_S),
			seed: String(index + 1),
			faultLease: '30',
			gossipInterval: '0.5',
		});
		const session = new MeshSession(config, {});
		sessions.push(session);
		await session.start();
	}
}, 30_000);

afterAll(async () => {
	await Promise.all(sessions.map(async (session) => session.stop()));
});

describe('heal after a partition held past the TTL and the redial backoff', () => {
	it('brings every cell back to alive within 2 s (and one watch round) of clearAll', async () => {
		const console_ = sessions[0]!;
		await eventually('the console knows every member with its control plane', () => {
			const members = console_.members();
			return IDS.every((id) => members.some((member) => member.id === id && (id === IDS[0] || member.control !== undefined)));
		}, 20_000);
		console_.watchMesh(true);
		await eventually('a 4-row matrix, all alive', () => allAlive(console_.meshMatrix()), 15_000);

		expect(await console_.partition('halves', undefined)).toMatchObject({ok: true});
		await eventually('some cross cells evicted', () => IDS.some((row) => Object.values(cells(console_.meshMatrix(), row) ?? {}).includes('evicted')), 10_000);
		// Six TTLs: membership calls the other half dead; a dropped link would now be 4 s from its next dial.
		await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
		expect(allAlive(console_.meshMatrix())).toBe(false);

		const cleared = await console_.clearAll();
		const clearedAtMs = performance.now();
		expect(cleared).toMatchObject({ok: true});
		await eventually('every cell alive again', () => allAlive(console_.meshMatrix()), 15_000, 50);
		const healedAfterMs = performance.now() - clearedAtMs;
		console.log(`clear after a ${HOLD_MS} ms partition (TTL ${TTL_S} s): every cell alive ${Math.round(healedAfterMs)} ms after clearAll`);
		expect(healedAfterMs).toBeLessThan(HEAL_BOUND_MS);
		console_.watchMesh(false);
	}, 60_000);
});
