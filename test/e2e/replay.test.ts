/**
Record and replay end to end: 30 s of the built `chorus-tui --demo 4 --record` in a real terminal
(node-pty + a headless xterm), with a drop, a kill and a revive; then `chorus-tui replay` of that
file in a real terminal. At five instants of the live run, the replayed screen of the same session
time equals the live one (ages, TTL bars, the sparkline and the log included: they come from the
recorded snapshots and the recorded clock, not the replay's). At 8× the replay takes about an
eighth of the time. A damaged copy (cut mid-line, garbage appended) plays to the cut, says so in one
line, and exits 0 on q.

The replay's frames are read back exactly: every chunk the program wrote is kept with the others
and fed to a fresh xterm one at a time, so that no frame is missed on a loaded machine; the status
line of each frame names the session time of the snapshot it shows, to the millisecond.
*/

import {execFile} from 'node:child_process';
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import pty from '@lydell/node-pty';
import xterm from '@xterm/headless';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {freePort} from '../helpers/ports.js';
import {CLI_PATH, descendants, sleep, Term} from '../helpers/term.js';

const RECORD_MS = 30_000;
/** Session times (ms after the first record) at which the live screen is captured. */
const CAPTURE_AT_MS = [4500, 10_500, 15_500, 21_500, 27_000];
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION', 'GITHUB_ACTIONS', 'BUILD_NUMBER', 'RUN_ID'];

type Capture = {wallMs: number; lines: string[]};
type Frame = {atMs: number; lines: string[]};

/** A program in a pty whose every output chunk is kept, for reading its frames back afterwards. */
class ChunkTerm {
	readonly chunks: string[] = [];
	readonly exited: Promise<number>;
	readonly #pty: pty.IPty;

	constructor(args: string[]) {
		const env: NodeJS.ProcessEnv = {...process.env, TERM: 'xterm-256color'};
		delete env['NODE_ENV'];
		for (const name of CI_VARIABLES) {
			Reflect.deleteProperty(env, name);
		}

		this.#pty = pty.spawn(process.execPath, [CLI_PATH, ...args], {name: 'xterm-256color', cols: 80, rows: 24, cwd: process.cwd(), env});
		this.#pty.onData((data) => {
			this.chunks.push(data);
		});
		this.exited = new Promise((resolve) => {
			this.#pty.onExit(({exitCode}) => {
				resolve(exitCode);
			});
		});
	}

	get output(): string {
		return this.chunks.join('');
	}

	write(keys: string): void {
		this.#pty.write(keys);
	}

	kill(): void {
		try {
			this.#pty.kill('SIGKILL');
		} catch {
			// Gone.
		}
	}

	async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
		const deadline = performance.now() + timeoutMs;
		while (!pattern.test(this.output.slice(-4000))) {
			if (performance.now() > deadline) {
				throw new Error(`timed out waiting for ${String(pattern)}`);
			}

			await sleep(50);
		}
	}

	/** Every frame the program drew, by the session time its status line names (the last screen of each). */
	async frames(): Promise<Frame[]> {
		const terminal = new xterm.Terminal({cols: 80, rows: 24, allowProposedApi: true, scrollback: 0});
		const frames = new Map<number, string[]>();
		for (const chunk of this.chunks) {
			await new Promise<void>((resolve) => {
				terminal.write(chunk, resolve);
			});
			const lines = screenOf(terminal);
			const atMs = sessionTimeOf(lines);
			if (atMs !== undefined) {
				frames.set(atMs, lines);
			}
		}

		terminal.dispose();
		return [...frames.entries()].map(([atMs, lines]) => ({atMs, lines})).sort((a, b) => a.atMs - b.atMs);
	}
}

function screenOf(terminal: InstanceType<typeof xterm.Terminal>): string[] {
	const buffer = terminal.buffer.active;
	return Array.from({length: terminal.rows}, (_, row) => buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '');
}

