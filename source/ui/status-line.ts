/**
What the footer's status line says: a prompt waiting for a key, the last action's result while it
is fresh, or where the operator stands (target, sort, rows shown, filter). Pure, like the reducer
whose state it reads.
*/

import {escapeControl} from './format.js';
import {SORT_LABEL, type PeerRowData} from './peer-rows.js';
import type {UiState} from './state.js';
import type {Tone} from './theme.js';

export type StatusLine = {text: string; tone: Tone};

/** What the table shows: its rows, the selected one, the first shown and how many fit. */
export type TableWindow = {
	rows: readonly PeerRowData[];
	selected: PeerRowData | undefined;
	scrollTop: number;
	height: number;
};

export function statusLine(state: UiState, table: TableWindow, nowMs: number, isDemoPeer: (id: string) => boolean): StatusLine {
	if (state.quitting) {
		return {text: 'stopping the demo peers and the node…', tone: 'warn'};
	}

	if (state.confirmKill !== undefined) {
		const id = escapeControl(state.confirmKill);
		return isDemoPeer(state.confirmKill)
			? {text: `kill demo peer ${id} (SIGKILL)? y kills, any other key cancels`, tone: 'bad'}
			: {text: `${id} is remote: blackhole it here (drop all it sends)? y confirms, any other key cancels`, tone: 'bad'};
	}

	if (state.editingFilter) {
		return {text: `filter ids: ${state.filter}▏ (Enter keeps, Esc clears)`, tone: 'label'};
	}

	if (state.message && state.message.untilWallMs > nowMs) {
		return {text: state.message.text, tone: state.message.tone};
	}

	const {rows, selected, scrollTop, height} = table;
	const first = rows.length === 0 ? 0 : scrollTop + 1;
	const last = Math.min(rows.length, scrollTop + height);
	const parts = [
		`target ${state.targetAll ? 'ALL peers' : selected ? escapeControl(selected.id) : '–'}`,
		`sort ${SORT_LABEL[state.sort]}`,
		`rows ${first}–${last} of ${rows.length}`,
	];
	if (state.filter !== '') {
		parts.push(`filter "${state.filter}"`);
	}

	return {text: parts.join(' · '), tone: 'muted'};
}
