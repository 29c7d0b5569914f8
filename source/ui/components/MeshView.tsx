import {useMemo} from 'react';
import type {MeshMatrix, MeshRow} from '../../session/controller.js';
import {escapeControl, fit, formatAge} from '../format.js';
import {
	CELL_LOOK,
	CELL_STATES,
	columnLabel,
	hearsText,
	matrixLayout,
	SELF_SYMBOL,
	summarizeRow,
	unusualColumns,
	type MatrixLayout,
	type RowSummary,
} from '../mesh-rows.js';
import {renderLine, type Segment} from '../styled-line.js';
import {textWidth} from '../terminal/text-width.js';
import {useTheme, type Style, type Theme, type Tone} from '../theme.js';
import {Lines} from './Lines.js';

export type MeshViewProps = {
	/** The last pull; undefined before the first. */
	matrix: MeshMatrix | undefined;
	/** The selected member: its row is marked, its column label stands out, or its legend entry. */
	selectedId: string | undefined;
	/** Index of the first row shown. */
	scrollTop: number;
	/** Rows shown at once. */
	height: number;
	columns: number;
};

/** Lines the legend under the matrix takes: the symbols, and the members with no row when there are any. */
export function meshLegendLines(matrix: MeshMatrix | undefined): number {
	return matrix !== undefined && unusualColumns(matrix).length > 0 ? 2 : 1;
}

/**
The mesh view: who hears whom. One row per observer (a member with a control plane, from its own
`view`), one column per member, a symbol per cell. When the matrix does not fit the width, each row
condenses to counts by state and the members it does not hear alive. Only the visible rows are
drawn, so 200 members cost a screenful.
*/
export function MeshView({matrix, selectedId, scrollTop, height, columns}: MeshViewProps) {
	const theme = useTheme();
	const lines = useMemo(() => meshViewLines({matrix, selectedId, scrollTop, height, columns}, theme), [matrix, selectedId, scrollTop, height, columns, theme]);
	return <Lines lines={lines} width={columns} />;
}

/** The view's lines: a title bar, `height` rows (blank when fewer), and the legend. */
export function meshViewLines({matrix, selectedId, scrollTop, height, columns}: MeshViewProps, theme: Theme): string[] {
	const lines: string[] = [];
	if (matrix === undefined || matrix.rows.length === 0) {
		lines.push(renderLine([{text: '  OBSERVER hears MEMBER', style: theme.style('tableHeader')}], columns, {fill: {backgroundColor: theme.style('tableHeader').backgroundColor}}));
		const waiting = matrix === undefined ? 'waiting for the first pull of every member’s view…' : 'no member with a control plane has answered yet';
		lines.push(renderLine([{text: `  ${waiting}`, style: theme.style('muted')}], columns));
	} else {
		const layout = matrixLayout(matrix, columns);
		lines.push(titleLine(matrix, layout, selectedId, columns, theme));
		for (const row of matrix.rows.slice(scrollTop, scrollTop + height)) {
			const selected = row.id === selectedId;
			lines.push(layout.shape === 'condensed' ? condensedRowLine(matrix, row, layout, selected, columns, theme) : matrixRowLine(matrix, row, layout, selected, columns, theme));
		}
	}

	while (lines.length < height + 1) {
		lines.push('');
	}

	lines.push(...legendLines(matrix, selectedId, columns, theme));
	return lines;
}

/** The column titles: the observer's id, then one label per member (full and dense), or the counts. */
function titleLine(matrix: MeshMatrix, layout: MatrixLayout, selectedId: string | undefined, width: number, theme: Theme): string {
	const bar = theme.style('tableHeader');
	const fill = {backgroundColor: bar.backgroundColor};
	const head = `  ${fit(' OBSERVER', layout.idWidth + 1)} `;
	if (layout.shape === 'condensed') {
		const counts = CELL_STATES.map((state) => fit(CELL_LOOK[state].symbol, 5, 'right')).join('');
		return renderLine([{text: `${head}${counts}${fit('r', 6, 'right')}  NOT ALIVE (row hears column)`, style: bar}], width, {fill});
	}

	const segments: Segment[] = [{text: head, style: bar}];
	const gap = layout.shape === 'full' ? ' ' : '';
	for (const [index, column] of matrix.columns.entries()) {
		// The selected member's column stands out, so a member with no row can be found in the matrix too.
		const style = column.id === selectedId && theme.color ? {...bar, inverse: true} : bar;
		segments.push({text: columnLabel(index), style}, {text: gap, style: bar});
	}

	segments.push({text: `${gap === '' ? ' ' : ''} ${fit('HEARS', 5, 'right')} ${fit('r', 5, 'right')} ${fit('PULL', 6, 'right')}`, style: bar});
	return renderLine(segments, width, {fill});
}

