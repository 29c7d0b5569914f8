/**
4. UI cost: the terminal UI process (`chorus-tui --demo 0`, the real binary in a pseudo-terminal)
watching 200 and 1000 peers at 10 Hz each: its CPU share of one core, the bytes it writes to the
terminal per second (what an SSH link carries) and its frame time, p50 and p99.

The peers come from one worker process (bench/workers/ui-peers.ts) that publishes every peer id
from a few PUB sockets, so the UI sees N peers without N processes. Frame times come from the UI's
own opt-in instrument, CHORUS_UI_FRAME_LOG (see source/run/frame-log.ts).
*/

import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import process from 'node:process';
import pty from '@lydell/node-pty';
import xterm from '@xterm/headless';
import {freePorts} from '../../test/helpers/ports.js';
import {Measurements, type BenchContext, type BenchModule, type FigureSpec, type ModuleOutput} from '../lib/module.js';
import {BENCH_DIST_DIR, CLI_PATH} from '../lib/paths.js';
import {Child, cpuSeconds, cpuSecondsByThread, sleep} from '../lib/proc.js';
import {quantile, round} from '../lib/stats.js';

/** Peers one worker socket carries: the node allows a connection 10 × its announced 10 Hz. */
const PEERS_PER_SOCKET = 8;
const COLUMNS = 120;
const ROWS = 40;
const PEER_COUNTS = [200, 1000] as const;

function figuresFor(count: number): FigureSpec[] {
	const targeted = count === 200;
	return [
		{
			id: `ui.${count}.cpu`,
			label: `UI cost, ${count} peers: CPU share of one core (whole TUI process)`,
			unit: '%',
			...(targeted ? {target: {comparison: '<', value: 10, text: '< 10 %'}} : {}),
		},
		{
			id: `ui.${count}.bytes`,
			label: `UI cost, ${count} peers: bytes written to the terminal per second`,
			unit: 'KB/s',
			...(targeted ? {target: {comparison: '<', value: 30, text: '< 30 KB/s'}} : {}),
		},
		{id: `ui.${count}.frame-p50`, label: `UI cost, ${count} peers: frame time p50`, unit: 'ms'},
		{
			id: `ui.${count}.frame-p99`,
			label: `UI cost, ${count} peers: frame time p99`,
			unit: 'ms',
			...(targeted ? {target: {comparison: '<', value: 16, text: '< 16 ms'}} : {}),
		},
	] satisfies FigureSpec[];
}

export const uiCost: BenchModule = {
	name: 'ui',
	title: '4. UI cost: the TUI watching 200 and 1000 peers',
	figures: PEER_COUNTS.flatMap((count) => figuresFor(count)),
	run: runUiCost,
};

type FrameLog = {frames: Array<[number, number]>; frameCpu?: Array<[number, number]>; inkRenders: Array<[number, number]>};

type RunResult = {
	cpuPercent: number;
	mainThreadPercent: number;
	kbPerS: number;
	framesPerS: number;
	frameP50: number;
	frameP99: number;
	inkRenderP99: number;
	frameCpuP50: number;
	frameCpuP99: number;
	peersSeen: number;
};

