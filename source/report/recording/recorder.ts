/**
`--record <file>`: what a running session showed and what was done to it, written as it happens.
The terminal UI records every sample its store takes (so a replay shows the same screens, ages and
bars included) and every operator action; a headless node records a snapshot every --report-ms.
Both record every event. Mesh views (the control plane's `view`) go through `view()`.
*/

import type {MemberFault, MeshController, PartitionShape, PeerActionResult, SessionEvent, SessionSnapshot} from '../../session/controller.js';
import {UI_LISTENING} from '../../session/replay-session.js';
import {RECORDING_FORMAT, RECORDING_VERSION, type RecordingHeader, type RecordingTrailer} from './format.js';
import {RecordingWriter, type RecordingWriterOptions} from './writer.js';

export type RecorderOptions = RecordingWriterOptions & {
	/** The flags as the operator typed them, for the header. */
	flags: Record<string, unknown>;
	mode: 'tui' | 'headless';
	ttlMs: number;
	/** Wall clock; tests pass their own. */
	now?: () => number;
};

export class Recorder {
	readonly #writer: RecordingWriter;
	readonly #now: () => number;
	#records = 0;
	#closed = false;

	/** Open `file` and write the header; rejects with one line when the file cannot be written. */
	static async open(file: string, options: RecorderOptions): Promise<Recorder> {
		const recorder = new Recorder(file, options);
		try {
			await recorder.#writer.opened();
		} catch (error) {
			throw new Error(`--record: cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, {cause: error});
		}

		return recorder;
	}

	private constructor(file: string, options: RecorderOptions) {
		this.#writer = new RecordingWriter(file, options);
		this.#now = options.now ?? Date.now;
		const startedAtMs = this.#now();
		const header: RecordingHeader = {
			type: 'header',
			format: RECORDING_FORMAT,
			version: RECORDING_VERSION,
			flags: options.flags,
			startedAt: new Date(startedAtMs).toISOString(),
			startedAtMs,
			mode: options.mode,
			ttlMs: options.ttlMs,
		};
		this.#writer.write(JSON.stringify(header) + '\n', 'other');
	}

	/** Counters for the bench and the tests. */
	get stats(): {records: number; writtenBytes: number; droppedSnapshots: number; droppedEvents: number; queuedBytes: number} {
		return {
			records: this.#records,
			writtenBytes: this.#writer.writtenBytes,
			droppedSnapshots: this.#writer.droppedSnapshots,
			droppedEvents: this.#writer.droppedEvents,
			queuedBytes: this.#writer.queuedBytes,
		};
	}

	/** Record a snapshot as the UI (or the headless reporter) took it; returns it unchanged. */
	snapshot(snapshot: SessionSnapshot): SessionSnapshot {
		this.#records++;
		this.#writer.write(JSON.stringify({type: 'snapshot', wallMs: this.#now(), ...snapshot}) + '\n', 'snapshot');
		return snapshot;
	}

	event(event: SessionEvent): void {
		this.#records++;
		this.#writer.write(JSON.stringify({type: 'event', wallMs: this.#now(), ...event}) + '\n', 'other');
	}

	/** What the operator did, and what came of it. */
	action(action: string, details: {target?: string; ok: boolean; message: string; [detail: string]: unknown}): void {
		this.#records++;
		this.#writer.write(JSON.stringify({type: 'action', wallMs: this.#now(), action, ...details}) + '\n', 'other');
	}

	/**
	A mesh view: the matrix the mesh watch built from the members' `view` replies, compact
	(session/mesh-record.ts encodes it; replay decodes the last one for its mesh view). Views are
	dropped like snapshots when the disk falls behind.
	*/
	view(view: unknown): void {
		this.#records++;
		this.#writer.write(JSON.stringify({type: 'view', wallMs: this.#now(), view}) + '\n', 'snapshot');
	}

	/** Write the trailer (counts and drops) and close the file. */
	async close(): Promise<void> {
		if (this.#closed) {
			return;
		}

		this.#closed = true;
		const trailer: RecordingTrailer = {
			type: 'trailer',
			wallMs: this.#now(),
			records: this.#records,
			droppedSnapshots: this.#writer.droppedSnapshots,
			droppedEvents: this.#writer.droppedEvents,
		};
		await this.#writer.close(JSON.stringify(trailer) + '\n');
	}
}

/** Record every event of `source` until the returned function is called. */
export function recordEvents(source: Pick<MeshController, 'on'>, recorder: Recorder): () => void {
	return source.on((event) => {
		recorder.event(event);
	});
}

/** Record a snapshot of `source` every `everyMs` (headless: the --report-ms rhythm). */
export function recordEvery(source: Pick<MeshController, 'snapshot'>, recorder: Recorder, everyMs: number): () => void {
	const timer = setInterval(() => {
		recorder.snapshot(source.snapshot());
	}, everyMs);
	return () => {
		clearInterval(timer);
	};
}

/**
What the UI's store samples: the controller's snapshots, each one recorded as it is taken, and the
moment the store starts to listen to events (a replay shows the events from there, as the live
screen did).
*/
export function sampledThrough(controller: MeshController, recorder: Recorder): Pick<MeshController, 'snapshot' | 'on'> {
	return {
		snapshot: () => recorder.snapshot(controller.snapshot()),
		on(listener) {
			recorder.action(UI_LISTENING, {ok: true, message: ''});
			return controller.on(listener);
		},
	};
}

/** The controller with every operator action recorded, stamped with its time and its result. */
export function recordingActions(controller: MeshController, recorder: Recorder): MeshController {
	const change = (action: string, details: Record<string, unknown>, run: () => void) => {
		try {
			run();
		} catch (error) {
			recorder.action(action, {...details, ok: false, message: (error as Error).message ?? String(error)});
			throw error;
		}

		recorder.action(action, {...details, ok: true, message: ''});
	};

	const act = async (action: string, id: string, run: () => Promise<PeerActionResult>) => {
		try {
			const result = await run();
			recorder.action(action, {target: id, ok: result.ok, message: result.message});
			return result;
		} catch (error) {
			recorder.action(action, {target: id, ok: false, message: `failed: ${(error as Error).message ?? String(error)}`});
			throw error;
		}
	};

	return {
		snapshot: () => controller.snapshot(),
		on: (listener) => controller.on(listener),
		setInboundFault(target, patch) {
			change('set-inbound-fault', {target, patch}, () => {
				controller.setInboundFault(target, patch);
			});
		},
		setOutboundFault(patch) {
			change('set-outbound-fault', {patch}, () => {
				controller.setOutboundFault(patch);
			});
		},
		clearFaults() {
			change('clear-faults', {}, () => {
				controller.clearFaults();
			});
		},
		isDemoPeer: (id) => controller.isDemoPeer(id),
		killPeer: async (id) => act('kill-peer', id, async () => controller.killPeer(id)),
		togglePausePeer: async (id) => act('toggle-pause-peer', id, async () => controller.togglePausePeer(id)),
		revivePeer: async (id) => act('revive-peer', id, async () => controller.revivePeer(id)),
		// The mesh-wide calls, where the controller has them: the view's reads pass through, the actions are recorded.
		...(controller.meshMatrix === undefined ? {} : {meshMatrix: () => controller.meshMatrix!()}),
		...(controller.watchMesh === undefined
			? {}
			: {
				watchMesh(on: boolean) {
					controller.watchMesh!(on);
				},
			}),
		...(controller.setMemberFault === undefined
			? {}
			: {setMemberFault: async (member: string, fault: MemberFault) => act('set-member-fault', member, async () => controller.setMemberFault!(member, fault))}),
		...(controller.partition === undefined
			? {}
			: {partition: async (shape: PartitionShape, selected: string | undefined) => act(`partition-${shape}`, selected ?? 'all', async () => controller.partition!(shape, selected))}),
		...(controller.clearAll === undefined ? {} : {clearAll: async () => act('clear-all', 'all', async () => controller.clearAll!())}),
		...(controller.stopMember === undefined ? {} : {stopMember: async (member: string) => act('stop-member', member, async () => controller.stopMember!(member))}),
		stop: async () => controller.stop(),
	};
}
