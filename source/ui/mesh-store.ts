/**
The one place the terminal UI reads the mesh from. It samples the controller at a fixed rate (10
times a second by default), keeps the last minute of r for the sparkline and a bounded log of
events, and hands React one immutable view per sample, so that a flood of events or peers never
turns into a flood of renders.
*/

import type {MeshController, MeshMatrix, SessionEvent, SessionSnapshot} from '../session/controller.js';
import {describeEvent} from './describe-event.js';
import type {Tone} from './theme.js';

export type LogEntry = {
	/** Increasing; React's key. */
	seq: number;
	wallMs: number;
	/** Already escaped. */
	text: string;
	tone: Tone;
};

export type RSample = {atMs: number; value: number};

export type MeshView = {
	snapshot: SessionSnapshot;
	/** Order parameter r over the history window, oldest first. */
	rHistory: readonly RSample[];
	/** The most recent log entries, oldest first. */
	log: readonly LogEntry[];
	/** Wall-clock time of the sample. */
	wallMs: number;
	/**
	The mesh as every member hears it (the mesh view, `m`), from the session's last pull; absent
	without a control plane, in a replay, and before the first pull.
	*/
	mesh?: MeshMatrix;
};

export type MeshStoreOptions = {
	/**
	Sampling period: the UI renders mesh data at most this often.
	@default 100
	*/
	sampleMs?: number;
	/**
	How much r history the sparkline covers.
	@default 60_000
	*/
	historyMs?: number;
	/**
	How many log entries are kept; older ones fall off.
	@default 200
	*/
	logCapacity?: number;
	/**
	When set, a timed sample that changes nothing but the numbers that tick all the time (ages, TTLs,
	Lamport clocks, phase differences) reaches the screen only this long after the last one did; a
	sample that changes what a glance reads (a peer comes, goes or changes state, r's two decimals,
	faults, demo processes, the log) reaches it at once. Renders are what a terminal UI costs.
	@default 0 (every sample is shown)
	*/
	quietRefreshMs?: number;
	/** Wall clock; tests pass a fixed one. */
	now?: () => number;
	/**
	Told when each sample started (performance.now()), once its subscribers were told. React renders
	the new view a moment later (in a microtask), so the frame's end is Ink's to tell: see
	CHORUS_UI_FRAME_LOG in run/frame-log.ts.
	*/
	onSampled?: (startedMs: number) => void;
};

type SnapshotSource = Pick<MeshController, 'snapshot' | 'on'> & Partial<Pick<MeshController, 'meshMatrix'>>;

/** A ring buffer of fixed capacity. */
export class Ring<T> {
	readonly #items: Array<T | undefined>;
	#next = 0;
	#size = 0;

	constructor(readonly capacity: number) {
		this.#items = Array.from({length: capacity});
	}

	push(item: T): void {
		this.#items[this.#next] = item;
		this.#next = (this.#next + 1) % this.capacity;
		this.#size = Math.min(this.capacity, this.#size + 1);
	}

	get size(): number {
		return this.#size;
	}

	/** Oldest first. */
	toArray(): T[] {
		const start = (this.#next - this.#size + this.capacity) % this.capacity;
		return Array.from({length: this.#size}, (_, index) => this.#items[(start + index) % this.capacity]!);
	}
}

export class MeshStore {
	readonly #source: SnapshotSource;
	readonly #sampleMs: number;
	readonly #historyMs: number;
	readonly #now: () => number;
	readonly #onSampled: ((startedMs: number) => void) | undefined;
	readonly #quietRefreshMs: number;
	#shownSignature = '';
	#shownAtMs = Number.NEGATIVE_INFINITY;
	readonly #log: Ring<LogEntry>;
	readonly #listeners = new Set<() => void>();
	#rHistory: RSample[] = [];
	#seq = 0;
	#view: MeshView;
	#timer: NodeJS.Timeout | undefined;
	#unsubscribe: (() => void) | undefined;

	constructor(source: SnapshotSource, options: MeshStoreOptions = {}) {
		this.#source = source;
		this.#sampleMs = options.sampleMs ?? 100;
		this.#historyMs = options.historyMs ?? 60_000;
		this.#now = options.now ?? Date.now;
		this.#onSampled = options.onSampled;
		this.#quietRefreshMs = options.quietRefreshMs ?? 0;
		this.#log = new Ring(options.logCapacity ?? 200);
		this.#view = this.#takeSample();
	}

	/** Start sampling and listening to events. */
	start(): void {
		if (this.#timer) {
			return;
		}

		this.#unsubscribe = this.#source.on((event: SessionEvent) => {
			const {text, tone} = describeEvent(event);
			this.log(text, tone);
		});
		this.#timer = setInterval(() => {
			this.#tick();
		}, this.#sampleMs);
	}

