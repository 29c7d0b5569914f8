/**
The recorder and the recording reader: a header first and a trailer last, gzip when the name ends in
.gz, the write queue that drops snapshots (never events or actions) when the disk falls behind and
says so in the trailer, and a reader that reads a damaged file up to the damage and says what it left
in one line.
*/

import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {afterAll, describe, expect, test} from 'vitest';
import {Recorder, recordingActions, sampledThrough} from '../../source/report/recording/recorder.js';
import {parseRecording, readRecording, RecordingError} from '../../source/report/recording/reader.js';
import {RecordingWriter} from '../../source/report/recording/writer.js';
import type {MeshController, SessionEvent, SessionSnapshot} from '../../source/session/controller.js';

const directory = mkdtempSync(path.join(tmpdir(), 'chorus-record-'));
afterAll(() => {
	rmSync(directory, {recursive: true, force: true});
});

function snapshot(t: number, peers = 3): SessionSnapshot {
	return {
		t,
		node: {id: 'n1', incarnation: 1, lamport: t, phase: 0.5, r: 0.9, endpoint: 'tcp://127.0.0.1:5555', omega: 3.1, hz: 10},
		peers: Array.from({length: peers}, (_, index) => ({
			id: `demo-${index + 1}`,
			state: 'alive',
			lamport: t,
			lastSeenMs: 40,
			ttlRemainingMs: 4960,
			phaseDiff: -0.04,
			incarnation: 7,
		})),
		stats: {received: t, admitted: t, rejected: {}, ticks: t, tickLateMs: {p50: 0.2, p99: 1, max: 1}},
		faults: {peers: {}},
		demo: [],
	} as unknown as SessionSnapshot;
}

