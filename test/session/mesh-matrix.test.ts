// The mesh view's data as pure functions: cells, columns, r over aligned phases, group r; and the
// pieces of the mesh faults that need no socket (pacing, the one-line count).
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import type {Member} from '../../source/cluster/protocol.js';
import {ControlPacer} from '../../source/session/control-pacer.js';
import {countLine} from '../../source/session/mesh-faults.js';
import {buildMatrix, cellOfPeerState, meshColumns, orderParameter, phasesAt, rowCells, type RowRecord} from '../../source/session/mesh-matrix.js';
import {readViewPage} from '../../source/session/mesh-watch.js';

function member(id: string, extra: Partial<Member> = {}): Member {
	return {id, endpoint: `tcp://127.0.0.1:${id.length}`, control: 'tcp://127.0.0.1:1', incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0, ...extra};
}

function row(id: string, extra: Partial<RowRecord> = {}): RowRecord {
	return {id, heard: new Set(), sinceMs: 0, ...extra};
}

describe('cells', () => {
	it('maps peer states to what a cell says', () => {
		expect(['alive', 'restarted', 'suspect', 'quarantined', 'evicted', 'something-new'].map((state) => cellOfPeerState(state))).toEqual([
			'alive',
			'alive',
			'suspect',
			'suspect',
			'evicted',
			'suspect',
		]);
	});

	it('says never for a peer never listed, evicted for one listed before and gone since, alive on the diagonal', () => {
		const columns = meshColumns('a', [member('a'), member('b'), member('c'), member('d')]);
		const cells = rowCells({id: 'b', peers: new Map([['a', 'alive'], ['c', 'suspect']]), heard: new Set(['a', 'c', 'd'])}, columns);
		expect(cells).toEqual({a: 'alive', b: 'alive', c: 'suspect', d: 'evicted'});
		expect(rowCells({id: 'b', heard: new Set()}, columns)).toEqual({a: 'never', b: 'alive', c: 'never', d: 'never'});
	});

	it('puts this node first, the rest by id, and marks legacy members and observers', () => {
		const columns = meshColumns('m', [member('z'), member('m'), member('a', {control: undefined, legacy: true}), member('o', {observer: true})]);
		expect(columns).toEqual([
			{id: 'm', legacy: false, observer: false},
			{id: 'a', legacy: true, observer: false},
			{id: 'o', legacy: false, observer: true},
			{id: 'z', legacy: false, observer: false},
		]);
	});
});

describe('order parameter', () => {
	it('is 1 for equal phases, 0 for phases spread evenly, undefined for none', () => {
		expect(orderParameter([1, 1, 1])).toBeCloseTo(1, 12);
		expect(orderParameter([0, Math.PI])).toBeCloseTo(0, 12);
		expect(orderParameter([0, (2 * Math.PI) / 3, (4 * Math.PI) / 3])).toBeCloseTo(0, 12);
		expect(orderParameter([])).toBeUndefined();
	});

	it('is between 0 and 1 and unchanged by turning every phase by the same angle', () => {
		fc.assert(fc.property(fc.array(fc.double({min: -100, max: 100, noNaN: true}), {minLength: 1, maxLength: 50}), fc.double({min: -10, max: 10, noNaN: true}), (phases, turn) => {
			const r = orderParameter(phases)!;
			expect(r).toBeGreaterThanOrEqual(0);
			expect(r).toBeLessThanOrEqual(1 + 1e-12);
			expect(orderParameter(phases.map((phase) => phase + turn))).toBeCloseTo(r, 9);
		}));
	});

	it('brings phases read at different moments to one, each by its own frequency', () => {
		// Two members in step, turning at π rad/s, read 500 ms apart: raw, they look opposite.
		const rows = [row('a', {phase: 0, omegaRadPerS: Math.PI, phaseAtMs: 1000}), row('b', {phase: Math.PI / 2, omegaRadPerS: Math.PI, phaseAtMs: 1500})];
		expect(orderParameter([0, Math.PI / 2])).toBeLessThan(0.75);
		const aligned = phasesAt(rows, 1500, () => true);
		expect(orderParameter([...aligned.values()])).toBeCloseTo(1, 9);
		expect(phasesAt(rows, 1500, (id) => id !== 'a').has('a')).toBe(false);
	});
});

