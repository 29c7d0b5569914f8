/**
Plays a recording into the terminal UI's store: it moves a clock through the recorded wall times
and hands each record to the replay session (snapshots, events) and the store (samples, the UI's
own log lines) as the live session did, so that the store takes the same samples and shows the same
frames. Seeking back rebuilds a fresh store from the start: the store's history (the r sparkline,
the log) is what the records before that point made it.
*/

import type {ReplayControl} from '../ui/app.js';
import {escapeControl} from '../ui/format.js';
import {MeshStore} from '../ui/mesh-store.js';
import type {ReplayCommand} from '../ui/state.js';
import {REPLAY_SEEK_MS, REPLAY_SPEEDS} from '../ui/keymap.js';
import {ReplaySession, UI_LISTENING, type RecordedSnapshot, type RecordingHeader, type ReplayRecord} from '../session/replay-session.js';

/** The live UI's rates (run/tui.tsx): the replayed store decides which samples reach the screen as it did. */
const QUIET_REFRESH_MS = 250;
/** How often the player moves its clock while playing. */
const STEP_MS = 20;
/** The store's own timer must never fire in a replay: every sample comes from the recording. */
const NEVER_MS = 1_000_000_000;

export type ReplayPlayerOptions = {
	speed?: number;
	/** Start playing at once. @default true */
	play?: boolean;
	/** Told when playback reaches the end. */
	onEnd?: () => void;
	/** What could not be read (reader.ts): logged once the replay reaches it. */
	damage?: string;
};

export type ReplayState = {store: MeshStore; control: ReplayControl};

export class ReplayPlayer {
	readonly session = new ReplaySession();
	readonly header: RecordingHeader;
	readonly #records: readonly ReplayRecord[];
	readonly startMs: number;
	readonly endMs: number;
	#store: MeshStore;
	#clockMs: number;
	#positionMs: number;
	#next = 0;
	/** Whether the live UI's store listened to events yet at this point of the recording. */
	#listening = false;
	#speed: number;
	#playing: boolean;
	#timer: NodeJS.Timeout | undefined;
	#lastStepMs = 0;
	#state: ReplayState;
	readonly #listeners = new Set<() => void>();
	readonly #onEnd: (() => void) | undefined;
	readonly #damage: string | undefined;
	#damageShown = false;

	constructor(header: RecordingHeader, records: readonly ReplayRecord[], options: ReplayPlayerOptions = {}) {
		this.header = header;
		this.#records = records;
		this.startMs = records[0]?.wallMs ?? header.startedAtMs;
		this.endMs = Math.max(this.startMs, records.at(-1)?.wallMs ?? this.startMs);
		this.#clockMs = this.startMs;
		this.#positionMs = this.startMs;
		this.#speed = nearestSpeed(options.speed ?? 1);
		this.#playing = options.play ?? true;
		this.#onEnd = options.onEnd;
		this.#damage = options.damage;
		this.#store = this.#freshStore();
		this.#state = this.#makeState();
	}

	get positionMs(): number {
		return this.#positionMs;
	}

	get playing(): boolean {
		return this.#playing;
	}

	get speed(): number {
		return this.#speed;
	}

