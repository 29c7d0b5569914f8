/**
The mesh matrix as a recording keeps it (`--record`, a `view` record): compact, one character per
cell, so that 200 × 200 members is about 45 KB; and back again, for a replay's mesh view. The faults
each member holds are left out (a partition of 200 members would be megabytes of them); the events
say what was set.
*/

import type {MeshCellState, MeshMatrix, MeshRow} from './controller.js';

const LETTER: Record<MeshCellState, string> = {alive: 'a', suspect: 's', evicted: 'x', never: '.'};
const STATE: Record<string, MeshCellState> = {a: 'alive', s: 'suspect', x: 'evicted', '.': 'never'};

export type RecordedMatrix = {
	format: 'mesh-matrix';
	v: 1;
	/** Column ids; `legacy` and `observer` list the ids so marked. */
	columns: string[];
	legacy: string[];
	observers: string[];
	/** Per row: its id, one letter per column (a alive, s suspect, x evicted, . never), and what the row said of itself. */
	rows: Array<{id: string; cells: string; ageMs: number; phase?: number; localR?: number; error?: string}>;
	globalR: number | null;
	partition?: MeshMatrix['partition'];
	pulledAtWallMs: number;
};

function rounded(value: number | undefined): number | undefined {
	return value === undefined ? undefined : Math.round(value * 10_000) / 10_000;
}

export function encodeMatrix(matrix: MeshMatrix): RecordedMatrix {
	const ids = matrix.columns.map((column) => column.id);
	return {
		format: 'mesh-matrix',
		v: 1,
		columns: ids,
		legacy: matrix.columns.filter((column) => column.legacy).map((column) => column.id),
		observers: matrix.columns.filter((column) => column.observer).map((column) => column.id),
		rows: matrix.rows.map((row) => ({
			id: row.id,
			cells: ids.map((id) => LETTER[row.cells[id] ?? 'never']).join(''),
			ageMs: row.ageMs,
			...(row.phase === undefined ? {} : {phase: rounded(row.phase)}),
			...(row.localR === undefined ? {} : {localR: rounded(row.localR)}),
			...(row.error === undefined ? {} : {error: row.error}),
		})),
		globalR: matrix.globalR ?? null,
		...(matrix.partition === undefined ? {} : {partition: matrix.partition}),
		pulledAtWallMs: matrix.pulledAtWallMs,
	};
}

/** A recorded matrix back to what the mesh view draws; undefined for anything else (an older or foreign record). */
export function decodeMatrix(value: unknown): MeshMatrix | undefined {
	const record = value as Partial<RecordedMatrix> | undefined;
	if (record?.format !== 'mesh-matrix' || !Array.isArray(record.columns) || !Array.isArray(record.rows)) {
		return undefined;
	}

	const legacy = new Set(record.legacy);
	const observers = new Set(record.observers);
	const columns = record.columns.map((id) => ({id, legacy: legacy.has(id), observer: observers.has(id)}));
	const rows = record.rows.map((row): MeshRow => {
		const cells: Record<string, MeshCellState> = {};
		for (const [index, column] of record.columns!.entries()) {
			cells[column] = STATE[row.cells[index] ?? '.'] ?? 'never';
		}

		return {
			id: row.id,
			cells,
			ageMs: row.ageMs,
			...(row.phase === undefined ? {} : {phase: row.phase}),
			...(row.localR === undefined ? {} : {localR: row.localR}),
			...(row.error === undefined ? {} : {error: row.error}),
		};
	});
	return {
		columns,
		rows,
		globalR: record.globalR ?? undefined,
		...(record.partition === undefined ? {} : {partition: record.partition}),
		pulledAtWallMs: record.pulledAtWallMs ?? 0,
	};
}