async function runUiCost(context: BenchContext): Promise<ModuleOutput> {
	const runs = context.quick ? 1 : 3;
	const warmupS = context.quick ? 1 : 5;
	const windowS = context.quick ? 2 : 15;
	const measurements = new Measurements();
	const notes = new Map<string, string[]>();
	for (let run = 0; run < runs; run++) {
		for (const count of PEER_COUNTS) {
			try {
				const result = await measureOnce(count, warmupS, windowS, measurements);
				if (result === undefined) {
					continue;
				}

				measurements.add(`ui.${count}.cpu`, round(result.cpuPercent, 1));
				measurements.add(`ui.${count}.bytes`, round(result.kbPerS, 1));
				measurements.add(`ui.${count}.frame-p50`, round(result.frameP50, 2));
				measurements.add(`ui.${count}.frame-p99`, round(result.frameP99, 2));
				const runNotes = (notes.get(String(count)) ?? []);
				runNotes.push(
					`run ${run + 1}: main thread ${round(result.mainThreadPercent, 1)} %, ${round(result.framesPerS, 1)} frames/s, ${round(result.kbPerS / Math.max(result.framesPerS, 0.1), 2)} KB/frame`,
				);
				notes.set(String(count), runNotes);
				const frameNotes = notes.get(`${count}.frame`) ?? [];
				frameNotes.push(`run ${run + 1}: CPU time per frame p50 ${round(result.frameCpuP50, 2)} ms, p99 ${round(result.frameCpuP99, 2)} ms; Ink's output step p99 ${round(result.inkRenderP99, 2)} ms`);
				notes.set(`${count}.frame`, frameNotes);
				context.log(
					`ui run ${run + 1}/${runs}, ${count} peers (${result.peersSeen} seen): CPU ${round(result.cpuPercent, 1)} % (main ${round(result.mainThreadPercent, 1)} %), ${round(result.kbPerS, 1)} KB/s, ${round(result.framesPerS, 1)} frames/s, frame p50 ${round(result.frameP50, 2)} ms p99 ${round(result.frameP99, 2)} ms (CPU p50 ${round(result.frameCpuP50, 2)} ms p99 ${round(result.frameCpuP99, 2)} ms)`,
				);
			} catch (error) {
				measurements.warn(`run ${run + 1}, ${count} peers: ${(error as Error).message}`);
			}
		}
	}

	for (const count of PEER_COUNTS) {
		const runNotes = notes.get(String(count));
		if (runNotes) {
			measurements.note(`ui.${count}.cpu`, runNotes.join('; '));
		}

		const frameNotes = notes.get(`${count}.frame`);
		if (frameNotes) {
			measurements.note(`ui.${count}.frame-p99`, frameNotes.join('; '));
		}
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`The real binary, \`node dist/cli.js --demo 0 --bind PORT --peer ENDPOINT ...\`, in a ${COLUMNS}×${ROWS} pseudo-terminal (node-pty, TERM=xterm-256color, colours on), its output read by @xterm/headless.`,
			`The peers: one worker process (bench/workers/ui-peers.ts) publishing N peer ids (\`ui-peer-0001\` ...) at 10 Hz each, valid wire v1 frames, from ceil(N / ${PEERS_PER_SOCKET}) PUB sockets (the node allows one connection ten times the announced rate); the UI subscribes to every socket.`,
			`Once the header shows all N peers, ${warmupS} s of warm-up, then a ${windowS} s window: CPU is utime + stime of the whole TUI process (every thread, /proc/PID/stat) over the window as a share of one core; bytes are everything the pty delivered in the window (UTF-8 bytes, escapes included); frame times are those the UI itself records with CHORUS_UI_FRAME_LOG=<file> (per mesh sample, wall time from the snapshot through React's render and commit, Ink's layout and output and the painter's drawing of the panes to the write to the terminal), the frames inside the window. The notes give each frame's CPU time too (the process's, every thread): a loaded machine inflates wall time much more than CPU time.`,
			`${runs} run(s) per peer count, alternating 200 and 1000; the figure is the median. The machine has 2 cores shared with whatever else runs: the figures are noisy. Re-measure with \`npm run bench -- --only ui\`.`,
		],
	};
}

