/**
The mesh view (`m`) as the terminal shows it, rendered by the real App (ink-testing-library) on a
controller that serves fixed matrices: 8 members at 80×24, a member with no control plane, a
partition, and 200 members condensed into 80×24. Also the keys that act on the whole mesh, as the
App performs them on the controller.
*/

import chalk from 'chalk';
import {cleanup, render} from 'ink-testing-library';
import {afterEach, describe, expect, test} from 'vitest';
import {ALL_PEERS} from '../../source/mesh/model/fault-types.js';
import type {MeshMatrix} from '../../source/session/controller.js';
import {App} from '../../source/ui/app.js';
import {MeshStore} from '../../source/ui/mesh-store.js';
import {textWidth} from '../../source/ui/terminal/text-width.js';
import {meshMatrix, memberIds, MeshFixedController, peer, snapshot, until} from './fixtures.js';
import {renderApp} from './render-app.js';

const initialChalkLevel = chalk.level;
afterEach(() => {
	cleanup();
	chalk.level = initialChalkLevel;
});

const SELF = 'a1b2c3d4';
const EIGHT = memberIds(8);
/** The halves of this node and n1–n8 as partition-shapes.ts splits nine sorted ids: five and four. */
const HALF_A = [SELF, 'n1', 'n2', 'n3', 'n4'];

type Options = {columns?: number; rows?: number; color?: boolean; readonly?: boolean; demoIds?: string[]};

/**
The App on a controller serving `matrix` while watched, with the mesh view opened (m). The peer
table had its first peer (n1) selected: the mesh view keeps that member selected.
*/
async function openMesh(matrix: MeshMatrix, options: Options = {}) {
	const ids = matrix.columns.map((column) => column.id).filter((id) => id !== SELF);
	const members = matrix.columns.map((column) => ({
		id: column.id,
		endpoint: 'tcp://10.0.0.1:5555',
		...(column.legacy ? {} : {control: 'tcp://10.0.0.1:5556'}),
		incarnation: 1,
		state: 'alive' as const,
		legacy: column.legacy,
		changedAtMs: 0,
	}));
	const controller = new MeshFixedController(snapshot(ids.map((id) => peer(id)), {members}), matrix, options.demoIds ?? []);
	const {app, store, frame, press} = renderApp(controller, options);

	await until(() => expect(frame()).toContain('quit'));
	await press('m');
	await until(() => expect(controller.watching).toBe(true));
	store.sample();
	await until(() => expect(frame()).toContain('OBSERVER'));
	return {controller, store, frame, press, app};
}

/** The matrix rows on screen: label, id and the cells, by id. */
function matrixRows(frame: string): Map<string, string[]> {
	const rows = new Map<string, string[]>();
	for (const line of frame.split('\n')) {
		const match = /^[ ›]([1-9A-Za-z]) (\S+)\s+((?:[●◌✕·╲] )+)\s*\d+\/\d+/.exec(line);
		if (match) {
			rows.set(match[2]!, match[3]!.trim().split(' '));
		}
	}

	return rows;
}

function fitsTheScreen(frame: string, columns: number, rows: number): void {
	const lines = frame.split('\n');
	expect(lines.length).toBeLessThanOrEqual(rows - 1);
	for (const line of lines) {
		expect(textWidth(line), line).toBeLessThanOrEqual(columns);
	}
}