function lines(file: string): Array<Record<string, unknown>> {
	const raw = readFileSync(file);
	const text = file.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
	return text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('Recorder', () => {
	test('writes a header, snapshots, events and actions stamped with the clock, and a trailer', async () => {
		const file = path.join(directory, 'plain.ndjson');
		let now = 1_000_000;
		const recorder = await Recorder.open(file, {flags: {demo: 4}, mode: 'tui', ttlMs: 5000, now: () => now});
		recorder.snapshot(snapshot(100));
		now += 100;
		recorder.event({t: 150, kind: 'peer-joined', peer: 'demo-1'});
		recorder.action('kill-peer', {target: 'demo-2', ok: true, message: 'demo-2 killed'});
		recorder.view({members: 3});
		await recorder.close();
		const written = lines(file);
		expect(written.map((line) => line['type'])).toEqual(['header', 'snapshot', 'event', 'action', 'view', 'trailer']);
		expect(written[0]).toMatchObject({format: 'chorus-record', version: 1, flags: {demo: 4}, startedAtMs: 1_000_000, mode: 'tui', ttlMs: 5000});
		expect(written[1]).toMatchObject({wallMs: 1_000_000, t: 100, node: {id: 'n1'}});
		expect(written[2]).toMatchObject({wallMs: 1_000_100, kind: 'peer-joined', peer: 'demo-1'});
		expect(written[3]).toMatchObject({action: 'kill-peer', target: 'demo-2', ok: true});
		expect(written[5]).toMatchObject({records: 4, droppedSnapshots: 0, droppedEvents: 0});
	});

	test('gzips when the name ends in .gz, and a file cut short still reads up to the cut', async () => {
		const file = path.join(directory, 'session.ndjson.gz');
		const recorder = await Recorder.open(file, {flags: {}, mode: 'headless', ttlMs: 5000});
		for (let index = 0; index < 200; index++) {
			recorder.snapshot(snapshot(index * 100));
		}

		await recorder.close();
		const written = lines(file);
		expect(written).toHaveLength(202);
		const plainBytes = written.map((line) => JSON.stringify(line).length + 1).reduce((sum, bytes) => sum + bytes, 0);
		expect(readFileSync(file).length).toBeLessThan(plainBytes / 5);

		// A killed recorder: the stream stops mid-way, no trailer.
		const raw = readFileSync(file);
		const cut = parseRecording(raw.subarray(0, Math.floor(raw.length * 0.6)));
		expect(cut.records.length).toBeGreaterThan(0);
		expect(cut.records.length).toBeLessThan(200);
		expect(cut.trailer).toBeUndefined();
		expect(cut.damage).toMatch(/^recording (damaged|has no trailer)/);
	});

	test('a slow disk: snapshots are dropped (never events or actions), counted, and the trailer says so', async () => {
		const file = path.join(directory, 'slow.ndjson');
		const writer = new RecordingWriter(file, {maxQueuedBytes: 4000});
		await writer.opened();
		// Everything in one turn: nothing drains meanwhile, as with a disk that does not keep up.
		const big = JSON.stringify({type: 'snapshot', wallMs: 1, node: {}, peers: [], pad: 'x'.repeat(900)}) + '\n';
		for (let index = 0; index < 20; index++) {
			writer.write(big, 'snapshot');
			writer.write(JSON.stringify({type: 'event', wallMs: 1, kind: 'peer-joined', n: index}) + '\n', 'other');
		}

		expect(writer.droppedSnapshots).toBeGreaterThan(10);
		expect(writer.queuedBytes).toBeLessThanOrEqual(4000 + 200);
		await writer.close(JSON.stringify({type: 'trailer', wallMs: 2, records: 40, droppedSnapshots: writer.droppedSnapshots, droppedEvents: writer.droppedEvents}) + '\n');
		const written = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as {type: string; n?: number});
		expect(written.filter((line) => line.type === 'event').map((line) => line.n)).toEqual(Array.from({length: 20}, (_, index) => index));
		expect(writer.droppedEvents).toBe(0);
		const recording = parseRecording(Buffer.from(`${JSON.stringify({type: 'header', format: 'chorus-record', version: 1, startedAtMs: 0, flags: {}, mode: 'headless', ttlMs: 5000})}\n${readFileSync(file, 'utf8')}`));
		expect(recording.damage).toMatch(/dropped \d+ snapshots and 0 events/);
	});

	test('a file that cannot be written is one line, not a crash', async () => {
		await expect(Recorder.open(path.join(directory, 'no/such/folder/x.ndjson'), {flags: {}, mode: 'tui', ttlMs: 5000})).rejects.toThrow(/^--record: cannot write .*: ENOENT$/);
	});

	test('the UI side: every store sample and every operator action is recorded, with its result', async () => {
		const file = path.join(directory, 'ui.ndjson');
		const recorder = await Recorder.open(file, {flags: {}, mode: 'tui', ttlMs: 5000});
		let faultsSet = 0;
		const controller = {
			snapshot: () => snapshot(5),
			on: () => () => {},
			setInboundFault() {
				faultsSet++;
				if (faultsSet === 2) {
					throw new Error('no such peer: ghost');
				}
			},
			setOutboundFault() {},
			clearFaults() {},
			isDemoPeer: () => true,
			killPeer: async (id: string) => ({ok: true, message: `${id} killed (SIGKILL, pid 42)`}),
			togglePausePeer: async () => ({ok: false, message: 'not running'}),
			revivePeer: async (id: string) => ({ok: true, message: `${id} revived`}),
			async stop() {},
		} as unknown as MeshController;
		const sampled = sampledThrough(controller, recorder);
		const acting = recordingActions(controller, recorder);
		sampled.snapshot();
		sampled.on(() => {});
		acting.snapshot();
		acting.setInboundFault('demo-2', {drop: 0.3});
		expect(() => {
			acting.setInboundFault('ghost', {drop: 0.3});
		}).toThrow('no such peer');
		await acting.killPeer('demo-3');
		await acting.togglePausePeer('demo-1');
		await recorder.close();
		const written = lines(file);
		// The reducer's reads of the controller are not samples: one snapshot only.
		expect(written.filter((line) => line['type'] === 'snapshot')).toHaveLength(1);
		expect(written.filter((line) => line['type'] === 'action').map((line) => [line['action'], line['target'], line['ok']])).toEqual([
			['ui-listening', undefined, true],
			['set-inbound-fault', 'demo-2', true],
			['set-inbound-fault', 'ghost', false],
			['kill-peer', 'demo-3', true],
			['toggle-pause-peer', 'demo-1', false],
		]);
	});
});

