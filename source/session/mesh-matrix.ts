/**
The mesh view's data, built from what the members' `view` replies said: who hears whom, and the
order parameter of the whole mesh. Pure: the pulls (mesh-watch.ts) hand in what they got and the
time; nothing here waits or asks.
*/

import type {Member} from '../cluster/protocol.js';
import type {FaultsInForce} from '../mesh/model/fault-types.js';
import type {PeerState} from '../mesh/model/peer-table.js';
import type {MeshCellState, MeshColumn, MeshMatrix, MeshRow, PartitionShape} from './controller.js';

const CELL_OF_PEER_STATE: Record<PeerState, MeshCellState> = {
	alive: 'alive',
	restarted: 'alive',
	suspect: 'suspect',
	quarantined: 'suspect',
	evicted: 'evicted',
};

/** A peer state as a cell says it; anything unknown (a newer node's state) reads as suspect. */
export function cellOfPeerState(state: string): MeshCellState {
	return CELL_OF_PEER_STATE[state as PeerState] ?? 'suspect';
}

/** What the watch knows of one member with a control plane: its last good pull, and the last try. */
export type RowRecord = {
	id: string;
	/** The member's own phase (rad), natural frequency (rad/s) and local r, from its last reply. */
	phase?: number;
	omegaRadPerS?: number;
	localR?: number;
	/** Monotonic ms when that phase was read (the reply's arrival). */
	phaseAtMs?: number;
	/** Peer id → state, from its last full pull (every page of its peer table). */
	peers?: ReadonlyMap<string, string>;
	/** Peers this row has ever listed: one that left its table since was evicted, not never heard. */
	heard: Set<string>;
	faults?: FaultsInForce;
	/** Monotonic ms of the last good pull (full or phase only); undefined before the first. */
	goodAtMs?: number;
	/** Monotonic ms when the watch first saw this member: a row never pulled is this old. */
	sinceMs: number;
	/** Why the last pull failed; cleared by the next good one. */
	error?: string;
	/**
	Its cells, built already against this round's columns by whoever keeps the rows (the watch
	keeps a row's cells from round to round while neither its table nor the members change);
	absent, they are built here.
	*/
	cells?: Record<string, MeshCellState>;
};

/** |mean of e^{iθ}| over the phases; undefined for none. */
export function orderParameter(phases: readonly number[]): number | undefined {
	if (phases.length === 0) {
		return undefined;
	}

	let x = 0;
	let y = 0;
	for (const phase of phases) {
		x += Math.cos(phase);
		y += Math.sin(phase);
	}

	return Math.hypot(x, y) / phases.length;
}

/**
Phases read at different moments, brought to one: each advanced by its member's natural frequency
over the time since it was read. A mesh turns at about π rad/s, so phases 100 ms apart would be
0.3 rad off; the error left is the gap between a member's frequency and the mesh's, times the
spread of the reads (tens of ms within one round).
*/
export function phasesAt(rows: Iterable<Pick<RowRecord, 'id' | 'phase' | 'omegaRadPerS' | 'phaseAtMs'>>, atMs: number, include: (id: string) => boolean): Map<string, number> {
	const phases = new Map<string, number>();
	for (const row of rows) {
		if (row.phase === undefined || row.phaseAtMs === undefined || !include(row.id)) {
			continue;
		}

		phases.set(row.id, row.phase + ((row.omegaRadPerS ?? 0) * (atMs - row.phaseAtMs)) / 1000);
	}

	return phases;
}

/** The columns: every member, this node first, the rest by id; observers and legacy members marked. */
export function meshColumns(selfId: string, members: readonly Member[]): MeshColumn[] {
	const byId = new Map<string, MeshColumn>();
	for (const member of members) {
		byId.set(member.id, {id: member.id, legacy: member.control === undefined, observer: member.observer === true});
	}

	const self = byId.get(selfId) ?? {id: selfId, legacy: false, observer: false};
	byId.delete(selfId);
	return [self, ...[...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))];
}

/** One row's cells: its own column alive, a peer it lists by its state, one it listed before evicted, else never. */
export function rowCells(row: Pick<RowRecord, 'id' | 'peers' | 'heard'>, columns: readonly MeshColumn[]): Record<string, MeshCellState> {
	const cells: Record<string, MeshCellState> = {};
	for (const column of columns) {
		if (column.id === row.id) {
			cells[column.id] = 'alive';
			continue;
		}

		const state = row.peers?.get(column.id);
		cells[column.id] = state === undefined ? (row.heard.has(column.id) ? 'evicted' : 'never') : cellOfPeerState(state);
	}

	return cells;
}

export type MatrixInput = {
	selfId: string;
	members: readonly Member[];
	/** The rows the watch keeps, this node's own included. */
	rows: ReadonlyMap<string, RowRecord>;
	/** Monotonic now. */
	nowMs: number;
	wallNowMs: number;
	/** Phases read before this (monotonic ms) are from an earlier round: not in the r of this one. */
	roundStartMs: number;
	partition?: {shape: PartitionShape; groups: ReadonlyArray<readonly string[]>};
};

/** The matrix the mesh view draws, from the rows the watch keeps. */
export function buildMatrix(input: MatrixInput): MeshMatrix {
	const columns = meshColumns(input.selfId, input.members);
	const observers = new Set(columns.filter((column) => column.observer).map((column) => column.id));
	const rowOrder = columns.filter((column) => input.rows.has(column.id));
	const rows: MeshRow[] = rowOrder.map((column) => {
		const record = input.rows.get(column.id)!;
		const row: MeshRow = {
			id: record.id,
			cells: record.cells ?? rowCells(record, columns),
			ageMs: Math.max(0, Math.round(input.nowMs - (record.goodAtMs ?? record.sinceMs))),
		};
		if (record.phase !== undefined) {
			row.phase = record.phase;
		}

		if (record.localR !== undefined) {
			row.localR = record.localR;
		}

		if (record.faults !== undefined) {
			row.faults = record.faults;
		}

		if (record.error !== undefined) {
			row.error = record.error;
		}

		return row;
	});
	// An observer publishes no phase of its own into the mesh: it is in no r.
	const phases = phasesAt(
		[...input.rows.values()].filter((row) => (row.phaseAtMs ?? -Infinity) >= input.roundStartMs),
		input.nowMs,
		(id) => !observers.has(id),
	);
	const matrix: MeshMatrix = {columns, rows, globalR: orderParameter([...phases.values()]), pulledAtWallMs: input.wallNowMs};
	if (input.partition !== undefined) {
		matrix.partition = {
			shape: input.partition.shape,
			groups: input.partition.groups,
			groupR: input.partition.groups.map((group) => orderParameter(group.filter((id) => phases.has(id)).map((id) => phases.get(id)!))),
		};
	}

	return matrix;
}
