/**
Recording and replay together, without a terminal: a live store sampled through the recorder and a
replay player fed the file show the same frames (every published view: its time, the snapshot, the
r history, the log), and the player's keys move it as they say: seek, the previous and the next
event, the start and the end, speeds from ¼× to 16×. A damaged file shows its damage once the
replay reaches it.
*/

import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, test} from 'vitest';
import {Recorder, recordEvents, sampledThrough} from '../../source/report/recording/recorder.js';
import {readRecording} from '../../source/report/recording/reader.js';
import {ReplayPlayer} from '../../source/run/replay-player.js';
import type {MeshController, SessionEvent, SessionSnapshot} from '../../source/session/controller.js';
import {MeshStore, type MeshView} from '../../source/ui/mesh-store.js';

const directory = mkdtempSync(path.join(tmpdir(), 'chorus-record-replay-'));
afterAll(() => {
	rmSync(directory, {recursive: true, force: true});
});

const START_MS = 1_800_000_000_000;

function snapshotAt(t: number): SessionSnapshot {
	const peers = Math.floor(t / 1500) % 4;
	return {
		t,
		node: {id: 'n1', incarnation: 1, lamport: t / 10, phase: 0.1, r: 0.9 + (Math.floor(t / 1000) % 3) / 100, endpoint: 'tcp://127.0.0.1:5555', omega: 3, hz: 10},
		peers: Array.from({length: peers}, (_, index) => ({
			id: `demo-${index + 1}`,
			state: 'alive',
			lamport: t / 10,
			lastSeenMs: t % 90,
			ttlRemainingMs: 5000 - (t % 90),
			phaseDiff: 0.01 * index,
			incarnation: 1,
		})),
		stats: {received: t, admitted: t, rejected: {}, ticks: t / 100, tickLateMs: {p50: 0, p99: 0, max: 0}},
		faults: {peers: {}},
		demo: [],
	} as unknown as SessionSnapshot;
}

/** What a frame shows, for comparing: the view without object identity. */
function frameOf(view: MeshView): string {
	return JSON.stringify({wallMs: view.wallMs, t: view.snapshot.t, peers: view.snapshot.peers.length, r: view.rHistory, log: view.log.map((entry) => [entry.wallMs, entry.text, entry.tone])});
}

/** A live session of `ticks` samples 100 ms apart, recorded; returns the frames the live store published. */
async function recordLive(file: string, ticks: number): Promise<string[]> {
	let clock = START_MS;
	const listeners = new Set<(event: SessionEvent) => void>();
	const emit = (event: Omit<SessionEvent, 't'>) => {
		for (const listener of listeners) {
			listener({...event, t: clock - START_MS} as SessionEvent);
		}
	};

	const controller = {
		snapshot: () => snapshotAt(clock - START_MS),
		on(listener: (event: SessionEvent) => void) {
			listeners.add(listener);
			return () => listeners.delete(listener);
		},
	} as unknown as MeshController;
	const recorder = await Recorder.open(file, {flags: {}, mode: 'tui', ttlMs: 5000, now: () => clock});
	const stopEvents = recordEvents(controller, recorder);
	// Before the store listens: recorded, but the live screen never showed it.
	emit({kind: 'node-started'});
	const store = new MeshStore(sampledThrough(controller, recorder), {sampleMs: 1_000_000_000, quietRefreshMs: 250, now: () => clock});
	const frames: string[] = [];
	store.subscribe(() => frames.push(frameOf(store.getView())));
	store.start();
	for (let tick = 1; tick <= ticks; tick++) {
		clock += 100 + (tick % 3);
		if (tick % 17 === 0) {
			emit({kind: 'peer-joined', peer: `demo-${tick}`});
		}

		if (tick === 40) {
			// The live UI logs a refused action itself: so does the replay, from the recorded action.
			recorder.action('kill-peer', {target: 'demo-9', ok: false, message: 'demo-9 is not running'});
			store.log('demo-9 is not running', 'warn');
		}

		store.tick();
	}

	store.stop();
	stopEvents();
	await recorder.close();
	return frames;
}