describe('readRecording', () => {
	const header = JSON.stringify({type: 'header', format: 'chorus-record', version: 1, flags: {}, startedAt: '', startedAtMs: 1000, mode: 'tui', ttlMs: 5000});
	const record = (wallMs: number) => JSON.stringify({type: 'snapshot', wallMs, ...snapshot(wallMs - 1000)});
	const trailer = JSON.stringify({type: 'trailer', wallMs: 9000, records: 2, droppedSnapshots: 0, droppedEvents: 0});

	test('a sound file: every record, the trailer, no damage', () => {
		const recording = parseRecording(Buffer.from([header, record(1100), record(2100), trailer, ''].join('\n')));
		expect(recording.records).toHaveLength(2);
		expect(recording.damage).toBeUndefined();
	});

	test('a partial last line: read up to it, and one line says where and what', () => {
		const text = [header, record(1100), record(2100), record(3100).slice(0, 50)].join('\n');
		const recording = parseRecording(Buffer.from(text));
		expect(recording.records).toHaveLength(2);
		expect(recording.damage).toBe('recording damaged after 1.1 s: a partial last line (the recorder was stopped mid-write); 1 line not replayed');
	});

	test('garbage in the middle: read up to it', () => {
		const recording = parseRecording(Buffer.from([header, record(1100), '\u0000\u00FFgarbage', record(2100), ''].join('\n')));
		expect(recording.records).toHaveLength(1);
		expect(recording.damage).toMatch(/^recording damaged after 0\.1 s: line 3 is not a record; 2 lines not replayed$/);
	});

	test('a newer version is read as far as its records are known, and says so', () => {
		const newer = header.replace('"version":1', '"version":2');
		const recording = parseRecording(Buffer.from([newer, record(1100), JSON.stringify({type: 'delta', wallMs: 1200}), ''].join('\n')));
		expect(recording.records).toHaveLength(1);
		expect(recording.damage).toMatch(/^format version 2 is newer than this chorus-tui reads \(1\).*line 3 is not a record/);
	});

	test('not a recording at all, or no file: a RecordingError of one line', async () => {
		expect(() => parseRecording(Buffer.from('hello\n'))).toThrow(RecordingError);
		expect(() => parseRecording(Buffer.from('{"type":"snapshot"}\n'))).toThrow(/not a chorus-tui recording/);
		expect(() => parseRecording(Buffer.from(''))).toThrow(RecordingError);
		await expect(readRecording(path.join(directory, 'missing.ndjson'))).rejects.toThrow(/cannot read .*ENOENT/);
		writeFileSync(path.join(directory, 'binary.gz'), Buffer.from([0x1F, 0x8B, 0, 1, 2, 3]));
		await expect(readRecording(path.join(directory, 'binary.gz'))).rejects.toThrow(RecordingError);
	});

	test('fuzz: any bytes after a sound header never throw', () => {
		let seed = 7;
		const random = () => {
			seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
			return seed / 2_147_483_648;
		};

		for (let round = 0; round < 300; round++) {
			const sound = [header, record(1100), record(2100), trailer].join('\n');
			const bytes = Buffer.from(sound);
			const cut = Math.floor(random() * bytes.length);
			const noise = Buffer.from(Array.from({length: Math.floor(random() * 40)}, () => Math.floor(random() * 256)));
			const damaged = Buffer.concat([bytes.subarray(0, Math.max(cut, header.length + 1)), noise]);
			const recording = parseRecording(damaged);
			expect(recording.records.length).toBeLessThanOrEqual(2);
		}
	});
});