describe('mesh view at 80×24', () => {
	test('8 members and this node: a 9×9 matrix all alive, read by symbol, with both r in the header', async () => {
		const {frame, controller, press, store} = await openMesh(meshMatrix(EIGHT, {globalR: 0.93}));
		fitsTheScreen(frame(), 80, 24);
		const rows = matrixRows(frame());
		expect([...rows.keys()]).toEqual([SELF, ...EIGHT]);
		for (const [index, [id, cells]] of [...rows].entries()) {
			expect(cells, id).toHaveLength(9);
			expect(cells.filter((cell) => cell === '●'), id).toHaveLength(8);
			expect(cells[index], `${id}'s own cell`).toBe('╲');
		}

		expect(frame()).toMatch(/OBSERVER +1 2 3 4 5 6 7 8 9 +HEARS +r +PULL/);
		expect(frame()).toMatch(/r 0\.97 local · 0\.93 global/);
		expect(frame()).toContain('members 9 · 9 with a control plane');
		expect(frame()).toContain('● alive  ◌ suspect  ✕ evicted  · never heard');
		expect(frame()).toContain('MESH · target n1 · rows 1–9 of 9 · 9 members');
		expect(frame()).toMatch(/^›2 n1 /m);
		expect(frame()).toMatch(/m mesh/);
		// m again: the peer table, and the session stops pulling.
		await press('m');
		await until(() => expect(frame()).toMatch(/ID▼ +STATE/));
		await until(() => expect(controller.callsOf('watchMesh')).toEqual([[true], [false]]));
		store.sample();
		// The header keeps the global r while the last pull is recent.
		await until(() => expect(frame()).toMatch(/r 0\.97 local · 0\.93 global/));
	});

	test('a member with no control plane has a column and no row, and the legend says so', async () => {
		const ids = [...EIGHT.slice(0, 7), 'py-legacy'];
		const {frame, press} = await openMesh(meshMatrix(ids, {legacy: ['py-legacy'], cell: (row, column) => (column === 'py-legacy' && row === 'n2' ? 'evicted' : undefined)}));
		fitsTheScreen(frame(), 80, 24);
		const rows = matrixRows(frame());
		expect(rows.has('py-legacy')).toBe(false);
		expect(rows.size).toBe(8);
		expect(rows.get('n2')![8]).toBe('✕');
		expect(frame()).toContain('no control plane (column only): 9 py-legacy');
		expect(frame()).toContain('members 9 · 8 with a control plane · 1 without');
		// The selection reaches it, past the rows, and the legend marks it.
		await press('G');
		await until(() => expect(frame()).toContain('no control plane (column only): ›9 py-legacy'));
		await until(() => expect(frame()).toContain('target py-legacy'));
	});

	test('a halves partition: cross-half cells evicted, the shape and each half’s r in the header and the footer', async () => {
		const matrix = meshMatrix(EIGHT, {
			cell: (row, column) => (HALF_A.includes(row) === HALF_A.includes(column) ? undefined : 'evicted'),
			partition: {shape: 'halves', groups: [HALF_A, EIGHT.slice(4)], groupR: [0.99, 0.41]},
		});
		const {frame} = await openMesh(matrix);
		fitsTheScreen(frame(), 80, 24);
		const columns = [SELF, ...EIGHT];
		for (const [row, cells] of matrixRows(frame())) {
			for (const [index, cell] of cells.entries()) {
				const column = columns[index]!;
				if (column !== row) {
					expect(cell, `${row} hears ${column}`).toBe(HALF_A.includes(row) === HALF_A.includes(column) ? '●' : '✕');
				}
			}
		}

		expect(frame()).toContain('partition halves  r by group 0.99 │ 0.41');
		expect(frame()).toContain('MESH · partition halves · target');
		expect(frame()).toMatch(/ 4\/8 /);
	});

	test('30 members: a cell per member, no space between, still labelled and inside 80×24', async () => {
		const {frame} = await openMesh(meshMatrix(memberIds(29), {cell: (row, column) => (column === 'n7' && row !== 'n7' ? 'evicted' : undefined)}));
		fitsTheScreen(frame(), 80, 24);
		expect(frame()).toMatch(/OBSERVER +123456789ABCDEFGHIJKLMNOPQRSTU +HEARS/);
		expect(frame()).toMatch(/^ 1 a1b2c3d4 ╲●●●●●●✕●{22} +28\/29 /m);
		expect(frame()).toContain('rows 1–10 of 30 · 30 members');
	});

	test('200 members condense to counts and the unusual cells, inside 80×24, and scroll with the selection', async () => {
		const ids = memberIds(199, 'm-');
		const matrix = meshMatrix(ids, {
			cell: (row, column) => (row === 'm-17' && (column === 'm-3' || column === 'm-9') ? 'evicted' : row === 'm-17' && column === 'm-12' ? 'suspect' : undefined),
			errors: {'m-19': 'timeout'},
		});
		const {frame, press} = await openMesh(matrix);
		fitsTheScreen(frame(), 80, 24);
		expect(frame()).toMatch(/OBSERVER +● +◌ +✕ +· +r +NOT ALIVE/);
		expect(frame()).toMatch(/a1b2c3d4 +199 +0 +0 +0 +0\.97 +all alive/);
		expect(frame()).toContain('rows 1–10 of 200 · 200 members');
		await press(...Array.from({length: 16}, () => 'j'));
		await until(() => expect(frame()).toMatch(/› +m-17 +196 +1 +2 +0 +0\.97 +✕ m-3 m-9 ◌ m-12/));
		await press('j', 'j');
		await until(() => expect(frame()).toMatch(/› +m-19 .*stale \(timeout\) all alive/));
		fitsTheScreen(frame(), 80, 24);
		await press('G');
		await until(() => expect(frame()).toContain('rows 191–200 of 200'));
		await until(() => expect(frame()).toMatch(/› +m-199 /));
	});

	test('a store whose source does not carry the matrix (a recording samples through one) still shows it', async () => {
		const controller = new MeshFixedController(snapshot(EIGHT.map((id) => peer(id))), meshMatrix(EIGHT));
		const store = new MeshStore({snapshot: () => controller.snapshot(), on: (listener) => controller.on(listener)}, {sampleMs: 60_000});
		const app = render(<App controller={controller} store={store} ttlMs={5000} color={false} size={{columns: 80, rows: 24}} />);
		await until(() => expect(app.lastFrame()).toContain('quit'));
		app.stdin.write('m');
		await until(() => expect(controller.watching).toBe(true));
		store.sample();
		await until(() => expect(matrixRows(app.lastFrame() ?? '').size).toBe(9));
	});

	test('the matrix is coloured by state, and plain without colour', async () => {
		chalk.level = 3;
		const matrix = meshMatrix(EIGHT, {cell: (row, column) => (column === 'n3' && row !== 'n3' ? 'evicted' : undefined)});
		const coloured = await openMesh(matrix, {color: true});
		// Red ✕ and green ●, as the peer table colours states.
		await until(() => expect(coloured.frame()).toContain('\u001B[31m✕'));
		expect(coloured.frame()).toContain('\u001B[32m●');
		cleanup();
		const plain = await openMesh(matrix, {color: false});
		expect(plain.frame()).not.toContain('\u001B');
	});
});