describe('a recording replayed', () => {
	test('shows the same frames as the live store did, sample for sample', async () => {
		const file = path.join(directory, 'same.ndjson');
		const live = await recordLive(file, 120);
		const recording = await readRecording(file);
		expect(recording.damage).toBeUndefined();
		const player = new ReplayPlayer(recording.header, recording.records, {play: false});
		const replayed: string[] = [];
		const {store} = player.getState();
		store.subscribe(() => replayed.push(frameOf(store.getView())));
		store.start();
		while (player.stepRecord()) {
			// Every record, in order.
		}

		// The quiet refresh held some samples back: fewer frames than samples, and the same ones.
		expect(live.length).toBeGreaterThan(20);
		expect(live.length).toBeLessThan(120);
		expect(replayed).toEqual(live);
		expect(replayed.join('\n')).not.toContain('node-started');
		expect(replayed.at(-1)).toContain('demo-9 is not running');
		player.stop();
	});

	test('seek, events, start and end, and speeds from ¼× to 16×', async () => {
		const file = path.join(directory, 'keys.ndjson');
		await recordLive(file, 100);
		const recording = await readRecording(file);
		const player = new ReplayPlayer(recording.header, recording.records, {play: false, speed: 3});
		// 3× is not a step: the nearest is taken.
		expect([2, 4]).toContain(player.speed);
		const shownT = () => player.session.snapshot().t;
		player.command('forward');
		expect(player.positionMs).toBe(player.startMs + 5000);
		expect(shownT()).toBeLessThanOrEqual(5000);
		expect(shownT()).toBeGreaterThan(4800);
		const before = player.getState().store;
		player.command('back');
		// Back means a fresh store built from the start: its log holds only what came before.
		expect(player.getState().store).not.toBe(before);
		expect(player.positionMs).toBe(player.startMs);
		player.command('next-event');
		const firstEvent = recording.records.find((record) => record.type === 'event' && record.wallMs > player.startMs)!;
		expect(player.positionMs).toBe(firstEvent.wallMs);
		player.command('next-event');
		expect(player.positionMs).toBeGreaterThan(firstEvent.wallMs);
		player.command('previous-event');
		expect(player.positionMs).toBe(firstEvent.wallMs);
		player.command('end');
		expect(player.positionMs).toBe(player.endMs);
		expect(player.getState().control.atEnd).toBe(true);
		player.command('start');
		expect(player.positionMs).toBe(player.startMs);
		for (let press = 0; press < 10; press++) {
			player.command('faster');
		}

		expect(player.speed).toBe(16);
		for (let press = 0; press < 10; press++) {
			player.command('slower');
		}

		expect(player.speed).toBe(0.25);
		player.stop();
	});

	test('plays in real time at the chosen speed, and a damaged file shows its damage at the cut', async () => {
		const file = path.join(directory, 'timed.ndjson');
		await recordLive(file, 30);
		const recording = await readRecording(file);
		let endedAtMs = 0;
		const startedAtMs = performance.now();
		const player = new ReplayPlayer(recording.header, recording.records, {
			speed: 4,
			damage: 'recording damaged after 3.0 s: a partial last line',
			onEnd() {
				endedAtMs = performance.now();
			},
		});
		player.start();
		await new Promise<void>((resolve) => {
			const timer = setInterval(() => {
				if (endedAtMs > 0) {
					clearInterval(timer);
					resolve();
				}
			}, 10);
		});
		const tookMs = endedAtMs - startedAtMs;
		const recordedMs = player.endMs - player.startMs;
		expect(tookMs).toBeGreaterThan(recordedMs / 4 - 50);
		expect(tookMs).toBeLessThan(recordedMs / 4 + 600);
		const {log} = player.getState().store.getView();
		expect(log.at(-1)).toMatchObject({text: 'recording damaged after 3.0 s: a partial last line', tone: 'bad'});
		player.stop();
	});
});
