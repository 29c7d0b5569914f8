import {Box, Text} from 'ink';
import {memo} from 'react';
import {escapeControl, fit, formatAge, formatPhaseDiff, ttlBar} from '../format.js';
import type {TableColumns} from '../layout.js';
import type {SortKey} from '../peer-rows.js';
import {STATE_LOOK, useTheme, type RowState, type Tone} from '../theme.js';

/** One row of the table; numbers are absent for a killed demo peer that has left the node's table. */
export type PeerRowData = {
	id: string;
	state: RowState;
	lastSeenMs?: number;
	ttlRemainingMs?: number;
	lamport?: number;
	phaseDiff?: number;
	/** Faults on this peer and what we did to its process, already in words. */
	note: string;
};

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

/** The peer table. Only the visible slice is rendered, so a thousand peers cost a screenful. */
export function PeerTable({rows, selectedIndex, scrollTop, height, columns, ttlMs, sort, emptyText}: Props) {
	const theme = useTheme();
	const visible = rows.slice(scrollTop, scrollTop + height);
	const title = (name: string) => (SORT_COLUMN[sort] === name ? `${name}▼` : name);
	return (
		<Box flexDirection="column" height={height + 1} flexShrink={0}>
			<Box width={columnsWidth(columns)} {...(theme.color ? {backgroundColor: 'white'} : {})}>
				<Text wrap="truncate-end" {...theme.style('tableHeader')}>
					{[
						fit(`  ${title('ID')}`, columns.marker + columns.id),
						fit(` ${title('STATE')}`, columns.state),
						fit(title('AGE'), columns.age, 'right'),
						fit(' TTL', columns.ttlBar + 1),
						columns.lamport > 0 ? ` ${fit(title('LAMPORT'), columns.lamport, 'right')}` : ' ',
						fit(title('Δφ'), columns.phaseDiff, 'right'),
						'  FAULTS',
					].join('')}
				</Text>
			</Box>
			{visible.length === 0 ? (
				<Text wrap="truncate-end" {...theme.style('muted')}>
					{`  ${emptyText}`}
				</Text>
			) : (
				visible.map((row, index) => (
					<PeerRow
						key={row.id}
						{...row}
						selected={scrollTop + index === selectedIndex}
						columns={columns}
						ttlMs={ttlMs}
					/>
				))
			)}
		</Box>
	);
}

type RowProps = PeerRowData & {selected: boolean; columns: TableColumns; ttlMs: number};

/**
A row re-renders only when something it shows changed (memoized by peer id via its key). Only the
id, which may hold wide characters, gets a box of its own; the rest is one line of nested text,
which costs Ink far less than a box per cell.
*/
export const PeerRow = memo(function PeerRow({
	id,
	state,
	lastSeenMs,
	ttlRemainingMs,
	lamport,
	phaseDiff,
	note,
	selected,
	columns,
	ttlMs,
}: RowProps) {
	const theme = useTheme();
	const look = STATE_LOOK[state];
	const bar = ttlRemainingMs === undefined ? undefined : ttlBar(ttlRemainingMs, ttlMs, columns.ttlBar);
	const barTone: Tone = !bar || bar.cells === 0 ? 'bad' : bar.cells / columns.ttlBar > 0.5 ? 'good' : bar.cells / columns.ttlBar > 0.2 ? 'warn' : 'bad';
	// Grey, not blue: the state, Δφ and fault colours must stay readable on the selected row.
	const rowStyle = selected && theme.color ? {backgroundColor: 'gray'} : {};
	return (
		<Box {...rowStyle}>
			<Box width={columns.marker + columns.id} flexShrink={0}>
				<Text wrap="truncate-end" {...(selected ? theme.style('label') : {})}>
					{`${selected ? '› ' : '  '}${escapeControl(id)}`}
				</Text>
			</Box>
			<Text wrap="truncate-end">
				<Text {...theme.style(look.tone)}>{fit(` ${look.symbol} ${state}`, columns.state)}</Text>
				<Text>{fit(lastSeenMs === undefined ? '–' : formatAge(lastSeenMs), columns.age, 'right')} </Text>
				{bar ? (
					<>
						<Text {...theme.style(barTone)}>{bar.filled}</Text>
						<Text {...theme.style('muted')}>{bar.empty}</Text>
					</>
				) : (
					<Text>{' '.repeat(columns.ttlBar)}</Text>
				)}
				<Text> {columns.lamport > 0 ? fit(lamport === undefined ? '–' : String(lamport), columns.lamport, 'right') : ''}</Text>
				<Text {...(phaseTone(phaseDiff, theme.style) ?? {})}>
					{fit(phaseDiff === undefined ? '–' : formatPhaseDiff(phaseDiff), columns.phaseDiff, 'right')}
				</Text>
				<Text {...theme.style('fault')}>{note ? `  ${note}` : ''}</Text>
			</Text>
		</Box>
	);
});

function phaseTone(phaseDiff: number | undefined, style: ReturnType<typeof useTheme>['style']) {
	if (phaseDiff === undefined) {
		return undefined;
	}

	const magnitude = Math.abs(phaseDiff);
	// A mesh in step wanders a few tenths of a radian; past these bounds a peer is drifting or lagging.
	return magnitude < 0.8 ? undefined : style(magnitude < 2 ? 'warn' : 'bad');
}

/** The whole width of the table's columns. */
export function columnsWidth(columns: TableColumns): number {
	return columns.marker + columns.id + columns.state + columns.age + columns.ttlBar + 2 + columns.lamport + columns.phaseDiff + columns.faults;
}
