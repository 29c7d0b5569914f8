// The mesh matrix in a recording: compact and back again, bounded in bytes a second, and written
// by a real session's watch through --record's wiring.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {resolveConfig} from '../../source/config.js';
import {readRecording} from '../../source/report/recording/reader.js';
import {Recorder, recordingActions} from '../../source/report/recording/recorder.js';
import {ReplayPlayer} from '../../source/run/replay-player.js';
import {MATRIX_BYTES_PER_S, recordMatrices, startSessionRecording} from '../../source/report/recording/session-recording.js';
import type {MeshCellState, MeshMatrix} from '../../source/session/controller.js';
import {decodeMatrix, encodeMatrix} from '../../source/session/mesh-record.js';
import {MeshSession} from '../../source/session/session.js';
import {portWithFreeNext} from '../cluster/control-helpers.js';

const directory = mkdtempSync(path.join(tmpdir(), 'chorus-mesh-record-'));
afterAll(() => {
	rmSync(directory, {recursive: true, force: true});
});

function squareMatrix(size: number): MeshMatrix {
	const ids = Array.from({length: size}, (_, index) => `m-${String(index).padStart(4, '0')}`);
	const states: MeshCellState[] = ['alive', 'suspect', 'evicted', 'never'];
	return {
		columns: ids.map((id, index) => ({id, legacy: index === 1, observer: index === 2})),
		rows: ids.filter((_, index) => index !== 1).map((id, row) => ({
			id,
			cells: Object.fromEntries(ids.map((column, index) => [column, states[(row + index) % 4]!])),
			ageMs: row,
			phase: row / 10,
			localR: 0.5,
			...(row === 3 ? {error: 'timeout'} : {}),
		})),
		globalR: 0.75,
		partition: {shape: 'halves', groups: [ids.slice(0, size / 2), ids.slice(size / 2)], groupR: [1, undefined]},
		pulledAtWallMs: 1_700_000_000_000,
	};
}

describe('mesh matrix records', () => {
	it('encode one letter a cell and decode to the same matrix', () => {
		const matrix = squareMatrix(8);
		const record = encodeMatrix(matrix);
		expect(record.rows[0]!.cells).toBe('asx.asx.');
		// Through JSON, as a recording stores it (an undefined group r is null there).
		// eslint-disable-next-line unicorn/prefer-structured-clone -- JSON's own rules are the point, not a copy.
		const throughJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
		expect(decodeMatrix(throughJson(record))).toEqual(throughJson(matrix));
		expect(decodeMatrix({something: 'else'})).toBeUndefined();
		// 200 × 200 stays near 45 KB.
		expect(JSON.stringify(encodeMatrix(squareMatrix(200))).length).toBeLessThan(60_000);
	});

	it('keep a recording within its bytes a second, whatever the size of the mesh', async () => {
		const file = path.join(directory, 'budget.ndjson');
		const recorder = await Recorder.open(file, {flags: {}, mode: 'tui', ttlMs: 5000});
		let emit: (matrix: MeshMatrix) => void = () => {};
		let nowMs = 0;
		const stop = recordMatrices({
			onMeshMatrix(listener) {
				emit = listener;
				return () => {};
			},
		}, recorder, () => nowMs);
		const big = squareMatrix(400);
		// A pull a second for 40 s.
		for (let second = 0; second < 40; second++) {
			nowMs = second * 1000;
			emit(big);
		}

		stop();
		await recorder.close();
		const views = (await readRecording(file)).records.filter((record) => record.type === 'view');
		const bytes = JSON.stringify(encodeMatrix(big)).length;
		expect(views.length).toBeGreaterThan(1);
		expect(views.length * bytes).toBeLessThanOrEqual(MATRIX_BYTES_PER_S * 40 + bytes);
	});

	it('are written while a recording session watches its mesh, and the mesh actions with them', async () => {
		const file = path.join(directory, 'session.ndjson');
		const config = resolveConfig({id: 'rec', bind: String(await portWithFreeNext()), demo: '0', record: file});
		const session = new MeshSession(config);
		const recording = await startSessionRecording(config, session, 'tui');
		try {
			await session.start();
			// What the UI holds with --record: the session's mesh calls pass through, its actions are recorded.
			const controller = recordingActions(session, recording!.recorder);
			controller.watchMesh!(true);
			await new Promise((resolve) => setTimeout(resolve, 2500));
			expect(controller.meshMatrix!()?.rows).toHaveLength(1);
			expect((await controller.clearAll!()).ok).toBe(true);
		} finally {
			await session.stop();
			await recording!.stop();
		}

		const recorded = await readRecording(file);
		const {records} = recorded;
		expect(records.some((record) => record.type === 'action' && record.action === 'clear-all' && record.ok)).toBe(true);
		const views = records.filter((record) => record.type === 'view');
		expect(views.length).toBeGreaterThanOrEqual(2);
		const matrix = decodeMatrix(views.at(-1)!.view);
		expect(matrix?.rows.map((row) => row.id)).toEqual(['rec']);
		expect(matrix?.rows[0]!.cells).toEqual({rec: 'alive'});
		expect(matrix?.globalR).toBeCloseTo(1, 9);

		// And a replay shows it: `m` in `chorus-tui replay` reads the matrix the player reached.
		const player = new ReplayPlayer(recorded.header, records, {play: false});
		expect(player.session.meshMatrix()).toBeUndefined();
		player.seek(player.endMs);
		expect(player.session.meshMatrix()?.rows[0]!.cells).toEqual({rec: 'alive'});
		player.seek(player.startMs);
		expect(player.session.meshMatrix()).toBeUndefined();
		player.stop();
	});
});
