/**
The recording format: NDJSON in the headless schema (report/ndjson.ts), every record stamped with
the recorder's wall clock (`wallMs`), a header line first and a trailer line last. The record types
live beside the replay session (session/replay-session.ts), which reads them.
*/

export type {
	RecordedAction,
	RecordedEvent,
	RecordedSnapshot,
	RecordedView,
	RecordingHeader,
	RecordingTrailer,
	ReplayRecord,
} from '../../session/replay-session.js';

/** The `format` of a recording's header line. */
export const RECORDING_FORMAT = 'chorus-record';
/** The version this build writes and reads; a newer one is read as far as its records are known. */
export const RECORDING_VERSION = 1;

/** Whether a recording's name asks for gzip. */
export function isGzipName(file: string): boolean {
	return file.toLowerCase().endsWith('.gz');
}