describe('matrix', () => {
	const members = [member('a'), member('b'), member('c'), member('d'), member('legacy', {control: undefined, legacy: true}), member('watcher', {observer: true})];

	it('has a row per member with a row record, a column per member, the global r over this round without observers, and an r per group', () => {
		const rows = new Map<string, RowRecord>([
			['a', row('a', {phase: 0, phaseAtMs: 100, goodAtMs: 100, peers: new Map([['b', 'alive']]), heard: new Set(['b'])})],
			['b', row('b', {phase: 0, phaseAtMs: 100, goodAtMs: 100, peers: new Map([['a', 'alive']]), heard: new Set(['a'])})],
			['c', row('c', {phase: Math.PI, phaseAtMs: 100, goodAtMs: 100, peers: new Map(), heard: new Set()})],
			// Its phase is from an earlier round: in no r.
			['d', row('d', {phase: 1, phaseAtMs: 10, goodAtMs: 10, error: 'timeout'})],
			['watcher', row('watcher', {phase: 2, phaseAtMs: 100, goodAtMs: 100})],
		]);
		const matrix = buildMatrix({
			selfId: 'a',
			members,
			rows,
			nowMs: 150,
			wallNowMs: 1_700_000_000_000,
			roundStartMs: 50,
			partition: {shape: 'halves', groups: [['a', 'b'], ['c', 'd']]},
		});
		expect(matrix.columns.map((column) => column.id)).toEqual(['a', 'b', 'c', 'd', 'legacy', 'watcher']);
		expect(matrix.rows.map((entry) => entry.id)).toEqual(['a', 'b', 'c', 'd', 'watcher']);
		expect(matrix.rows[0]!.cells).toEqual({a: 'alive', b: 'alive', c: 'never', d: 'never', legacy: 'never', watcher: 'never'});
		expect(matrix.rows[3]).toMatchObject({id: 'd', error: 'timeout', ageMs: 140});
		// a, b at 0 and c at π: r = 1/3.
		expect(matrix.globalR).toBeCloseTo(1 / 3, 9);
		expect(matrix.partition!.groupR[0]).toBeCloseTo(1, 9);
		expect(matrix.partition!.groupR[1]).toBeCloseTo(1, 9);
		expect(matrix.pulledAtWallMs).toBe(1_700_000_000_000);
	});
});

describe('view replies from the network', () => {
	it('reads a good page and refuses a bad one with a short reason', () => {
		const page = readViewPage({v: 1, id: 1, ok: true, node: {id: 'b', phase: 1, omega: 3, r: 0.9}, faults: {peers: {}}, peers: [{id: 'a', state: 'alive'}, {id: 7}], total: 1, truncated: false});
		expect(page).toMatchObject({id: 'b', phase: 1, omega: 3, peers: [{id: 'a', state: 'alive'}], truncated: false});
		expect(readViewPage({v: 1, id: 1, ok: true, node: {id: 'b', phase: 'x'}, peers: []})).toBe('bad reply');
		expect(readViewPage({v: 1, id: 1, ok: false, error: 'forbidden', message: 'no'})).toBe('forbidden');
	});

	it('reads the brief form ([id, state] pairs) and skips malformed pairs', () => {
		const page = readViewPage({v: 1, id: 1, ok: true, brief: true, node: {id: 'b', phase: 1, omega: 3, r: 0.9}, faults: {peers: {}}, peers: [['a', 'alive'], ['c', 'evicted'], ['d'], [4, 'alive'], 'e'], total: 5, truncated: false});
		expect(page).toMatchObject({id: 'b', brief: true, peers: [{id: 'a', state: 'alive'}, {id: 'c', state: 'evicted'}], total: 5});
	});
});

describe('mesh fault helpers', () => {
	it('counts the members an action failed on in one line', () => {
		expect(countLine([{member: 'a'}, {member: 'b'}]).line).toBe('on 2 of 2');
		const {line, failed} = countLine([{member: 'a'}, {member: 'm-3', error: 'timeout'}, {member: 'b'}]);
		expect(line).toBe('on 2 of 3; m-3: timeout');
		expect(failed).toEqual({'m-3': 'timeout'});
		const many = countLine(['a', 'b', 'c', 'd', 'e'].map((id) => ({member: id, error: 'x'})));
		expect(many.line).toBe('on 0 of 5; a: x, b: x, c: x, and 2 more');
	});

	it('paces requests to one endpoint after a burst, each endpoint on its own', () => {
		let nowMs = 0;
		const pacer = new ControlPacer({ratePerS: 10, burst: 3, now: () => nowMs});
		expect([pacer.reserve('x'), pacer.reserve('x'), pacer.reserve('x')]).toEqual([0, 0, 0]);
		expect(pacer.reserve('x')).toBe(100);
		expect(pacer.reserve('y')).toBe(0);
		nowMs = 1000;
		expect(pacer.reserve('x')).toBe(0);
	});
});
