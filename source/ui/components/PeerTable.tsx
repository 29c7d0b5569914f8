import {useMemo} from 'react';
import {escapeControl, fit, formatAge, formatPhaseDiff, ttlBar} from '../format.js';
import type {TableColumns} from '../layout.js';
import type {PeerRowData, SortKey} from '../peer-rows.js';
import {renderLine, type Segment} from '../styled-line.js';
import {STATE_LOOK, useTheme, type Style, type Theme, type Tone} from '../theme.js';
import {Lines} from './Lines.js';

type Props = {
	/** Sorted and filtered. */
	rows: readonly PeerRowData[];
	selectedIndex: number;
	/** Index of the first visible row. */
	scrollTop: number;
	/** Visible rows. */
	height: number;
	columns: TableColumns;
	ttlMs: number;
	sort: SortKey;
	/** Shown instead of rows when there are none. */
	emptyText: string;
};

const SORT_COLUMN: Record<SortKey, string> = {id: 'ID', age: 'AGE', phase: 'Δφ', lamport: 'LAMPORT'};

/**
The peer table: a title row and the visible slice of the rows, so a thousand peers cost a
screenful. Drawn as lines (see Lines.tsx): a row is redrawn on screen only where it changed.
*/
export function PeerTable({rows, selectedIndex, scrollTop, height, columns, ttlMs, sort, emptyText}: Props) {
	const theme = useTheme();
	const width = columnsWidth(columns);
	const lines = useMemo(() => {
		const visible = rows.slice(scrollTop, scrollTop + height);
		const body =
			visible.length === 0
				? [renderLine([{text: `  ${emptyText}`, style: theme.style('muted')}], width)]
				: visible.map((row, index) => peerRowLine(row, scrollTop + index === selectedIndex, columns, width, ttlMs, theme));
		while (body.length < height) {
			body.push('');
		}

		return [titleLine(columns, width, sort, theme), ...body];
	}, [rows, selectedIndex, scrollTop, height, columns, width, ttlMs, sort, emptyText, theme]);
	return <Lines lines={lines} width={width} />;
}

/** The column titles on a light bar; the sorted column is marked ▼. */
function titleLine(columns: TableColumns, width: number, sort: SortKey, theme: Theme): string {
	const title = (name: string) => (SORT_COLUMN[sort] === name ? `${name}▼` : name);
	const text = [
		fit(`  ${title('ID')}`, columns.marker + columns.id),
		fit(` ${title('STATE')}`, columns.state),
		fit(title('AGE'), columns.age, 'right'),
		fit(' TTL', columns.ttlBar + 1),
		columns.lamport > 0 ? ` ${fit(title('LAMPORT'), columns.lamport, 'right')}` : ' ',
		fit(title('Δφ'), columns.phaseDiff, 'right'),
		'  FAULTS',
	].join('');
	const style = theme.style('tableHeader');
	return renderLine([{text, style}], width, {fill: {backgroundColor: style.backgroundColor}});
}

/**
One row: the id (escaped; it may hold wide characters, so it is cut by cells), the state in word
and symbol, the age, the TTL bar, the Lamport time, Δφ and the faults on the peer. The selected row
has a marker, a bold id and, in colour, a grey bar (grey, not blue: the state, Δφ and fault colours
must stay readable on it).
*/
function peerRowLine(row: PeerRowData, selected: boolean, columns: TableColumns, width: number, ttlMs: number, theme: Theme): string {
	const look = STATE_LOOK[row.state];
	const bar = row.ttlRemainingMs === undefined ? undefined : ttlBar(row.ttlRemainingMs, ttlMs, columns.ttlBar);
	const barTone: Tone = !bar || bar.cells === 0 ? 'bad' : bar.cells / columns.ttlBar > 0.5 ? 'good' : bar.cells / columns.ttlBar > 0.2 ? 'warn' : 'bad';
	const background = selected && theme.color ? 'gray' : undefined;
	const on = (style: Style | undefined): Style | undefined => (background ? {...style, backgroundColor: background} : style);
	const toned = (tone: Tone | undefined) => on(tone ? theme.style(tone) : undefined);
	const idWidth = columns.marker + columns.id;
	const idCell = renderLine([{text: `${selected ? '› ' : '  '}${escapeControl(row.id)}`, style: toned(selected ? 'label' : undefined)}], idWidth, {fill: on(undefined)});
	const phase = row.phaseDiff === undefined ? undefined : phaseTone(row.phaseDiff);
	const rest: Segment[] = [
		{text: fit(` ${look.symbol} ${row.state}`, columns.state), style: toned(look.tone)},
		{text: `${fit(row.lastSeenMs === undefined ? '–' : formatAge(row.lastSeenMs), columns.age, 'right')} `, style: on(undefined)},
		...(bar
			? [
					{text: bar.filled, style: toned(barTone)},
					{text: bar.empty, style: toned('muted')},
				]
			: [{text: ' '.repeat(columns.ttlBar), style: on(undefined)}]),
		{text: ` ${columns.lamport > 0 ? fit(row.lamport === undefined ? '–' : String(row.lamport), columns.lamport, 'right') : ''}`, style: on(undefined)},
		{text: fit(row.phaseDiff === undefined ? '–' : formatPhaseDiff(row.phaseDiff), columns.phaseDiff, 'right'), style: toned(phase)},
		{text: row.note ? `  ${row.note}` : '', style: toned('fault')},
	];
	return idCell + renderLine(rest, width - idWidth, {fill: on(undefined)});
}

function phaseTone(phaseDiff: number): Tone | undefined {
	const magnitude = Math.abs(phaseDiff);
	// A mesh in step wanders a few tenths of a radian; past these bounds a peer is drifting or lagging.
	return magnitude < 0.8 ? undefined : magnitude < 2 ? 'warn' : 'bad';
}

/** The whole width of the table's columns. */
export function columnsWidth(columns: TableColumns): number {
	return columns.marker + columns.id + columns.state + columns.age + columns.ttlBar + 2 + columns.lamport + columns.phaseDiff + columns.faults;
}