/** The session time of the snapshot a replay frame shows, from its status line ("at 0:12.345 / …"). */
function sessionTimeOf(lines: readonly string[]): number | undefined {
	for (const line of lines) {
		const match = / at (\d+):(\d\d\.\d{3}) \/ /.exec(line);
		if (match) {
			return Number(match[1]) * 60_000 + Math.round(Number(match[2]) * 1000);
		}
	}

	return undefined;
}

/**
What must be equal between the live and the replayed screen: everything above the footer, with the
badge (LIVE or REPLAY) and the selection left out: the mark, and the highlight that fills the
selected row to the right edge (the replay's viewer selects for themself).
*/
function comparable(lines: readonly string[]): string[] {
	const footerStart = lines.findLastIndex((line) => line.includes(' q quit')) - 1;
	return lines.slice(0, footerStart).map((line, index) =>
		index === 0 ? line.replace(/\s*(● LIVE|▶ REPLAY)\s*$/, '') : line.replace(/^› /, '  ').trimEnd(),
	);
}

function firstRecordWallMs(file: string): number {
	const second = readFileSync(file, 'utf8').split('\n')[1]!;
	return (JSON.parse(second) as {wallMs: number}).wallMs;
}

function rowOf(term: Term, id: string): string {
	return term.lineWith(new RegExp(String.raw`^[› ] ${id}\s`)) ?? '';
}