	/** Start the clock (playing or paused, as chosen). */
	start(): void {
		this.#store.start();
		this.#lastStepMs = performance.now();
		this.#timer ??= setInterval(() => {
			this.#step();
		}, STEP_MS);
	}

	stop(): void {
		clearInterval(this.#timer);
		this.#timer = undefined;
		this.#store.stop();
	}

	readonly subscribe = (listener: () => void): (() => void) => {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	};

	readonly getState = (): ReplayState => this.#state;

	command(command: ReplayCommand): void {
		switch (command) {
			case 'toggle-play': {
				if (!this.#playing && this.#positionMs >= this.endMs) {
					// At the end, play starts over.
					this.seek(this.startMs);
				}

				this.#playing = !this.#playing;
				this.#lastStepMs = performance.now();
				break;
			}

			case 'faster':
			case 'slower': {
				const index = REPLAY_SPEEDS.indexOf(this.#speed as (typeof REPLAY_SPEEDS)[number]);
				this.#speed = REPLAY_SPEEDS[Math.min(REPLAY_SPEEDS.length - 1, Math.max(0, index + (command === 'faster' ? 1 : -1)))]!;
				break;
			}

			case 'back': {
				this.seek(this.#positionMs - REPLAY_SEEK_MS);
				break;
			}

			case 'forward': {
				this.seek(this.#positionMs + REPLAY_SEEK_MS);
				break;
			}

			case 'previous-event': {
				// Before the event just shown (a little slack: pressing [ twice must go further back).
				const event = this.#records.findLast((record) => record.type === 'event' && record.wallMs < this.#positionMs - 1);
				this.seek(event?.wallMs ?? this.startMs);
				break;
			}

			case 'next-event': {
				const event = this.#records.find((record) => record.type === 'event' && record.wallMs > this.#positionMs);
				this.seek(event?.wallMs ?? this.endMs);
				break;
			}

			case 'start': {
				this.seek(this.startMs);
				break;
			}

			case 'end': {
				this.seek(this.endMs);
				break;
			}
		}

		this.#changed();
	}

	/** Show the recording as it was at `positionMs` (clamped to the recording). */
	seek(positionMs: number): void {
		const target = Math.min(this.endMs, Math.max(this.startMs, positionMs));
		if (target < this.#positionMs) {
			this.#rebuild();
		}

		this.#advanceTo(target);
		this.#lastStepMs = performance.now();
		this.#changed();
	}

	/** Play everything up to the end at once (for --cast and tests). */
	records(): readonly ReplayRecord[] {
		return this.#records;
	}

	/**
	Deliver the next record, whatever its time; false at the end. Renderers that go frame by frame
	(`--cast`) drive the player with this instead of the clock.
	*/
	stepRecord(): ReplayRecord | undefined {
		const record = this.#records[this.#next];
		if (record === undefined) {
			return undefined;
		}

		this.#deliver(record);
		this.#next++;
		this.#positionMs = Math.max(this.#positionMs, record.wallMs);
		return record;
	}

	#step(): void {
		const now = performance.now();
		const elapsed = now - this.#lastStepMs;
		this.#lastStepMs = now;
		if (!this.#playing) {
			return;
		}

		const target = Math.min(this.endMs, this.#positionMs + elapsed * this.#speed);
		this.#advanceTo(target);
		if (this.#positionMs >= this.endMs) {
			this.#playing = false;
			this.#changed();
			this.#onEnd?.();
		}
	}

	#advanceTo(positionMs: number): void {
		while (this.#next < this.#records.length && this.#records[this.#next]!.wallMs <= positionMs) {
			this.#deliver(this.#records[this.#next]!);
			this.#next++;
		}

		this.#positionMs = positionMs;
		if (this.#next >= this.#records.length && this.#damage !== undefined && !this.#damageShown) {
			// The end of what could be read: say why there is no more, where it happened.
			this.#damageShown = true;
			this.#store.log(escapeControl(this.#damage), 'bad');
			this.#store.sample();
		}
	}

	#deliver(record: ReplayRecord): void {
		this.#clockMs = record.wallMs;
		switch (record.type) {
			case 'snapshot': {
				this.session.show(record);
				this.#store.tick();
				break;
			}

			case 'event': {
				// Events before the live store listened never reached the live screen.
				if (this.#listening) {
					this.session.emit(record);
				}

				break;
			}

			case 'action': {
				if (record.action === UI_LISTENING) {
					this.#listening = true;
					break;
				}

				// The live UI logged refusals and failures itself (app.tsx): the same lines, at the same time.
				if (!record.ok && record.message !== '') {
					this.#store.log(escapeControl(record.message), record.message.startsWith('failed:') ? 'bad' : 'warn');
				}

				break;
			}

			case 'view': {
				this.session.showView(record);
				break;
			}
		}
	}

	/** A fresh store at the start: seeking back replays the records from the first. */
	#rebuild(): void {
		this.#store.stop();
		this.#store = this.#freshStore();
		this.#store.start();
	}

	/**
	A store as the live one began: its first sample, taken when it was made, is the recording's first
	snapshot (a terminal UI recording starts with it); a headless one starts listening at once.
	*/
	#freshStore(): MeshStore {
		this.session.reset();
		this.#next = 0;
		this.#listening = this.header.mode !== 'tui';
		this.#damageShown = false;
		this.#clockMs = this.startMs;
		this.#positionMs = this.startMs;
		// In a terminal UI recording the store was made after the recorder started: the records before
		// its first sample (events nobody showed) are passed, and that sample is the store's first.
		const first = this.header.mode === 'tui' ? this.#records.findIndex((record) => record.type === 'snapshot') : -1;
		if (first !== -1) {
			for (const record of this.#records.slice(0, first)) {
				if (record.type === 'view') {
					this.session.showView(record);
				}
			}

			this.session.show(this.#records[first] as RecordedSnapshot);
			this.#next = first + 1;
			this.#clockMs = this.#records[first]!.wallMs;
		}

		return new MeshStore(this.session, {sampleMs: NEVER_MS, quietRefreshMs: QUIET_REFRESH_MS, now: () => this.#clockMs});
	}

	#makeState(): ReplayState {
		return {
			store: this.#store,
			control: {
				playing: this.#playing,
				speed: this.#speed,
				startMs: this.startMs,
				endMs: this.endMs,
				atEnd: !this.#playing && this.#positionMs >= this.endMs,
				command: (command) => {
					this.command(command);
				},
			},
		};
	}

	#changed(): void {
		this.#state = this.#makeState();
		for (const listener of this.#listeners) {
			listener();
		}
	}
}

function nearestSpeed(speed: number): number {
	let best: number = REPLAY_SPEEDS[0];
	for (const candidate of REPLAY_SPEEDS) {
		if (Math.abs(Math.log(candidate / speed)) < Math.abs(Math.log(best / speed))) {
			best = candidate;
		}
	}

	return best;
}
