/**
`--record` on a running session: open the file, record every event from now on (and, headless,
a snapshot every --report-ms; while the mesh is watched, its matrix each pull), and close it with
its trailer when the session ends.
*/

import {performance} from 'node:perf_hooks';
import type {Config} from '../../config.js';
import type {MeshController, MeshMatrix} from '../../session/controller.js';
import {encodeMatrix} from '../../session/mesh-record.js';
import {Recorder, recordEvents, recordEvery} from './recorder.js';

/** A session whose mesh watch tells each matrix it builds (MeshSession.onMeshMatrix). */
type MatrixSource = {onMeshMatrix?: (listener: (matrix: MeshMatrix) => void) => () => void};

/**
Bytes a second the mesh matrices may take in a recording, on average: 200 × 200 members (about
45 KB a matrix) is recorded at every pull; 1,000 × 1,000 (1 MB) about every 16 s.
*/
export const MATRIX_BYTES_PER_S = 64 * 1024;

/**
Record the matrix of each mesh-watch pull (while the mesh view is open), within MATRIX_BYTES_PER_S:
a matrix is skipped until the one before it has had its share of time.
*/
export function recordMatrices(source: MatrixSource, recorder: Recorder, now = () => performance.now()): () => void {
	if (source.onMeshMatrix === undefined) {
		return () => {};
	}

	let nextAtMs = Number.NEGATIVE_INFINITY;
	return source.onMeshMatrix((matrix) => {
		const nowMs = now();
		if (nowMs < nextAtMs) {
			return;
		}

		const record = encodeMatrix(matrix);
		const bytes = JSON.stringify(record).length;
		nextAtMs = nowMs + (bytes / MATRIX_BYTES_PER_S) * 1000;
		recorder.view(record);
	});
}

export type SessionRecording = {
	recorder: Recorder;
	/** Stop recording and close the file (after the session stopped: its last events are kept). */
	stop: () => Promise<void>;
};

/** The flags a recording's header keeps: the config as it ran, the scenario by name. */
export function recordedFlags(config: Config): Record<string, unknown> {
	const {scenario, ...rest} = config;
	return {...rest, scenario: scenario === undefined ? undefined : ((scenario as {name?: string}).name ?? '(unnamed)')};
}

/**
Start recording `session` to `config.recordFile`; undefined without --record. Rejects with one line
(`--record: cannot write …`) when the file cannot be written.
*/
export async function startSessionRecording(config: Config, session: Pick<MeshController, 'on' | 'snapshot'> & MatrixSource, mode: 'tui' | 'headless'): Promise<SessionRecording | undefined> {
	if (config.recordFile === undefined) {
		return undefined;
	}

	const recorder = await Recorder.open(config.recordFile, {flags: recordedFlags(config), mode, ttlMs: config.ttlMs});
	const stopEvents = recordEvents(session, recorder);
	// The terminal UI records each sample its store takes (see sampledThrough); headless, the report rhythm.
	const stopSnapshots = mode === 'headless' ? recordEvery(session, recorder, config.reportMs) : () => {};
	const stopMatrices = recordMatrices(session, recorder);
	return {
		recorder,
		async stop() {
			stopMatrices();
			stopSnapshots();
			stopEvents();
			await recorder.close();
		},
	};
}
