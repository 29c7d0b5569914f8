/**
`--record` on a running session: open the file, record every event from now on (and, headless,
a snapshot every --report-ms), and close it with its trailer when the session ends.
*/

import type {Config} from '../../config.js';
import type {MeshController} from '../../session/controller.js';
import {Recorder, recordEvents, recordEvery} from './recorder.js';

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
export async function startSessionRecording(config: Config, session: Pick<MeshController, 'on' | 'snapshot'>, mode: 'tui' | 'headless'): Promise<SessionRecording | undefined> {
	if (config.recordFile === undefined) {
		return undefined;
	}

	const recorder = await Recorder.open(config.recordFile, {flags: recordedFlags(config), mode, ttlMs: config.ttlMs});
	const stopEvents = recordEvents(session, recorder);
	// The terminal UI records each sample its store takes (see sampledThrough); headless, the report rhythm.
	const stopSnapshots = mode === 'headless' ? recordEvery(session, recorder, config.reportMs) : () => {};
	return {
		recorder,
		async stop() {
			stopSnapshots();
			stopEvents();
			await recorder.close();
		},
	};
}
