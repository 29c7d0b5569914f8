/**
The mesh watch: while the mesh view is open, pull `view` from every member with a control plane
about once a second and build the matrix of who hears whom (mesh-matrix.ts builds it; this file
asks). This node's own row comes from its local snapshot, with no request.

Bounds, so that a large mesh costs the console a fixed amount:
- At most `concurrency` requests in flight, each with its own timeout; a row whose pull fails keeps
  its last cells, marked with the reason and aged.
- Rounds never overlap: the next one starts a second after the last one started, or when it ends.
- A round asks at most `maxRowsPerRound` members (the control client's socket budget, so that its
  sockets stay open from round to round).
- Pulls ask for the brief `view` (protocol.ts: peers as `[id, state]` pairs, no statistics), a
  tenth of the JSON of a full one; a node that predates it answers in full, and both are read.
- A full pull sends back the digest of the table the row holds (`since`): a member whose table
  stood still answers `unchanged` with its phase and no peers, so a steady mesh costs a few bytes a
  member, not N entries. A node that predates digests answers in full.
- A full pull of a changed table reads it whole (paged past MAX_VIEW_BRIEF_PEERS, or MAX_VIEW_PEERS
  for an older node). A round reads at most `maxPeerEntriesPerRound` peer entries in full pulls
  (20,000 by default), the oldest rows first, a row whose table stood still last time counted as one
  entry; the other members asked give only their phase (`view` with `limit: 0`), so the global r
  still covers every one of them each round. So a steady mesh of up to `maxRowsPerRound` members
  has every row pulled in full every second, and a mesh in upheaval (a partition changes every
  table) has its rows read whole within the budget, the oldest first. Past `maxRowsPerRound`
  members the phase-only pulls go to a fixed sample (see #due); at 1,000 members each row's cells
  are refreshed every few rounds, its age says how old they are, and r is taken over the members
  asked in the last round.
*/

import {performance} from 'node:perf_hooks';
import {ControlTimeoutError, type ControlClient} from '../cluster/control/client.js';
import {membersFromSnapshot} from '../cluster/control/ops.js';
import type {PartitionShape} from '../cluster/partition-shapes.js';
import {MAX_VIEW_BRIEF_PEERS, MAX_DIGEST_CHARS, type ControlReply, type Member} from '../cluster/protocol.js';
import type {FaultsInForce} from '../mesh/model/fault-types.js';
import type {MeshMatrix, SessionSnapshot} from './controller.js';
import {eachLimited} from './limited.js';
import {buildMatrix, meshColumns, rowCells, type RowRecord} from './mesh-matrix.js';

export type MeshWatchOptions = {
	selfId: string;
	client: Pick<ControlClient, 'request'>;
	/** This node's snapshot: its own row, its phase, and the members it knows. */
	snapshot: () => SessionSnapshot;
	/** Our control endpoint, for our own entry when no membership runs. */
	controlEndpoint: () => string | undefined;
	/** The partition the session set, if any: the matrix gives each of its groups an r. */
	partition: () => {shape: PartitionShape; groups: ReadonlyArray<readonly string[]>} | undefined;
	/** Called with each matrix a round builds (the recorder keeps them). */
	onMatrix?: (matrix: MeshMatrix) => void;
	/** @default 1000 */
	intervalMs?: number;
	/** @default 16 */
	concurrency?: number;
	/** @default 1500 */
	timeoutMs?: number;
	/** @default 256 */
	maxRowsPerRound?: number;
	/** @default 20_000 */
	maxPeerEntriesPerRound?: number;
	/** Monotonic clock. @default performance.now */
	now?: () => number;
};

/** Pages read of one member's peer table in one pull: 2,000 peers, twice the largest mesh we size for. */
const MAX_PAGES_PER_ROW = 4;

type TrackedRow = RowRecord & {
	fullAtMs: number;
	/** Peers it listed last time: what a full pull of it costs when its table changed. */
	total: number;
	/** The digest of the peer table `peers` holds, whole (protocol.ts, `since`); undefined when it is not whole or the node gives none. */
	digest?: string;
	/** Its last full pull found the table unchanged: the next one most likely costs one entry, not `total`. */
	steady?: boolean;
};

