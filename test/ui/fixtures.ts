/**
Fixed snapshots for the UI's component tests, and a controller that serves one: it keeps the faults
it is given (so that `d` and `l` cycle as they would on a real session) and records every call.
*/

import {ALL_PEERS, NO_INBOUND_FAULT, type FaultsInForce, type InboundFault, type OutboundFault} from '../../source/mesh/model/fault-types.js';
import type {
	MemberFault,
	MeshCellState,
	MeshController,
	MeshMatrix,
	MeshRow,
	PartitionShape,
	PeerActionResult,
	SessionSnapshot,
} from '../../source/session/controller.js';
import type {NodeEvent, PeerSnapshot} from '../../source/mesh/node.js';

export function peer(id: string, fields: Partial<PeerSnapshot> = {}): PeerSnapshot {
	return {id, state: 'alive', lamport: 800, lastSeenMs: 40, ttlRemainingMs: 4960, phaseDiff: -0.04, incarnation: 1_764_130_000_000, ...fields};
}

export function snapshot(peers: PeerSnapshot[], fields: Partial<SessionSnapshot> = {}): SessionSnapshot {
	return {
		t: 1500,
		node: {id: 'a1b2c3d4', incarnation: 1_764_130_000_000, lamport: 812, phase: 3.02, r: 0.97, endpoint: 'tcp://127.0.0.1:5555', omega: 3.14, hz: 10},
		peers,
		stats: {received: 240, admitted: 236, rejected: {stale: 4}, ticks: 15, tickLateMs: {p50: 0, p99: 1, max: 2}},
		faults: {peers: {}},
		demo: [],
		...fields,
	};
}

export type Call = {method: string; args: unknown[]};

export class FixedController implements MeshController {
	readonly calls: Call[] = [];
	readonly listeners = new Set<(event: NodeEvent) => void>();
	current: SessionSnapshot;
	stopped = false;

	constructor(initial: SessionSnapshot, readonly demoIds: readonly string[] = []) {
		this.current = initial;
	}

	snapshot(): SessionSnapshot {
		return this.current;
	}

	on(listener: (event: NodeEvent) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	emit(event: NodeEvent): void {
		for (const listener of this.listeners) {
			listener(event);
		}
	}

	setInboundFault(target: string, patch: Partial<InboundFault>): void {
		this.calls.push({method: 'setInboundFault', args: [target, patch]});
		const faults: FaultsInForce = {...this.current.faults, peers: {...this.current.faults.peers}};
		if (target === ALL_PEERS) {
			faults.all = {...NO_INBOUND_FAULT, ...faults.all, ...patch};
		} else {
			faults.peers[target] = {...NO_INBOUND_FAULT, ...faults.peers[target], ...patch};
		}

		this.current = {...this.current, faults};
	}

	setOutboundFault(patch: Partial<OutboundFault>): void {
		this.calls.push({method: 'setOutboundFault', args: [patch]});
	}

	clearFaults(): void {
		this.calls.push({method: 'clearFaults', args: []});
		this.current = {...this.current, faults: {peers: {}}};
	}

	isDemoPeer(id: string): boolean {
		return this.demoIds.includes(id);
	}

	async killPeer(id: string): Promise<PeerActionResult> {
		this.calls.push({method: 'killPeer', args: [id]});
		return {ok: true, message: `${id} killed (SIGKILL, pid 4242)`};
	}

	async togglePausePeer(id: string): Promise<PeerActionResult> {
		this.calls.push({method: 'togglePausePeer', args: [id]});
		return {ok: true, message: `${id} paused (SIGSTOP, pid 4242)`};
	}

	async revivePeer(id: string): Promise<PeerActionResult> {
		this.calls.push({method: 'revivePeer', args: [id]});
		return {ok: false, message: `${id} is already running (pid 4242)`};
	}

	async stop(): Promise<void> {
		this.calls.push({method: 'stop', args: []});
		this.stopped = true;
	}

	/** Calls of one method. */
	callsOf(method: string): unknown[][] {
		return this.calls.filter((call) => call.method === method).map((call) => call.args);
	}
}

/** Let Ink process input and render. */
export async function settle(ms = 30): Promise<void> {
	await new Promise((resolve) => {
		setTimeout(resolve, ms);
	});
}

/**
Retry an assertion until it holds or `timeoutMs` passes, then throw its last failure: renders
follow key presses asynchronously, and later still on a loaded machine.
*/
export async function until(assertion: () => void, timeoutMs = 5000): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		try {
			assertion();
			return;
		} catch (error) {
			if (performance.now() > deadline) {
				throw error;
			}
		}

