/**
A MeshController over a recording: what the terminal UI reads when it replays a session instead of
watching a live one. It holds the recorded snapshot of the moment being shown and tells its
listeners the recorded events as the player reaches them; every call that would change a mesh is
refused, since there is no mesh behind it.

The records are the lines of a `--record` file (report/recording/), typed here so that this layer
needs nothing above it.
*/

import type {MeshController, MeshMatrix, PeerActionResult, SessionEvent, SessionSnapshot} from './controller.js';
import {decodeMatrix} from './mesh-record.js';

/** The first line of a recording. */
export type RecordingHeader = {
	type: 'header';
	format: 'chorus-record';
	version: number;
	/** The flags as the operator typed them. */
	flags: Record<string, unknown>;
	/** ISO 8601. */
	startedAt: string;
	/** Milliseconds since the epoch: the origin of every record's session time. */
	startedAtMs: number;
	/** Who recorded: the terminal UI (every UI sample) or a headless node (every --report-ms). */
	mode: 'tui' | 'headless';
	/** The peers' TTL: the full length of a TTL bar. */
	ttlMs: number;
};

/** Every record but the header carries `wallMs`: the recorder's wall clock when it happened. */
export type RecordedSnapshot = SessionSnapshot & {type: 'snapshot'; wallMs: number};
export type RecordedEvent = SessionEvent & {type: 'event'; wallMs: number};
/** What the operator did (a fault key, a kill, a pause, a revive) and what came of it. */
export type RecordedAction = {
	type: 'action';
	wallMs: number;
	action: string;
	/** The peer or fault target it was for, if any. */
	target?: string;
	ok: boolean;
	/** One line, as the UI showed it. */
	message: string;
	[detail: string]: unknown;
};
/** A control plane's mesh view (`view` op), when the node had one; kept for replay to show. */
export type RecordedView = {type: 'view'; wallMs: number; view: unknown};
/** The last line of a recording that was closed properly. */
export type RecordingTrailer = {
	type: 'trailer';
	wallMs: number;
	records: number;
	/** Snapshots dropped because the disk did not keep up (events and actions are never dropped). */
	droppedSnapshots: number;
	/** Events dropped past the hard memory bound of the write queue; 0 unless the disk stalled for long. */
	droppedEvents: number;
};

/**
The action a terminal UI recording holds when the UI's store began to listen to events: events
before it never reached the live screen, so a replay does not show them either.
*/
export const UI_LISTENING = 'ui-listening';

export type ReplayRecord = RecordedSnapshot | RecordedEvent | RecordedAction | RecordedView;

/** The screen before the first recorded snapshot: a node with no peers. */
function emptySnapshot(): SessionSnapshot {
	return {
		t: 0,
		node: {id: '…', incarnation: 0, lamport: 0, phase: 0, r: 1, endpoint: '(replay)', omega: 0, hz: 0},
		peers: [],
		stats: {received: 0, admitted: 0, rejected: {}, ticks: 0, tickLateMs: {p50: 0, p99: 0, max: 0}},
		faults: {peers: {}},
		demo: [],
	};
}

const REFUSED = 'replay: nothing here changes a mesh';

export class ReplaySession implements MeshController {
	#current: SessionSnapshot = emptySnapshot();
	#view: unknown;
	readonly #listeners = new Set<(event: SessionEvent) => void>();

	/** Show this recorded snapshot from now on. */
	show(record: RecordedSnapshot): void {
		const {type: _type, wallMs: _wallMs, ...snapshot} = record;
		this.#current = snapshot;
	}

	/** Tell the listeners a recorded event, as the live session told them. */
	emit(record: RecordedEvent): void {
		const {type: _type, wallMs: _wallMs, ...event} = record;
		for (const listener of this.#listeners) {
			listener(event);
		}
	}

	/** Keep the last mesh view (from the control plane) for a view pane to read. */
	showView(record: RecordedView): void {
		this.#view = record.view;
	}

	/** The last recorded mesh view, if the recording has views. */
	meshView(): unknown {
		return this.#view;
	}

	/** The mesh view's matrix as it was recorded (`--record` writes one a pull), so `m` works in a replay. */
	meshMatrix(): MeshMatrix | undefined {
		return decodeMatrix(this.#view);
	}

	/** A replay pulls nothing: the recorded matrices arrive with the timeline. */
	watchMesh(): void {
		// Nothing to start: showView() is fed by the player.
	}

	/** Back to the start: the screen before the first record. */
	reset(): void {
		this.#current = emptySnapshot();
		this.#view = undefined;
	}

	snapshot(): SessionSnapshot {
		return this.#current;
	}

	on(listener: (event: SessionEvent) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	setInboundFault(): void {
		throw new Error(REFUSED);
	}

	setOutboundFault(): void {
		throw new Error(REFUSED);
	}

	clearFaults(): void {
		throw new Error(REFUSED);
	}

	isDemoPeer(id: string): boolean {
		return this.#current.demo.some((process) => process.id === id);
	}

	async killPeer(): Promise<PeerActionResult> {
		return {ok: false, message: REFUSED};
	}

	async togglePausePeer(): Promise<PeerActionResult> {
		return {ok: false, message: REFUSED};
	}

	async revivePeer(): Promise<PeerActionResult> {
		return {ok: false, message: REFUSED};
	}

	async stop(): Promise<void> {
		this.#listeners.clear();
	}
}