/** What a `view` reply says, checked: the reply comes from the network. */
type ViewPage = {
	id: string;
	phase: number;
	omega: number | undefined;
	r: number | undefined;
	faults: FaultsInForce | undefined;
	peers: Array<{id: string; state: string}>;
	total: number;
	truncated: boolean;
	/** The node answered in the brief form (`[id, state]` pairs). */
	brief: boolean;
	/** The peer table's digest, to send back as `since`; undefined from a node that predates it. */
	digest: string | undefined;
	/** The table has the digest we sent: `peers` is empty and the last pull's still hold. */
	unchanged: boolean;
};

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finite(value: unknown): number | undefined {
	return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A `view` reply as a page, or the reason it is not one. */
export function readViewPage(reply: ControlReply): ViewPage | string {
	if (!reply.ok) {
		return typeof reply.error === 'string' ? reply.error.slice(0, 40) : 'error';
	}

	const node = reply['node'];
	const peers = reply['peers'];
	if (!isRecord(node) || typeof node['id'] !== 'string' || finite(node['phase']) === undefined || !Array.isArray(peers)) {
		return 'bad reply';
	}

	const page: ViewPage = {
		id: node['id'],
		phase: node['phase'] as number,
		omega: finite(node['omega']),
		r: finite(node['r']),
		faults: isRecord(reply['faults']) && isRecord(reply['faults']['peers']) ? (reply['faults'] as FaultsInForce) : undefined,
		peers: [],
		total: finite(reply['total']) ?? peers.length,
		truncated: reply['truncated'] === true,
		brief: reply['brief'] === true,
		digest: typeof reply['digest'] === 'string' && reply['digest'].length <= MAX_DIGEST_CHARS ? reply['digest'] : undefined,
		unchanged: reply['unchanged'] === true,
	};
	// A brief reply lists `[id, state]` pairs; a node that predates `brief` answers with whole peer objects.
	for (const peer of peers) {
		if (Array.isArray(peer)) {
			if (typeof peer[0] === 'string' && typeof peer[1] === 'string') {
				page.peers.push({id: peer[0], state: peer[1]});
			}
		} else if (isRecord(peer) && typeof peer['id'] === 'string' && typeof peer['state'] === 'string') {
			page.peers.push({id: peer['id'], state: peer['state']});
		}
	}

	return page;
}

function describeFailure(error: unknown): string {
	if (error instanceof ControlTimeoutError) {
		return 'timeout';
	}

	return ((error as Error).message ?? String(error)).split('\n')[0]!.slice(0, 80);
}

export class MeshWatch {
	readonly #options: MeshWatchOptions;
	readonly #now: () => number;
	readonly #rows = new Map<string, TrackedRow>();
	#matrix: MeshMatrix | undefined;
	/** The member ids the rows' kept cells were built against, in column order. */
	#columnsKey = '';
	#running = false;
	/** Each start begins a new loop; a loop whose generation has passed ends (a stop and a start in quick succession). */
	#generation = 0;
	#timer: NodeJS.Timeout | undefined;
	#wake: (() => void) | undefined;
	#round: Promise<void> = Promise.resolve();

	constructor(options: MeshWatchOptions) {
		this.#options = options;
		this.#now = options.now ?? (() => performance.now());
	}

	get running(): boolean {
		return this.#running;
	}

	/** The matrix of the last round; undefined before the first. */
	matrix(): MeshMatrix | undefined {
		return this.#matrix;
	}

	start(): void {
		if (this.#running) {
			return;
		}

		this.#running = true;
		const generation = ++this.#generation;
		this.#round = this.#round.then(async () => this.#loop(generation));
	}

	/** Stop pulling; resolves when the round in progress (bounded by its timeouts) has ended. */
	async stop(): Promise<void> {
		this.#running = false;
		clearTimeout(this.#timer);
		this.#wake?.();
		await this.#round;
	}

	async #loop(generation: number): Promise<void> {
		const intervalMs = this.#options.intervalMs ?? 1000;
		while (this.#running && generation === this.#generation) {
			const startedAtMs = this.#now();
			// eslint-disable-next-line no-await-in-loop -- rounds never overlap.
			await this.pullOnce();
			const waitMs = intervalMs - (this.#now() - startedAtMs);
			if (waitMs > 0 && this.#running && generation === this.#generation) {
				// eslint-disable-next-line no-await-in-loop -- one round a second.
				await new Promise<void>((resolve) => {
					this.#wake = resolve;
					this.#timer = setTimeout(resolve, waitMs);
				});
				this.#wake = undefined;
			}
		}
	}

	/** One round: this node's row, then the members due, then the matrix. */
	async pullOnce(): Promise<MeshMatrix> {
		const options = this.#options;
		const roundStartMs = this.#now();
		const snapshot = options.snapshot();
		const members = snapshot.members !== undefined && snapshot.members.length > 0
			? snapshot.members
			: membersFromSnapshot(snapshot, options.controlEndpoint(), Date.now());
		this.#updateOwnRow(snapshot, roundStartMs);
		const remote = members.filter((member): member is Member & {control: string} => member.id !== options.selfId && member.control !== undefined);
		this.#forgetGone(members, remote);
		const due = this.#due(remote, roundStartMs);
		await eachLimited(due, options.concurrency ?? 16, async ({member, full}) => this.#pull(member, full));
		this.#keepCells(members);
		const matrix = buildMatrix({
			selfId: options.selfId,
			members,
			rows: this.#rows,
			nowMs: this.#now(),
			wallNowMs: Date.now(),
			roundStartMs,
			partition: options.partition(),
		});
		this.#matrix = matrix;
		options.onMatrix?.(matrix);
		return matrix;
	}

	/**
	Build the cells of the rows whose table changed, against this round's columns; all of them when
	the members changed. A steady mesh of 200 builds one row a round (this node's), not 40,000 cells.
	*/
	#keepCells(members: readonly Member[]): void {
		const columns = meshColumns(this.#options.selfId, members);
		const key = columns.map((column) => column.id).join('\n');
		const membersChanged = key !== this.#columnsKey;
		this.#columnsKey = key;
		for (const row of this.#rows.values()) {
			if (membersChanged || row.cells === undefined) {
				row.cells = rowCells(row, columns);
			}
		}
	}

	#updateOwnRow(snapshot: SessionSnapshot, nowMs: number): void {
		const row = this.#row(this.#options.selfId, nowMs);
		row.phase = snapshot.node.phase;
		row.omegaRadPerS = snapshot.node.omega;
		row.localR = snapshot.node.r;
		row.phaseAtMs = nowMs;
		row.peers = new Map(snapshot.peers.map((peer) => [peer.id, peer.state]));
		for (const peer of snapshot.peers) {
			row.heard.add(peer.id);
		}

		delete row.cells;

		row.faults = snapshot.faults;
		row.goodAtMs = nowMs;
		row.fullAtMs = nowMs;
		row.total = snapshot.peers.length;
	}

	#row(id: string, nowMs: number): TrackedRow {
		let row = this.#rows.get(id);
		if (row === undefined) {
			row = {id, heard: new Set(), sinceMs: nowMs, fullAtMs: Number.NEGATIVE_INFINITY, total: 0};
			this.#rows.set(id, row);
		}

		return row;
	}

	/** Rows of members no longer known go; `heard` keeps only ids that are still columns (so it stays bounded). */
	#forgetGone(members: readonly Member[], remote: ReadonlyArray<{id: string}>): void {
		const withRows = new Set([this.#options.selfId, ...remote.map((member) => member.id)]);
		const columns = new Set(members.map((member) => member.id));
		for (const [id, row] of this.#rows) {
			if (!withRows.has(id)) {
				this.#rows.delete(id);
				continue;
			}

			for (const heard of row.heard) {
				if (!columns.has(heard)) {
					row.heard.delete(heard);
				}
			}
		}
	}

	/**
	The members this round asks, and which of them get a full pull. With no more members than
	`maxRowsPerRound`, every one, every round. With more, full pulls go round all members (the
	oldest cells first, within the entry budget) and phase-only pulls go to a fixed sample (the first
	ids in order): the same members every round, so their sockets stay open instead of the cache
	closing and reopening one per request, and r is taken over a sample that does not move.
	*/
	#due(remote: ReadonlyArray<Member & {control: string}>, nowMs: number): Array<{member: Member & {control: string}; full: boolean}> {
		const maxRows = this.#options.maxRowsPerRound ?? 256;
		let entriesLeft = this.#options.maxPeerEntriesPerRound ?? 20_000;
		for (const member of remote) {
			this.#row(member.id, nowMs);
		}

		// Full pulls: the rows whose cells are oldest, within the budget of peer entries (at least one a round).
		const byFull = [...remote].sort((a, b) => this.#rows.get(a.id)!.fullAtMs - this.#rows.get(b.id)!.fullAtMs);
		const full = new Set<string>();
		for (const member of byFull) {
			if (full.size >= maxRows) {
				break;
			}

			// A member never pulled costs what the mesh's size says; one whose table stood still last time, one entry.
			const {total, steady} = this.#rows.get(member.id)!;
			const cost = steady === true ? 1 : Math.max(1, total > 0 ? total : remote.length);
			if (cost <= entriesLeft || full.size === 0) {
				full.add(member.id);
				entriesLeft -= cost;
			}
		}

		if (remote.length <= maxRows) {
			return remote.map((member) => ({member, full: full.has(member.id)}));
		}

		const sample = [...remote].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).filter((member) => !full.has(member.id)).slice(0, Math.max(0, maxRows - full.size));
		return [...byFull.filter((member) => full.has(member.id)).map((member) => ({member, full: true})), ...sample.map((member) => ({member, full: false}))];
	}

	async #pull(member: Member & {control: string}, full: boolean): Promise<void> {
		const {client, timeoutMs = 1500} = this.#options;
		const row = this.#row(member.id, this.#now());
		const peers = new Map<string, string>();
		let first: ViewPage | undefined;
		let offset = 0;
		// The table we hold, whole: the member may answer that it has not changed.
		const since = full && row.peers !== undefined ? row.digest : undefined;
		try {
			for (let page = 0; page < (full ? MAX_PAGES_PER_ROW : 1); page++) {
				// Brief: a tenth of the JSON to parse. A node that predates it answers in full, pages of MAX_VIEW_PEERS.
				const request = {op: 'view', brief: true, offset, limit: full ? MAX_VIEW_BRIEF_PEERS : 0, ...(page === 0 && since !== undefined ? {since} : {})} as const;
				// eslint-disable-next-line no-await-in-loop -- each page starts where the last one ended.
				const read = readViewPage(await client.request(member.control, request, timeoutMs));
				if (typeof read === 'string') {
					row.error = read;
					return;
				}

				if (read.id !== member.id) {
					row.error = `answered as ${read.id.slice(0, 64)}`;
					return;
				}

				first ??= read;
				if (read.unchanged) {
					break;
				}

				for (const peer of read.peers) {
					peers.set(peer.id, peer.state);
				}

				offset += read.peers.length;
				if (!read.truncated || read.peers.length === 0) {
					break;
				}
			}
		} catch (error) {
			row.error = describeFailure(error);
			return;
		}

		const nowMs = this.#now();
		row.phase = first!.phase;
		row.omegaRadPerS = first!.omega;
		row.localR = first!.r;
		row.phaseAtMs = nowMs;
		row.faults = first!.faults;
		row.goodAtMs = nowMs;
		row.total = first!.total;
		delete row.error;
		if (!full) {
			return;
		}

		row.fullAtMs = nowMs;
		row.steady = first!.unchanged;
		if (first!.unchanged) {
			return;
		}

		row.peers = peers;
		for (const id of peers.keys()) {
			row.heard.add(id);
		}

		delete row.cells;

		if (offset < first!.total) {
			row.error = `read ${offset} of its ${first!.total} peers`;
			delete row.digest;
		} else {
			row.digest = first!.digest;
		}
	}
}
