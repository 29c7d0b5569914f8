/**
What the footer's status line says: a prompt waiting for a key, the last action's result while it
is fresh, or where the operator stands (view, target, sort, rows shown, filter, the partition in
force). Pure, like the reducer whose state it reads.
*/

import {escapeControl} from './format.js';
import {SORT_LABEL, type SelectableRow} from './peer-rows.js';
import type {UiState} from './state.js';
import type {Tone} from './theme.js';

export type StatusLine = {text: string; tone: Tone};

/** What the table shows: its rows, the selected one, the first shown and how many fit. */
export type TableWindow = {
	rows: readonly SelectableRow[];
	selected: SelectableRow | undefined;
	scrollTop: number;
	height: number;
};

/** What else the status line names: the partition in force (P), and the view's own words. */
export type StatusContext = {
	/** The partition shape in force, if any. */
	partition?: string | undefined;
	/** The mesh view's summary ("9 members, 1 without control plane"), shown instead of sort and filter. */
	mesh?: string | undefined;
};

export function statusLine(state: UiState, table: TableWindow, nowMs: number, isDemoPeer: (id: string) => boolean, where: StatusContext = {}): StatusLine {
	if (state.quitting) {
		return {text: 'stopping the demo peers and the node…', tone: 'warn'};
	}

	if (state.confirmKill !== undefined) {
		const id = escapeControl(state.confirmKill);
		return isDemoPeer(state.confirmKill)
			? {text: `kill demo peer ${id} (SIGKILL)? y kills, any other key cancels`, tone: 'bad'}
			: {text: `${id} is remote: blackhole it here (drop all it sends)? y confirms, any other key cancels`, tone: 'bad'};
	}

	if (state.confirmStop !== undefined) {
		const id = escapeControl(state.confirmStop);
		// Kept under 80 columns with a short id: what y does comes before the courtesy of how to back out.
		return {text: `stop remote ${id}? It will exit; its supervisor may restart it. y stops it, other keys cancel`, tone: 'bad'};
	}

	if (state.editingFilter) {
		return {text: `filter ids: ${state.filter}▏ (Enter keeps, Esc clears)`, tone: 'label'};
	}

	if (state.message && state.message.untilWallMs > nowMs) {
		return {text: state.message.text, tone: state.message.tone};
	}

	const {rows, selected, scrollTop, height} = table;
	const target = `target ${state.targetAll ? 'ALL peers' : selected ? escapeControl(selected.id) : '–'}`;
	const partition = where.partition === undefined ? [] : [`partition ${where.partition}`];
	if (where.mesh !== undefined) {
		// The partition first: on a narrow terminal the line is cut from the right.
		return {text: ['MESH', ...partition, target, where.mesh].join(' · '), tone: partition.length > 0 ? 'fault' : 'muted'};
	}

	const first = rows.length === 0 ? 0 : scrollTop + 1;
	const last = Math.min(rows.length, scrollTop + height);
	const parts = [...partition, target, `sort ${SORT_LABEL[state.sort]}`, `rows ${first}–${last} of ${rows.length}`];
	if (state.filter !== '') {
		parts.push(`filter "${state.filter}"`);
	}

	return {text: parts.join(' · '), tone: partition.length > 0 ? 'fault' : 'muted'};
}
