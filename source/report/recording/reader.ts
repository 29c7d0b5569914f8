/**
Read a recording back, as far as it is sound. A file cut by a killed process (a partial last line,
a gzip stream that stops short), garbage, or a newer format version is read up to the damage; what
was left is described in one line (`damage`), never thrown.
*/

import {readFile, stat} from 'node:fs/promises';
import zlib from 'node:zlib';
import {RECORDING_FORMAT, RECORDING_VERSION, type RecordingHeader, type RecordingTrailer, type ReplayRecord} from './format.js';

/** A recording larger than this (once decompressed) is read up to here. */
export const MAX_RECORDING_BYTES = 512 * 1024 * 1024;

export type Recording = {
	header: RecordingHeader;
	records: ReplayRecord[];
	trailer: RecordingTrailer | undefined;
	/** One line saying what could not be read, or undefined when the whole file was sound. */
	damage: string | undefined;
};

export class RecordingError extends Error {}

const RECORD_TYPES = new Set(['snapshot', 'event', 'action', 'view']);

/** Read and check a recording; throws RecordingError (one line) only when nothing at all can be replayed. */
export async function readRecording(file: string): Promise<Recording> {
	let raw: Buffer;
	try {
		const info = await stat(file);
		if (!info.isFile()) {
			throw new RecordingError(`${file} is not a file`);
		}

		raw = await readFile(file);
	} catch (error) {
		if (error instanceof RecordingError) {
			throw error;
		}

		throw new RecordingError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}

	return parseRecording(raw);
}

/** Parse the bytes of a recording (gzip or plain). */
export function parseRecording(raw: Buffer): Recording {
	let text: string;
	let cut: string | undefined;
	if (raw[0] === 0x1F && raw[1] === 0x8B) {
		try {
			// A sync flush at the end reads a stream that stops short (a killed recorder) as far as it goes.
			text = zlib.gunzipSync(raw, {finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: MAX_RECORDING_BYTES}).toString('utf8');
		} catch (error) {
			throw new RecordingError(`not a readable gzip stream: ${(error as Error).message}`);
		}
	} else {
		text = raw.subarray(0, MAX_RECORDING_BYTES).toString('utf8');
		if (raw.length > MAX_RECORDING_BYTES) {
			cut = `the file is larger than ${MAX_RECORDING_BYTES / 1024 / 1024} MiB; read up to there`;
		}
	}

	const lines = text.split('\n');
	const endsInNewline = lines.at(-1) === '';
	if (endsInNewline) {
		lines.pop();
	}

	const header = parseHeader(lines[0]);
	const records: ReplayRecord[] = [];
	let trailer: RecordingTrailer | undefined;
	let damage: string | undefined;
	const at = (wallMs: number) => `${((wallMs - header.startedAtMs) / 1000).toFixed(1)} s`;
	for (let index = 1; index < lines.length; index++) {
		const line = lines[index]!;
		const record = parseLine(line);
		const partial = index === lines.length - 1 && !endsInNewline;
		if (record === undefined || trailer !== undefined) {
			const last = records.at(-1);
			const where = last ? `after ${at(last.wallMs)}` : 'before the first record';
			const rest = lines.length - index;
			const what = trailer ? 'data after the trailer' : partial ? 'a partial last line (the recorder was stopped mid-write)' : `line ${index + 1} is not a record`;
			damage = `recording damaged ${where}: ${what}; ${rest} line${rest === 1 ? '' : 's'} not replayed`;
			break;
		}

		if (record.type === 'trailer') {
			trailer = record;
			continue;
		}

		records.push(record);
	}

	if (damage === undefined && trailer === undefined && records.length > 0) {
		damage = `recording has no trailer: it was cut after ${at(records.at(-1)!.wallMs)} (the recorder did not close it)`;
	}

	if (damage === undefined && trailer && (trailer.droppedSnapshots > 0 || trailer.droppedEvents > 0)) {
		damage = `the recorder dropped ${trailer.droppedSnapshots} snapshots and ${trailer.droppedEvents} events (the disk fell behind)`;
	}

	if (header.version > RECORDING_VERSION) {
		const note = `format version ${header.version} is newer than this chorus-tui reads (${RECORDING_VERSION}): records it knows were replayed`;
		damage = damage ? `${note}; ${damage}` : note;
	}

	if (cut) {
		damage = damage ? `${cut}; ${damage}` : cut;
	}

	return {header, records, trailer, damage};
}

function parseHeader(line: string | undefined): RecordingHeader {
	let header: unknown;
	try {
		header = JSON.parse(line ?? '');
	} catch {
		throw new RecordingError('not a chorus-tui recording: the first line is not a JSON header');
	}

	const value = header as Partial<RecordingHeader> | undefined;
	if (typeof value !== 'object' || value?.type !== 'header' || value.format !== RECORDING_FORMAT) {
		throw new RecordingError(`not a chorus-tui recording: the first line is not a ${RECORDING_FORMAT} header`);
	}

	if (typeof value.version !== 'number' || typeof value.startedAtMs !== 'number' || !Number.isFinite(value.startedAtMs)) {
		throw new RecordingError('not a chorus-tui recording: the header has no version or start time');
	}

	const checked: RecordingHeader = {
		...(value as RecordingHeader),
		flags: typeof value.flags === 'object' && value.flags !== null ? value.flags : {},
		mode: value.mode === 'headless' ? 'headless' : 'tui',
		ttlMs: typeof value.ttlMs === 'number' && value.ttlMs > 0 ? value.ttlMs : 5000,
	};
	return checked;
}

/** One record, or undefined when the line is not one (garbage, a cut line, an unknown shape). */
function parseLine(line: string): ReplayRecord | RecordingTrailer | undefined {
	let value: unknown;
	try {
		value = JSON.parse(line);
	} catch {
		return undefined;
	}

	if (typeof value !== 'object' || value === null) {
		return undefined;
	}

	const record = value as {type?: unknown; wallMs?: unknown; node?: unknown; peers?: unknown; kind?: unknown};
	if (typeof record.wallMs !== 'number' || !Number.isFinite(record.wallMs)) {
		return undefined;
	}

	if (record.type === 'trailer') {
		return value as RecordingTrailer;
	}

	if (typeof record.type !== 'string' || !RECORD_TYPES.has(record.type)) {
		return undefined;
	}

	if (record.type === 'snapshot' && (typeof record.node !== 'object' || record.node === null || !Array.isArray(record.peers))) {
		return undefined;
	}

	if (record.type === 'event' && typeof record.kind !== 'string') {
		return undefined;
	}

	if (record.type === 'snapshot') {
		// A damaged or hand-made snapshot must not take the screen down: what the UI reads is always there.
		const snapshot = value as {faults?: unknown; demo?: unknown; stats?: unknown};
		snapshot.faults = typeof snapshot.faults === 'object' && snapshot.faults !== null ? snapshot.faults : {peers: {}};
		snapshot.demo = Array.isArray(snapshot.demo) ? snapshot.demo : [];
	}

	return value as ReplayRecord;
}