describe('mesh keys on the controller', () => {
	test('d, l and o on a member reach setMemberFault; the session’s line (acted locally) is on the status line', async () => {
		const {frame, press, controller} = await openMesh(meshMatrix(EIGHT));
		await press('j', 'd', 'l', 'o');
		await until(() => expect(controller.callsOf('setMemberFault')).toHaveLength(3));
		expect(controller.callsOf('setMemberFault')).toEqual([
			['n2', {direction: 'inbound', target: ALL_PEERS, fault: {drop: 0.1}}],
			['n2', {direction: 'inbound', target: ALL_PEERS, fault: {delayMs: 50}}],
			['n2', {direction: 'outbound', fault: {drop: 0.1}}],
		]);
		await until(() => expect(frame()).toContain('outbound drop 10% on n2'));
		controller.nextResult = {ok: true, message: 'drop 30% on n2 (inbound from all): acted locally: n2 has no control plane'};
		await press('d');
		await until(() => expect(frame()).toContain('acted locally: n2 has no control plane'));
	});

	test('x on a remote member: the prompt says remote, exit and supervisor; y calls stopMember', async () => {
		const {frame, press, controller} = await openMesh(meshMatrix(EIGHT));
		await press('x');
		await until(() => expect(frame()).toContain('stop remote n1? It will exit; its supervisor may restart it.'));
		await press('y');
		await until(() => expect(controller.callsOf('stopMember')).toEqual([['n1']]));
		expect(controller.callsOf('killPeer')).toEqual([]);
	});

	test('x on a demo peer still kills it (SIGKILL), from the mesh view too', async () => {
		const {frame, press, controller} = await openMesh(meshMatrix(EIGHT), {demoIds: ['n1']});
		await press('x');
		await until(() => expect(frame()).toContain('kill demo peer n1 (SIGKILL)?'));
		await press('y');
		await until(() => expect(controller.callsOf('killPeer')).toEqual([['n1']]));
	});

	test('P cycles the shapes around the selected member; the last step lifts it with clearAll; c clears every member', async () => {
		const {frame, press, controller} = await openMesh(meshMatrix(EIGHT));
		controller.nextResult = {ok: true, message: 'partition halves set on 9 of 9 (5 | 4)'};
		await press('j', 'j', 'P');
		await until(() => expect(controller.callsOf('partition')).toEqual([['halves', 'n3']]));
		await until(() => expect(frame()).toContain('partition halves set on 9 of 9'));
		// Once the result has been read (any key clears it), the footer names what the session
		// confirmed, though no pull has said so yet.
		await press('k');
		await until(() => expect(frame()).toContain('MESH · partition halves · target n2'));
		await press('P', 'P', 'P');
		await until(() => expect(controller.callsOf('partition').map(([shape]) => shape)).toEqual(['halves', 'isolate', 'bridge', 'ring']));
		await press('P');
		await until(() => expect(controller.callsOf('clearAll')).toHaveLength(1));
		await until(() => expect(frame()).not.toContain('partition ring'));
		await press('c');
		await until(() => expect(controller.callsOf('clearAll')).toHaveLength(2));
		expect(controller.callsOf('clearFaults')).toEqual([]);
	});

	test('--readonly: the mesh view opens, and every key that changes the mesh is off', async () => {
		const {frame, press, controller} = await openMesh(meshMatrix(EIGHT), {readonly: true});
		await press('j', 'd', 'o', 'P', 'c', 'x', 'y');
		await until(() => expect(frame()).toContain('read-only (--readonly)'));
		expect(controller.calls.filter((call) => call.method !== 'watchMesh')).toEqual([]);
		expect(frame()).toContain('OBSERVER');
	});
});
