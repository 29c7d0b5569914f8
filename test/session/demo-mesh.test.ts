// Demo peers run their control plane, so that a session with demo peers alone shows the full mesh
// view (`npx chorus-tui`): a row and a column for every demo peer, every cell alive; and the mesh
// faults reach them through it.
import {afterAll, describe, expect, it} from 'vitest';
import {resolveConfig} from '../../source/config.js';
import {MeshSession} from '../../source/session/session.js';
import {portWithFreeNext} from '../cluster/control-helpers.js';
import {eventually} from '../helpers/nodes.js';

let session: MeshSession | undefined;
afterAll(async () => {
	await session?.stop();
});

describe('a session with demo peers', () => {
	it('shows a full matrix of itself and its demo peers, all alive, and partitions them in halves', async () => {
		session = new MeshSession(resolveConfig({id: 'hub', bind: String(await portWithFreeNext()), demo: '3', ttl: '2', seed: '3'}));
		await session.start();
		await session.demoPeersReady();
		session.watchMesh(true);
		const ids = ['hub', 'demo-1', 'demo-2', 'demo-3'];
		const full = await eventually('a 4 × 4 matrix, every cell alive', () => {
			const matrix = session!.meshMatrix();
			const complete = matrix?.rows.length === 4
				&& matrix.rows.every((row) => ids.every((id) => row.cells[id] === 'alive'));
			return complete ? matrix : undefined;
		}, 20_000);
		expect(full.columns.map((column) => [column.id, column.legacy])).toEqual([['hub', false], ['demo-1', false], ['demo-2', false], ['demo-3', false]]);
		expect(full.rows.every((row) => row.error === undefined && row.phase !== undefined)).toBe(true);

		// Halves: demo-1 and demo-2 | demo-3 and hub. The hub's own blackholes must cut only its links to
		// demo-1 and demo-2 (not everything those processes hear), so demo-1 and demo-2 still hear each other.
		const halves = await session.partition('halves', undefined);
		expect(halves.message).toMatch(/partition halves set on 4 of 4 \(2 \| 2\)/);
		const sides = [['demo-1', 'demo-2'], ['demo-3', 'hub']];
		const expected = (row: string, column: string) => (row === column || sides.some((side) => side.includes(row) && side.includes(column)) ? 'alive' : 'evicted');
		await eventually('cross cells evicted, cells inside a half alive, on every row', () => {
			const matrix = session!.meshMatrix();
			return matrix?.rows.length === 4 && matrix.rows.every((row) => ids.every((id) => row.cells[id] === expected(row.id, id)));
		}, 10_000);
		expect((await session.clearAll()).message).toMatch(/cleared on 4 of 4/);
		session.watchMesh(false);
	}, 40_000);
});
