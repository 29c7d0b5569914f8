/**
From the session's MeshMatrix to what the mesh view (`m`) shows: which members it selects among,
the short label of each column, how a row sums up when the matrix does not fit, and which of the
three shapes fits a width. Pure, like peer-rows.ts, so the view's choices are tested without Ink.
*/

import type {MeshCellState, MeshColumn, MeshMatrix, MeshRow} from '../session/controller.js';
import {escapeControl} from './format.js';
import type {Tone} from './theme.js';
import {textWidth} from './terminal/text-width.js';

/** Symbol and word for each cell, so a cell reads without colour (the legend says which is which). */
export const CELL_LOOK: Record<MeshCellState, {symbol: string; word: string; tone: Tone}> = {
	alive: {symbol: '●', word: 'alive', tone: 'good'},
	suspect: {symbol: '◌', word: 'suspect', tone: 'warn'},
	evicted: {symbol: '✕', word: 'evicted', tone: 'bad'},
	never: {symbol: '·', word: 'never heard', tone: 'muted'},
};

/** The order cells are counted and listed in: the normal state first, then the worst. */
export const CELL_STATES: readonly MeshCellState[] = ['alive', 'suspect', 'evicted', 'never'];

/** A member's own cell: nobody hears itself, so the diagonal is drawn as such, not as a state. */
export const SELF_SYMBOL = '╲';

/**
One character per column, as htop and k9s label what does not fit: digits, then capitals, then
small letters. A row's label is its column's, so the rows themselves are the legend.
*/
export const COLUMN_LABELS = '123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
How the matrix is drawn at a width: `full` (a cell and a space per column), `dense` (a cell per
column), or `condensed` (per row, counts by state and the cells that are not alive).
*/
export type MatrixShape = 'full' | 'dense' | 'condensed';

/** Cells of a row besides its matrix cells: marker, label, space, id, space; and the tail. */
const ROW_PREFIX = 4;
/** " HEARS" (5), " r" (5), " PULL" (7) with their spaces. */
export const FULL_TAIL = 20;
/** "OBSERVER", the title of the id column. */
export const MIN_ID_WIDTH = 8;
export const MAX_ID_WIDTH = 16;

export type MatrixLayout = {shape: MatrixShape; idWidth: number};

/** The widest shape that fits `width` cells, and the id column it leaves. */
export function matrixLayout(matrix: Pick<MeshMatrix, 'columns' | 'rows'>, width: number): MatrixLayout {
	const longest = Math.max(MIN_ID_WIDTH, ...matrix.rows.map((row) => textWidth(escapeControl(row.id))));
	const idWidth = Math.min(MAX_ID_WIDTH, longest);
	const count = matrix.columns.length;
	if (count <= COLUMN_LABELS.length) {
		for (const [shape, cellWidth] of [
			['full', 2],
			['dense', 1],
		] as const) {
			// The id column gives way (down to its minimum) before the matrix does.
			const room = width - ROW_PREFIX - FULL_TAIL - count * cellWidth;
			if (room >= MIN_ID_WIDTH) {
				return {shape, idWidth: Math.min(idWidth, room)};
			}
		}
	}

	return {shape: 'condensed', idWidth: Math.min(idWidth, Math.max(MIN_ID_WIDTH, width - 50))};
}

/** The label of the column at `index` (1-based in the operator's eyes); `+` past the alphabet. */
export function columnLabel(index: number): string {
	return COLUMN_LABELS[index] ?? '+';
}

/**
The members the view selects among, in screen order: its rows (observers), then the members that
have a column but no row (no control plane), which the legend lists.
*/
export function meshSelection(matrix: Pick<MeshMatrix, 'columns' | 'rows'> | undefined): Array<{id: string}> {
	if (matrix === undefined) {
		return [];
	}

	const rowIds = new Set(matrix.rows.map((row) => row.id));
	return [...matrix.rows.map((row) => ({id: row.id})), ...matrix.columns.filter((column) => !rowIds.has(column.id)).map((column) => ({id: column.id}))];
}

/** The columns with no row (no control plane) and the listen-only ones: what the legend names. */
export function unusualColumns(matrix: Pick<MeshMatrix, 'columns' | 'rows'>): Array<{column: MeshColumn; index: number; noRow: boolean}> {
	const rowIds = new Set(matrix.rows.map((row) => row.id));
	const found: Array<{column: MeshColumn; index: number; noRow: boolean}> = [];
	for (const [index, column] of matrix.columns.entries()) {
		const noRow = column.legacy || !rowIds.has(column.id);
		if (noRow || column.observer) {
			found.push({column, index, noRow});
		}
	}

	return found;
}

export type RowSummary = {
	/** Cells of each state, the row's own column left out. */
	counts: Record<MeshCellState, number>;
	/** Columns heard as anything but alive, worst first: what the condensed view lists. */
	unusual: Array<{state: MeshCellState; ids: string[]}>;
};

/** What one observer hears, summed up: the condensed view's row. */
export function summarizeRow(row: MeshRow, columns: readonly MeshColumn[]): RowSummary {
	const counts: Record<MeshCellState, number> = {alive: 0, suspect: 0, evicted: 0, never: 0};
	const lists: Record<MeshCellState, string[]> = {alive: [], suspect: [], evicted: [], never: []};
	for (const column of columns) {
		if (column.id === row.id) {
			continue;
		}

		const state = row.cells[column.id] ?? 'never';
		counts[state]++;
		if (state !== 'alive') {
			lists[state].push(column.id);
		}
	}

	// Evicted first: the cells an operator breaking the mesh is looking for.
	const unusual = (['evicted', 'suspect', 'never'] as const).filter((state) => lists[state].length > 0).map((state) => ({state, ids: lists[state]}));
	return {counts, unusual};
}

/** Cells heard alive over the other members: "7/8". */
export function hearsText(summary: RowSummary): string {
	const others = summary.counts.alive + summary.counts.suspect + summary.counts.evicted + summary.counts.never;
	return `${summary.counts.alive}/${others}`;
}