async function measureOnce(count: number, warmupS: number, windowS: number, measurements: Measurements): Promise<RunResult | undefined> {
	const sockets = Math.ceil(count / PEERS_PER_SOCKET);
	const [tuiPort, ...peerPorts] = await freePorts(sockets + 1);
	const workDir = mkdtempSync(path.join(tmpdir(), 'chorus-ui-cost-'));
	const frameLogPath = path.join(workDir, 'frames.json');
	const worker = new Child(process.execPath, [path.join(BENCH_DIST_DIR, 'workers', 'ui-peers.js'), String(count), peerPorts.join(',')], {stdin: true});
	let term: Term | undefined;
	try {
		await worker.waitForLine((line) => line === 'ready', 10_000);
		const peerArgs = peerPorts.flatMap((port) => ['--peer', `tcp://127.0.0.1:${port}`]);
		term = new Term(['--demo', '0', '--bind', `tcp://127.0.0.1:${tuiPort}`, ...peerArgs], {CHORUS_UI_FRAME_LOG: frameLogPath});
		const peersPattern = /peers (\d+)/;
		const seen = () => Number(peersPattern.exec(term!.screen())?.[1] ?? 0);
		await term.waitFor(() => seen() >= count, 20_000, `the header to show ${count} peers`);
		await sleep(warmupS * 1000);

		const startBytes = term.bytes;
		const startCpu = cpuSeconds(term.pid);
		const startMain = cpuSecondsByThread(term.pid).get('main') ?? Number.NaN;
		const startEpochMs = Date.now();
		const startMs = performance.now();
		await sleep(windowS * 1000);
		const elapsedS = (performance.now() - startMs) / 1000;
		const endEpochMs = Date.now();
		const cpuS = cpuSeconds(term.pid) - startCpu;
		const mainS = (cpuSecondsByThread(term.pid).get('main') ?? Number.NaN) - startMain;
		const bytes = term.bytes - startBytes;
		const peersSeen = seen();
		if (peersSeen < count) {
			measurements.warn(`${count} peers: the header showed ${peersSeen} at the end of the window`);
		}

		const stopping = term;
		term = undefined;
		await stopping.stop();
		const log = JSON.parse(readFileSync(frameLogPath, 'utf8')) as FrameLog;
		const inWindow = (entries: Array<[number, number]>) =>
			entries.filter(([atMs]) => atMs >= startEpochMs && atMs <= endEpochMs).map(([, ms]) => ms);
		const frames = inWindow(log.frames);
		if (frames.length === 0) {
			throw new Error(`no frame recorded in the window (the frame log has ${log.frames.length})`);
		}

		return {
			cpuPercent: (cpuS / elapsedS) * 100,
			mainThreadPercent: (mainS / elapsedS) * 100,
			kbPerS: bytes / 1000 / elapsedS,
			framesPerS: frames.length / elapsedS,
			frameP50: quantile(frames, 0.5),
			frameP99: quantile(frames, 0.99),
			inkRenderP99: quantile(inWindow(log.inkRenders), 0.99),
			frameCpuP50: quantile(inWindow(log.frameCpu ?? []), 0.5),
			frameCpuP99: quantile(inWindow(log.frameCpu ?? []), 0.99),
			peersSeen,
		};
	} finally {
		await term?.stop();
		await worker.stop();
		rmSync(workDir, {recursive: true, force: true});
	}
}

/** The binary in a pseudo-terminal, its output counted and read by a headless xterm. */
class Term {
	readonly #pty: pty.IPty;
	readonly #xterm: InstanceType<typeof xterm.Terminal>;
	readonly #exited: Promise<void>;
	#running = true;
	/** Bytes the program wrote to the terminal so far. */
	bytes = 0;

	constructor(args: readonly string[], env: Record<string, string>) {
		const environment: Record<string, string> = {};
		for (const [name, value] of Object.entries(process.env)) {
			// CI variables make Ink draw only the last frame; NODE_ENV=test loads React's development build.
			if (value !== undefined && !['CI', 'CONTINUOUS_INTEGRATION', 'GITHUB_ACTIONS', 'BUILD_NUMBER', 'RUN_ID', 'NODE_ENV'].includes(name)) {
				environment[name] = value;
			}
		}

		this.#xterm = new xterm.Terminal({cols: COLUMNS, rows: ROWS, allowProposedApi: true, scrollback: 0});
		this.#pty = pty.spawn(process.execPath, [CLI_PATH, ...args], {
			name: 'xterm-256color',
			cols: COLUMNS,
			rows: ROWS,
			env: {...environment, TERM: 'xterm-256color', ...env},
		});
		this.#pty.onData((data) => {
			this.bytes += Buffer.byteLength(data);
			this.#xterm.write(data);
		});
		this.#exited = new Promise((resolve) => {
			this.#pty.onExit(() => {
				this.#running = false;
				resolve();
			});
		});
	}

	get pid(): number {
		return this.#pty.pid;
	}

	screen(): string {
		const buffer = this.#xterm.buffer.active;
		const lines: string[] = [];
		for (let row = 0; row < ROWS; row++) {
			lines.push(buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '');
		}

		return lines.join('\n');
	}

	async waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
		const deadline = performance.now() + timeoutMs;
		while (!predicate()) {
			if (!this.#running) {
				throw new Error(`the TUI exited while waiting for ${what}; screen:\n${this.screen()}`);
			}

			if (performance.now() > deadline) {
				throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${this.screen()}`);
			}

			await sleep(100);
		}
	}

	/** SIGTERM (the TUI writes its frame log and exits), SIGKILL after 5 s. */
	async stop(): Promise<void> {
		if (this.#running) {
			this.#pty.kill('SIGTERM');
			const timer = setTimeout(() => {
				if (this.#running) {
					this.#pty.kill('SIGKILL');
				}
			}, 5000);
			await this.#exited;
			clearTimeout(timer);
		}

		this.#xterm.dispose();
	}
}