describe('record 30 s of chorus-tui --demo 4, replay it', () => {
	const directory = mkdtempSync(path.join(tmpdir(), 'chorus-replay-'));
	const file = path.join(directory, 'session.ndjson');
	const captures: Capture[] = [];
	let live: Term;
	let startMs = 0;

	beforeAll(async () => {
		live = new Term(['--demo', '4', '--bind', String(await freePort()), '--id', 'rec-node', '--seed', '7', '--record', file], {columns: 80, rows: 24});
		await live.waitFor((screen) => (screen.match(/● alive/g) ?? []).length >= 4, 40_000, '4 alive demo peers');
		startMs = firstRecordWallMs(file);
		const captureAt = async (sessionMs: number) => {
			const waitMs = startMs + sessionMs - Date.now();
			if (waitMs > 0) {
				await sleep(waitMs);
			}

			await live.settled();
			captures.push({wallMs: Date.now(), lines: live.lines()});
		};

		const pending = [...CAPTURE_AT_MS];
		const captureDue = async () => {
			while (pending.length > 0 && startMs + pending[0]! <= Date.now() + 50) {
				await captureAt(pending.shift()!);
			}
		};

		// A drop: 30 % on demo-2.
		live.write('j');
		await sleep(300);
		live.write('dd');
		await live.waitFor(() => /30\s*%/.test(rowOf(live, 'demo-2')), 5000, 'demo-2 at 30 % drop');
		await captureDue();
		await captureAt(CAPTURE_AT_MS[0]!);
		// A kill: demo-3, confirmed.
		live.write('j');
		await sleep(300);
		live.write('x');
		await sleep(300);
		live.write('y');
		await live.waitFor(() => live.screen().includes('killed'), 10_000, 'demo-3 killed');
		await captureAt(CAPTURE_AT_MS[1]!);
		await captureAt(CAPTURE_AT_MS[2]!);
		// A revive.
		live.write('r');
		await live.waitFor(() => live.screen().includes('revived'), 15_000, 'demo-3 revived');
		await captureAt(CAPTURE_AT_MS[3]!);
		await captureAt(CAPTURE_AT_MS[4]!);
		const left = startMs + RECORD_MS - Date.now();
		if (left > 0) {
			await sleep(left);
		}

		live.write('q');
		const exit = await Promise.race([live.exited, sleep(15_000).then(() => undefined)]);
		expect(exit?.exitCode).toBe(0);
	}, 120_000);

	afterAll(async () => {
		const left = descendants(live.pid);
		await live.stop();
		for (const {pid} of left) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {
				// Gone.
			}
		}

		rmSync(directory, {recursive: true, force: true});
	});

	test('the recording holds 30 s of snapshots, the events and the actions, and a trailer', () => {
		const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
		expect(lines[0]).toMatchObject({type: 'header', format: 'chorus-record', version: 1, mode: 'tui'});
		expect(lines.at(-1)).toMatchObject({type: 'trailer', droppedSnapshots: 0, droppedEvents: 0});
		const snapshots = lines.filter((line) => line['type'] === 'snapshot');
		// The UI samples 10 times a second; a loaded machine takes a few less.
		expect(snapshots.length).toBeGreaterThan(200);
		const actions = lines.filter((line) => line['type'] === 'action').map((line) => line['action']);
		expect(actions).toEqual(expect.arrayContaining(['set-inbound-fault', 'kill-peer', 'revive-peer']));
		const kinds = new Set(lines.filter((line) => line['type'] === 'event').map((line) => line['kind']));
		expect([...kinds]).toEqual(expect.arrayContaining(['fault-set', 'peer-killed', 'peer-revived']));
		expect(captures).toHaveLength(5);
	});

	test('at 1×, the replayed screen at five instants equals the live one of the same session time', async () => {
		const replay = new ChunkTerm(['replay', file]);
		try {
			await replay.waitForOutput(/■ end/, 60_000);
			replay.write('q');
			expect(await replay.exited).toBe(0);
		} finally {
			replay.kill();
		}

		const frames = await replay.frames();
		expect(frames.length).toBeGreaterThan(60);
		for (const capture of captures) {
			const atMs = capture.wallMs - startMs;
			// The frame on the live screen at that instant shows the last sample at or before it; the one
			// before that too, if the newest was still being drawn when the screen was read.
			const candidates = frames.filter((frame) => frame.atMs <= atMs).slice(-2).toReversed();
			const expected = comparable(capture.lines);
			const match = candidates.find((frame) => JSON.stringify(comparable(frame.lines)) === JSON.stringify(expected));
			if (!match) {
				expect(comparable(candidates[0]?.lines ?? []), `replay at ${atMs} ms`).toEqual(expected);
			}

			// Ages and bars are there to compare: not a screen of dashes.
			expect(expected.join('\n')).toMatch(/\d+ms|\d\.\ds/);
		}
	}, 90_000);

	test('at 8×, the replay takes about an eighth of the time', async () => {
		const replay = new ChunkTerm(['replay', file, '--speed', '8']);
		try {
			await replay.waitForOutput(/▶ playing 8×/, 30_000);
			const startedMs = performance.now();
			await replay.waitForOutput(/■ end/, 30_000);
			const tookMs = performance.now() - startedMs;
			const recordedMs = readFileSync(file, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as {wallMs?: number}).filter((line) => line.wallMs !== undefined).at(-2)!.wallMs! - startMs;
			expect(tookMs).toBeGreaterThan((recordedMs / 8) * 0.7);
			expect(tookMs).toBeLessThan((recordedMs / 8) * 1.6 + 500);
			replay.write('q');
			expect(await replay.exited).toBe(0);
		} finally {
			replay.kill();
		}
	}, 60_000);

	test('a damaged recording plays to the cut, says so in one line, writes a screenshot and exits 0 on q', async () => {
		const whole = readFileSync(file);
		// Cut in the middle of a line, two thirds in, and append garbage.
		let cut = Math.floor(whole.length * 0.66);
		while (whole[cut] === 0x0A) {
			cut++;
		}

		const damaged = path.join(directory, 'damaged.ndjson');
		writeFileSync(damaged, Buffer.concat([whole.subarray(0, cut), Buffer.from('\u0000\u00FF{{garbage\n{"type":"snapshot"\nnot json at all\n')]));
		const lastSound = whole.subarray(0, cut).toString('utf8').split('\n').at(-2)!;
		const lastSoundMs = (JSON.parse(lastSound) as {wallMs: number}).wallMs - startMs;
		const shots = path.join(directory, 'shots');
		const replay = new ChunkTerm(['replay', damaged, '--speed', '16', '--screenshot-dir', shots]);
		try {
			await replay.waitForOutput(/■ end/, 30_000);
			await sleep(300);
			const frames = await replay.frames();
			const last = frames.at(-1)!;
			// It reached the cut: the last sound record, to the millisecond.
			expect(last.atMs).toBeGreaterThanOrEqual(lastSoundMs - 200);
			expect(last.atMs).toBeLessThanOrEqual(lastSoundMs);
			expect(last.lines.join('\n')).toMatch(/recording damaged after \d+\.\d s: a partial|recording damaged after \d+\.\d s: line \d+ is not a record/);
			// S works in a replay too.
			replay.write('S');
			await replay.waitForOutput(/screenshot \S+\.svg/, 10_000);
			expect(readdirSync(shots).sort().map((name) => path.extname(name))).toEqual(['.svg', '.txt']);
			replay.write('q');
			expect(await replay.exited).toBe(0);
		} finally {
			replay.kill();
		}

		// After the terminal is given back: one line on stderr saying what was not replayed.
		const said = replay.output.split(/\r?\n/).filter((line) => line.includes('chorus-tui: replay:'));
		expect(said).toHaveLength(1);
		expect(said[0]).toMatch(/recording damaged after .* lines? not replayed/);
	}, 60_000);
});