type RowLook = {
	/** A style on the row's background (grey when selected, in colour). */
	on: (style: Style | undefined) => Style | undefined;
	toned: (tone: Tone | undefined) => Style | undefined;
};

function rowLook(selected: boolean, theme: Theme): RowLook {
	const background = selected && theme.color ? 'gray' : undefined;
	const on = (style: Style | undefined): Style | undefined => (background ? {...style, backgroundColor: background} : style);
	return {on, toned: (tone) => on(tone ? theme.style(tone) : undefined)};
}

/** The marker, the row's column label and its id, cut by cells to the id column. */
function rowHead(matrix: MeshMatrix, row: MeshRow, idWidth: number, selected: boolean, look: RowLook, withLabel: boolean): string {
	const index = matrix.columns.findIndex((column) => column.id === row.id);
	const label = withLabel ? (index === -1 ? '?' : columnLabel(index)) : ' ';
	return renderLine([{text: `${selected ? '›' : ' '}${label} ${escapeControl(row.id)}`, style: look.toned(selected ? 'label' : undefined)}], idWidth + 3, {fill: look.on(undefined)});
}

/** How long ago the row was pulled, or why its last pull failed. */
function pullText(row: MeshRow): {text: string; tone: Tone | undefined} {
	return row.error === undefined ? {text: formatAge(row.ageMs), tone: row.ageMs > 5000 ? 'warn' : 'muted'} : {text: 'stale', tone: 'warn'};
}

/** A row of the matrix: a symbol per member, its own cell `╲`; a stale row's cells are dimmed. */
function matrixRowLine(matrix: MeshMatrix, row: MeshRow, layout: MatrixLayout, selected: boolean, width: number, theme: Theme): string {
	const look = rowLook(selected, theme);
	const stale = row.error !== undefined;
	const gap = layout.shape === 'full' ? ' ' : '';
	const segments: Segment[] = [{text: ' ', style: look.on(undefined)}];
	// Runs of one tone are one segment: fewer escape sequences on a line that is mostly `●`.
	let run = '';
	let runTone: Tone | undefined;
	const flush = () => {
		if (run !== '') {
			segments.push({text: run, style: look.toned(runTone)});
		}

		run = '';
	};

	for (const column of matrix.columns) {
		const state = row.cells[column.id] ?? 'never';
		const own = column.id === row.id;
		const tone: Tone | undefined = stale || own ? 'muted' : CELL_LOOK[state].tone;
		if (tone !== runTone) {
			flush();
			runTone = tone;
		}

		run += (own ? SELF_SYMBOL : CELL_LOOK[state].symbol) + gap;
	}

	flush();
	const summary = summarizeRow(row, matrix.columns);
	const pull = pullText(row);
	// Not hearing everyone is worth a colour: the count is where the eye lands first.
	const deaf = summary.unusual.length > 0;
	segments.push(
		{text: `${gap === '' ? ' ' : ''} ${fit(hearsText(summary), 5, 'right')}`, style: look.toned(deaf ? 'warn' : undefined)},
		{text: ` ${fit(row.localR === undefined ? '–' : row.localR.toFixed(2), 5, 'right')}`, style: look.on(undefined)},
		{text: ` ${fit(pull.text, 6, 'right')}`, style: look.toned(pull.tone)},
	);
	return rowHead(matrix, row, layout.idWidth, selected, look, true) + renderLine(segments, width - layout.idWidth - 3, {fill: look.on(undefined)});
}

