/**
How the screen is divided for a given terminal size. Pure, so the arithmetic that keeps the frame
under the terminal's height is tested without a terminal.

The frame is at most `rows − 1` lines: Ink 6 clears the whole screen on every frame once its
output reaches the terminal's height, which flickers badly over SSH.
*/

export const MIN_COLUMNS = 56;
export const MIN_ROWS = 14;

export const HEADER_LINES = 4;
export const FOOTER_LINES = 2;
const TABLE_HEADER_LINES = 1;
const LOG_TITLE_LINES = 1;

export type TableColumns = {
	marker: number;
	id: number;
	state: number;
	age: number;
	/** Cells of the TTL bar itself; the column has a space on each side. */
	ttlBar: number;
	/** 0 when the terminal is too narrow to show it. */
	lamport: number;
	phaseDiff: number;
	faults: number;
};

export type Layout =
	| {tooSmall: true; columns: number; rows: number}
	| {
		tooSmall: false;
		columns: number;
		rows: number;
		/** Lines of the whole frame: never more than rows − 1. */
		frameLines: number;
		/** Peer rows visible at once. */
		tableRows: number;
		/** Lines of the event log under its title; 0 hides the pane. */
		logLines: number;
		table: TableColumns;
	};

export function computeLayout(columns: number, rows: number): Layout {
	if (columns < MIN_COLUMNS || rows < MIN_ROWS) {
		return {tooSmall: true, columns, rows};
	}

	const frameLines = rows - 1;
	const body = frameLines - HEADER_LINES - FOOTER_LINES - TABLE_HEADER_LINES;
	// The log takes about a quarter of the body; the table keeps at least three rows.
	let logLines = Math.min(12, Math.max(2, Math.floor(body / 4)));
	if (body - logLines - LOG_TITLE_LINES < 3) {
		logLines = 0;
	}

	const tableRows = body - (logLines > 0 ? logLines + LOG_TITLE_LINES : 0);
	return {tooSmall: false, columns, rows, frameLines, tableRows, logLines, table: tableColumns(columns)};
}

export function tableColumns(columns: number): TableColumns {
	const marker = 2;
	// " ⊘ quarantined": a space, the symbol and the longest state word.
	const state = 14;
	const age = 6;
	const phaseDiff = 7;
	const lamport = columns >= 70 ? 9 : 0;
	const ttlBar = columns >= 76 ? 10 : 6;
	const flexible = columns - marker - state - age - phaseDiff - (ttlBar + 2) - lamport;
	const id = Math.min(24, Math.max(8, flexible - 17));
	return {marker, id, state, age, ttlBar, lamport, phaseDiff, faults: flexible - id};
}

/**
Rows of the peer table and lines of the event log when `rowCount` rows are to be shown: lines the
table does not need (few peers) go to the log, so the frame keeps its height.
*/
export function splitBody(layout: Layout, rowCount: number): {tableRows: number; logLines: number} {
	if (layout.tooSmall) {
		return {tableRows: 1, logLines: 0};
	}

	if (layout.logLines === 0) {
		return {tableRows: layout.tableRows, logLines: 0};
	}

	const tableRows = Math.min(layout.tableRows, Math.max(3, rowCount));
	return {tableRows, logLines: layout.logLines + layout.tableRows - tableRows};
}

/**
Rows of the mesh view and lines of the event log when the view has `rowCount` observer rows and a
legend of `legendLines` under them: the legend comes out of the table's share, and lines the matrix
does not need go to the log, so the frame keeps its height.
*/
export function splitMeshBody(layout: Layout, rowCount: number, legendLines: number): {tableRows: number; logLines: number} {
	if (layout.tooSmall) {
		return {tableRows: 1, logLines: 0};
	}

	const room = Math.max(1, layout.tableRows - legendLines);
	if (layout.logLines === 0) {
		return {tableRows: room, logLines: 0};
	}

	const tableRows = Math.min(room, Math.max(3, rowCount));
	return {tableRows, logLines: layout.logLines + room - tableRows};
}
