/**
From a snapshot to the rows of the peer table: what each row says, in which order, which are
shown, and which one is selected. Pure, so sorting and the selection rules are tested directly.
*/

import type {InboundFault} from '../mesh/model/fault-types.js';
import type {PeerSnapshot} from '../mesh/node.js';
import type {SessionSnapshot} from '../session/controller.js';
import {escapeControl, formatInboundFault} from './format.js';
import type {RowState} from './theme.js';

/** What the selection moves over: the peer table's rows, or the mesh view's members. */
export type SelectableRow = {id: string};

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

export type SortKey = 'id' | 'age' | 'phase' | 'lamport';

/** The order `s` cycles through. */
export const SORT_KEYS: readonly SortKey[] = ['id', 'age', 'phase', 'lamport'];

export const SORT_LABEL: Record<SortKey, string> = {
	id: 'id',
	age: 'age, oldest first',
	phase: '|Δφ|, largest first',
	lamport: 'Lamport, lowest first',
};

/** PeerSnapshot may carry its own faults (a mesh session adds them). */
type PeerWithFaults = PeerSnapshot & {faults?: InboundFault};

/**
Rows of the table: every peer of the node's table, and every local demo process that is not in it
(still starting, or killed and gone after its eviction grace), so that it can still be selected
and revived.
*/
export function buildRows(snapshot: SessionSnapshot): PeerRowData[] {
	const processes = new Map((snapshot.demo ?? []).map((process) => [process.id, process]));
	const rows: PeerRowData[] = snapshot.peers.map((peer: PeerWithFaults) => {
		const fault = snapshot.faults.peers[peer.id] ?? peer.faults;
		const process = processes.get(peer.id);
		return {
			id: peer.id,
			state: peer.state,
			lastSeenMs: peer.lastSeenMs,
			ttlRemainingMs: peer.ttlRemainingMs,
			lamport: peer.lamport,
			phaseDiff: peer.phaseDiff,
			// Running (or starting, while its first messages already arrive) is the normal case; a
			// paused or dead process is worth a word.
			note: noteFor(process && process.state !== 'running' && process.state !== 'starting' ? process.state : undefined, fault),
		};
	});
	const listed = new Set(snapshot.peers.map((peer) => peer.id));
	for (const process of processes.values()) {
		if (!listed.has(process.id)) {
			// A running process that is not in the table was heard and then lost (evicted, then
			// forgotten): "starting" would be a lie.
			const state = process.state === 'running' ? 'unheard' : process.state;
			rows.push({id: process.id, state, note: noteFor(undefined, snapshot.faults.peers[process.id])});
		}
	}

	return rows;
}

function noteFor(processState: string | undefined, fault: InboundFault | undefined): string {
	return [processState, formatInboundFault(fault)].filter(Boolean).join(' · ');
}

// One collator for all comparisons: localeCompare with options builds a new one on every call.
const idCollator = new Intl.Collator('en', {numeric: true});
const byId = (a: PeerRowData, b: PeerRowData) => idCollator.compare(a.id, b.id);

/** Sort a copy; ties, and rows without the sorted number, fall back to id order. */
export function sortRows(rows: readonly PeerRowData[], key: SortKey): PeerRowData[] {
	const value = (row: PeerRowData): number | undefined => {
		switch (key) {
			case 'age': {
				return row.lastSeenMs === undefined ? undefined : -row.lastSeenMs;
			}

			case 'phase': {
				return row.phaseDiff === undefined ? undefined : -Math.abs(row.phaseDiff);
			}

			case 'lamport': {
				return row.lamport;
			}

			case 'id': {
				return undefined;
			}
		}
	};

	return [...rows].sort((a, b) => {
		const va = value(a);
		const vb = value(b);
		if (va !== undefined && vb !== undefined && va !== vb) {
			return va - vb;
		}

		if (va === undefined && vb !== undefined) {
			return 1;
		}

		if (vb === undefined && va !== undefined) {
			return -1;
		}

		return byId(a, b);
	});
}

/** Rows whose id contains `filter`, ignoring case (as the operator sees the id, escaped). */
export function filterRows(rows: readonly PeerRowData[], filter: string): readonly PeerRowData[] {
	if (filter === '') {
		return rows;
	}

	const needle = filter.toLowerCase();
	return rows.filter((row) => escapeControl(row.id).toLowerCase().includes(needle));
}

/**
Where the selection is now: on the selected id if it is still shown (so it survives re-sorting),
else at the same position, clamped (so a peer that left hands the selection to its neighbour).
*/
export function resolveSelection(rows: readonly SelectableRow[], selectedId: string | undefined, previousIndex: number): number {
	if (rows.length === 0) {
		return -1;
	}

	const index = selectedId === undefined ? -1 : rows.findIndex((row) => row.id === selectedId);
	return index === -1 ? Math.min(Math.max(0, previousIndex), rows.length - 1) : index;
}

/** The first visible row: scroll just enough to keep the selection in view. */
export function scrollFor(selectedIndex: number, scrollTop: number, height: number, total: number): number {
	const maxTop = Math.max(0, total - height);
	let top = Math.min(Math.max(0, scrollTop), maxTop);
	if (selectedIndex < top) {
		top = selectedIndex;
	} else if (selectedIndex >= top + height) {
		top = selectedIndex - height + 1;
	}

	return Math.max(0, Math.min(top, maxTop));
}