	stop(): void {
		clearInterval(this.#timer);
		this.#timer = undefined;
		this.#unsubscribe?.();
		this.#unsubscribe = undefined;
	}

	/** Add a line of the UI's own (an action's result). It shows with the next sample. */
	log(text: string, tone: Tone = 'action'): void {
		this.#log.push({seq: this.#seq++, wallMs: this.#now(), text, tone});
	}

	/** Take a sample now and tell the subscribers. */
	sample(): void {
		this.#publish(this.#sampleOrKeep());
	}

	/**
	Take a timed sample now, as the store's own timer does: a replay drives it from recorded
	snapshots (with a recorded clock), so that it shows the same frames the live screen showed.
	*/
	tick(): void {
		this.#tick();
	}

	/** A timed sample: shown at once when it changes what a glance reads, else at the quiet rate. */
	#tick(): void {
		if (this.#quietRefreshMs <= 0) {
			this.sample();
			return;
		}

		const startedMs = performance.now();
		const view = this.#sampleOrKeep();
		if (signatureOf(view) === this.#shownSignature && this.#now() - this.#shownAtMs < this.#quietRefreshMs) {
			return;
		}

		this.#publish(view, startedMs);
	}

	#sampleOrKeep(): MeshView {
		try {
			return this.#takeSample();
		} catch (error) {
			// A snapshot that fails (the node is stopping) keeps the last good view on screen.
			this.log(`snapshot failed: ${(error as Error).message}`, 'bad');
			return {...this.#view, log: this.#log.toArray()};
		}
	}

	#publish(view: MeshView, startedMs = performance.now()): void {
		this.#view = view;
		if (this.#quietRefreshMs > 0) {
			this.#shownSignature = signatureOf(view);
			this.#shownAtMs = this.#now();
		}

		for (const listener of this.#listeners) {
			listener();
		}

		this.#onSampled?.(startedMs);
	}

	readonly subscribe = (listener: () => void): (() => void) => {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	};

	readonly getView = (): MeshView => this.#view;

	#takeSample(): MeshView {
		const snapshot = this.#source.snapshot();
		const wallMs = this.#now();
		const oldest = wallMs - this.#historyMs;
		// A new array each sample: a frozen view keeps the history it was frozen with.
		this.#rHistory = [...this.#rHistory.filter((sample) => sample.atMs >= oldest), {atMs: wallMs, value: snapshot.node.r}];
		// The matrix changes about once a second (a pull); the same object is handed on until then.
		const mesh = this.#source.meshMatrix?.();
		return {snapshot, rHistory: this.#rHistory, log: this.#log.toArray(), wallMs, ...(mesh === undefined ? {} : {mesh})};
	}
}

/** What a glance at the screen reads, as a string: equal strings, nothing worth a frame at once. */
function signatureOf(view: MeshView): string {
	const {snapshot} = view;
	let signature = `${snapshot.node.r.toFixed(2)}|${view.log.at(-1)?.seq ?? -1}|${JSON.stringify(snapshot.faults)}|${view.mesh?.pulledAtWallMs ?? ''}|`;
	for (const peer of snapshot.peers) {
		signature += `${peer.id}\u0000${peer.state}\u0000`;
	}

	for (const process of snapshot.demo ?? []) {
		signature += `|${process.id}\u0000${process.state}`;
	}

	return signature;
}