describe('chorus-tui replay: bad input', () => {
	const run = async (args: string[]) =>
		new Promise<{code: number; stderr: string; stdout: string}>((resolve) => {
			execFile(process.execPath, [CLI_PATH, ...args], {timeout: 20_000}, (error, stdout, stderr) => {
				resolve({code: typeof error?.code === 'number' ? error.code : 0, stderr, stdout});
			});
		});

	test('no file, not a recording, a bad speed: one line and exit code 2', async () => {
		const directory = mkdtempSync(path.join(tmpdir(), 'chorus-replay-bad-'));
		try {
			const notRecording = path.join(directory, 'x.ndjson');
			writeFileSync(notRecording, '{"type":"snapshot"}\n');
			for (const [args, said] of [
				[['replay'], /^chorus-tui: replay: needs a recording: chorus-tui replay <file>\n$/],
				[['replay', path.join(directory, 'missing.ndjson')], /^chorus-tui: replay: .*missing\.ndjson: cannot read .*: ENOENT\n$/],
				[['replay', notRecording, '--headless'], /^chorus-tui: replay: .*: not a chorus-tui recording: the first line is not a chorus-record header\n$/],
				[['replay', notRecording, '--speed', '100'], /^chorus-tui: --speed: '100' is not a speed from 0.25 to 16\n$/],
				[['--speed', '2'], /^chorus-tui: --speed is a flag of chorus-tui replay <file>\n$/],
			] as Array<[string[], RegExp]>) {
				const {code, stderr} = await run(args);
				expect(stderr, args.join(' ')).toMatch(said);
				expect(code, args.join(' ')).toBe(2);
			}
		} finally {
			rmSync(directory, {recursive: true, force: true});
		}
	}, 90_000);

	test('--headless streams the records as NDJSON, header first, at the chosen speed', async () => {
		const directory = mkdtempSync(path.join(tmpdir(), 'chorus-replay-headless-'));
		try {
			const file = path.join(directory, 'r.ndjson');
			const header = {type: 'header', format: 'chorus-record', version: 1, flags: {}, startedAt: '', startedAtMs: 1000, mode: 'headless', ttlMs: 5000};
			const records = [0, 1000, 2000].map((offset) => ({type: 'event', wallMs: 1000 + offset, t: offset, kind: 'peer-joined', peer: `p${offset}`}));
			writeFileSync(file, [header, ...records].map((line) => JSON.stringify(line)).join('\n') + '\n');
			const startedMs = performance.now();
			const {code, stdout, stderr} = await run(['replay', file, '--headless', '--speed', '4']);
			const tookMs = performance.now() - startedMs;
			expect(code).toBe(0);
			const lines = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as {type: string; peer?: string});
			expect(lines.map((line) => line.type)).toEqual(['header', 'event', 'event', 'event']);
			// 2 s of recording at 4×: half a second, after the process started.
			expect(tookMs).toBeGreaterThan(500);
			// No trailer: said in one line.
			expect(stderr).toMatch(/^chorus-tui: replay: recording has no trailer: it was cut after 2\.0 s/);
		} finally {
			rmSync(directory, {recursive: true, force: true});
		}
	}, 30_000);
});
