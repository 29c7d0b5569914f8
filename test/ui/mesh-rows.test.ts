/**
The mesh view's render layer without Ink: which shape fits a width, how a row sums up, how the
members it does not hear alive are cut to the room, and the order the selection moves in.
*/

import {describe, expect, test} from 'vitest';
import {unusualSegments} from '../../source/ui/components/MeshView.js';
import {columnLabel, matrixLayout, meshSelection, summarizeRow, unusualColumns} from '../../source/ui/mesh-rows.js';
import {meshMatrix, memberIds} from './fixtures.js';

const plain = {toned: () => undefined};
const text = (segments: ReadonlyArray<{text: string}>) => segments.map((segment) => segment.text).join('');

describe('matrix shape', () => {
	test('a cell and a space per member while it fits, a cell per member after, then condensed', () => {
		// 8 (id) + 4 + 2 per member + 20 at 80 columns: 24 members in full, 48 dense.
		expect(matrixLayout(meshMatrix(memberIds(23)), 80).shape).toBe('full');
		expect(matrixLayout(meshMatrix(memberIds(24)), 80).shape).toBe('dense');
		expect(matrixLayout(meshMatrix(memberIds(47)), 80).shape).toBe('dense');
		expect(matrixLayout(meshMatrix(memberIds(48)), 80).shape).toBe('condensed');
		expect(matrixLayout(meshMatrix(memberIds(199)), 200).shape).toBe('condensed');
	});

	test('the id column gives way before the matrix, down to the width of its title', () => {
		const long = meshMatrix(['a-rather-long-member-name', ...memberIds(18)]);
		expect(matrixLayout(long, 120)).toEqual({shape: 'full', idWidth: 16});
		expect(matrixLayout(long, 72)).toEqual({shape: 'full', idWidth: 8});
	});

	test('labels: digits, capitals, small letters, then +', () => {
		expect([0, 8, 9, 34, 35, 60, 61].map((index) => columnLabel(index))).toEqual(['1', '9', 'A', 'Z', 'a', 'z', '+']);
	});
});

describe('rows', () => {
	const matrix = meshMatrix(memberIds(6), {
		legacy: ['n6'],
		observers: ['n5'],
		cell: (row, column) => (row === 'n1' ? ({n2: 'evicted', n3: 'suspect', n4: 'never', n6: 'evicted'} as const)[column as 'n2'] : undefined),
	});

	test('a row sums up by state, its own cell left out; the unusual cells worst first', () => {
		const row = matrix.rows.find((each) => each.id === 'n1')!;
		expect(summarizeRow(row, matrix.columns)).toEqual({
			counts: {alive: 2, suspect: 1, evicted: 2, never: 1},
			unusual: [
				{state: 'evicted', ids: ['n2', 'n6']},
				{state: 'suspect', ids: ['n3']},
				{state: 'never', ids: ['n4']},
			],
		});
	});

	test('the unusual cells are cut to the room, with how many were left out', () => {
		const summary = summarizeRow(matrix.rows.find((each) => each.id === 'n1')!, matrix.columns);
		expect(text(unusualSegments(summary, 40, plain))).toBe('✕ n2 n6 ◌ n3 · n4');
		expect(text(unusualSegments(summary, 14, plain))).toBe('✕ n2 n6 …+2');
		expect(text(unusualSegments(summarizeRow(matrix.rows[0]!, matrix.columns), 40, plain))).toBe('all alive');
	});

	test('the selection moves over the rows, then the members with no row; the legend names those and the listeners', () => {
		expect(meshSelection(matrix).map((row) => row.id)).toEqual(['a1b2c3d4', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6']);
		expect(unusualColumns(matrix).map(({column, index, noRow}) => [column.id, index, noRow])).toEqual([
			['n5', 5, false],
			['n6', 6, true],
		]);
		expect(meshSelection(undefined)).toEqual([]);
	});
});