/** A condensed row: counts by state, r, and the members not heard alive (worst first), cut with `…+N`. */
function condensedRowLine(matrix: MeshMatrix, row: MeshRow, layout: MatrixLayout, selected: boolean, width: number, theme: Theme): string {
	const look = rowLook(selected, theme);
	const summary = summarizeRow(row, matrix.columns);
	const segments: Segment[] = [{text: ' ', style: look.on(undefined)}];
	for (const state of CELL_STATES) {
		const count = summary.counts[state];
		segments.push({text: fit(String(count), 5, 'right'), style: look.toned(count > 0 && state !== 'alive' ? CELL_LOOK[state].tone : count > 0 ? undefined : 'muted')});
	}

	segments.push({text: fit(row.localR === undefined ? '–' : row.localR.toFixed(2), 6, 'right'), style: look.on(undefined)}, {text: '  ', style: look.on(undefined)});
	const used = layout.idWidth + 3 + 1 + 20 + 6 + 2;
	let room = width - used;
	if (row.error !== undefined) {
		const stale = `stale (${escapeControl(row.error)}) `;
		segments.push({text: stale, style: look.toned('warn')});
		room -= textWidth(stale);
	}

	segments.push(...unusualSegments(summary, room, look));
	return rowHead(matrix, row, layout.idWidth, selected, look, false) + renderLine(segments, width - layout.idWidth - 3, {fill: look.on(undefined)});
}

/** `✕ m-3 m-9 ◌ m-12 …+40`: as many ids as fit in `room` cells, worst state first, and how many did not. */
export function unusualSegments(summary: RowSummary, room: number, look: Pick<RowLook, 'toned'>): Segment[] {
	const total = summary.unusual.reduce((sum, group) => sum + group.ids.length, 0);
	if (total === 0) {
		return [{text: 'all alive', style: look.toned('muted')}];
	}

	const segments: Segment[] = [];
	let left = room;
	let shown = 0;
	for (const group of summary.unusual) {
		const symbol = `${shown === 0 ? '' : ' '}${CELL_LOOK[group.state].symbol}`;
		let ids = '';
		let whole = true;
		for (const id of group.ids) {
			const text = ` ${escapeControl(id)}`;
			const cost = textWidth(text) + (ids === '' ? textWidth(symbol) : 0);
			// Room for " …+123" while anything is left to count.
			const reserve = shown + 1 < total ? 6 : 0;
			if (cost > left - reserve) {
				whole = false;
				break;
			}

			ids += text;
			left -= cost;
			shown++;
		}

		if (ids !== '') {
			segments.push({text: symbol, style: look.toned(CELL_LOOK[group.state].tone)}, {text: ids, style: look.toned(undefined)});
		}

		if (!whole) {
			break;
		}
	}

	if (shown < total) {
		segments.push({text: ` …+${total - shown}`, style: look.toned('muted')});
	}

	return segments;
}

/** What the symbols mean, and the members with no row (no control plane) or that only listen. */
function legendLines(matrix: MeshMatrix | undefined, selectedId: string | undefined, width: number, theme: Theme): string[] {
	const muted = theme.style('muted');
	const symbols: Segment[] = [{text: ' '}];
	for (const state of CELL_STATES) {
		symbols.push({text: CELL_LOOK[state].symbol, style: theme.style(CELL_LOOK[state].tone)}, {text: ` ${CELL_LOOK[state].word}  `, style: muted});
	}

	// Condensed rows have no diagonal to explain.
	const condensed = matrix !== undefined && matrixLayout(matrix, width).shape === 'condensed';
	symbols.push({text: `${condensed ? '' : `${SELF_SYMBOL} itself   `}row hears column`, style: muted});
	const lines = [renderLine(symbols, width)];
	if (matrix === undefined) {
		return lines;
	}

	const unusual = unusualColumns(matrix);
	if (unusual.length === 0) {
		return lines;
	}

	const labelled = !condensed;
	const entry = ({column, index}: (typeof unusual)[number]) => {
		const selected = column.id === selectedId;
		return {
			text: `${selected ? '›' : ''}${labelled ? `${columnLabel(index)} ` : ''}${escapeControl(column.id)}`,
			style: theme.style(selected ? 'label' : 'fault'),
		};
	};

	const segments: Segment[] = [];
	const noRow = unusual.filter((each) => each.noRow);
	const listening = unusual.filter((each) => !each.noRow && each.column.observer);
	for (const [title, group] of [
		['no control plane (column only):', noRow],
		['listens only (--observe):', listening],
	] as const) {
		if (group.length === 0) {
			continue;
		}

		segments.push({text: `${segments.length === 0 ? ' ' : '  ·  '}${title}`, style: muted});
		for (const each of group) {
			segments.push({text: ' '}, entry(each));
		}
	}

	lines.push(renderLine(segments, width));
	return lines;
}