		await settle(20);
	}
}

/** Ids `n1` … `nN`: the members of a fixture mesh, this node (`a1b2c3d4`) not among them. */
export function memberIds(count: number, prefix = 'n'): string[] {
	return Array.from({length: count}, (_, index) => `${prefix}${index + 1}`);
}

export type MatrixOptions = {
	/** Members with no control plane: a column, no row. */
	legacy?: readonly string[];
	/** Members joined with --observe. */
	observers?: readonly string[];
	/** What a row hears of a column, when not alive. */
	cell?: (row: string, column: string) => MeshCellState | undefined;
	/** Rows whose last pull failed, with the reason. */
	errors?: Record<string, string>;
	partition?: MeshMatrix['partition'];
	globalR?: number;
	/** This node's id, the first column. */
	selfId?: string;
};

/**
A matrix as the session's mesh watch builds it: this node's column first, the members after; a row
per member with a control plane, its own cell alive, every other cell alive unless `cell` says.
*/
export function meshMatrix(ids: readonly string[], options: MatrixOptions = {}): MeshMatrix {
	const selfId = options.selfId ?? 'a1b2c3d4';
	const legacy = new Set(options.legacy);
	const observers = new Set(options.observers);
	const columns = [selfId, ...ids].map((id) => ({id, legacy: legacy.has(id), observer: observers.has(id)}));
	const rows: MeshRow[] = columns
		.filter((column) => !column.legacy)
		.map((column, index) => {
			const cells: Record<string, MeshCellState> = {};
			for (const other of columns) {
				cells[other.id] = other.id === column.id ? 'alive' : (options.cell?.(column.id, other.id) ?? 'alive');
			}

			const error = options.errors?.[column.id];
			return {id: column.id, phase: 0.1 * index, localR: 0.97, cells, ageMs: 300 + index, ...(error === undefined ? {} : {error})};
		});
	return {columns, rows, globalR: options.globalR ?? 0.95, pulledAtWallMs: Date.now(), ...(options.partition === undefined ? {} : {partition: options.partition})};
}

/**
A controller with the whole-mesh methods: it serves `matrix` while watched (as the session does
after watchMesh(true)), and records every call.
*/
export class MeshFixedController extends FixedController {
	matrix: MeshMatrix | undefined;
	watching = false;
	/** What the next setMemberFault, partition, clearAll and stopMember answer. */
	nextResult: PeerActionResult = {ok: true, message: ''};

	constructor(initial: SessionSnapshot, matrix: MeshMatrix | undefined, demoIds: readonly string[] = []) {
		super(initial, demoIds);
		this.matrix = matrix;
	}

	meshMatrix(): MeshMatrix | undefined {
		return this.watching ? this.matrix : undefined;
	}

	watchMesh(on: boolean): void {
		this.calls.push({method: 'watchMesh', args: [on]});
		this.watching = on;
	}

	async setMemberFault(member: string, fault: MemberFault): Promise<PeerActionResult> {
		this.calls.push({method: 'setMemberFault', args: [member, fault]});
		return this.nextResult;
	}

	async partition(shape: PartitionShape, selected: string | undefined): Promise<PeerActionResult> {
		this.calls.push({method: 'partition', args: [shape, selected]});
		return this.nextResult;
	}

	async clearAll(): Promise<PeerActionResult> {
		this.calls.push({method: 'clearAll', args: []});
		return this.nextResult;
	}

	async stopMember(member: string): Promise<PeerActionResult> {
		this.calls.push({method: 'stopMember', args: [member]});
		return this.nextResult;
	}
}
