/**
4. UI cost: the terminal UI process (`chorus-tui --demo 0`, the real binary in a pseudo-terminal)
watching 200 and 1000 peers at 10 Hz each: its CPU share of one core, the bytes it writes to the
terminal per second (what an SSH link carries) and its frame time, p50 and p99. Twice per count:
on the peer table (the default screen), and with the mesh view open (key `m`).

The peers come from one worker process (bench/workers/ui-peers.ts) that publishes every peer id
from a few PUB sockets, so the UI sees N peers without N processes. Frame times come from the UI's
own opt-in instrument, CHORUS_UI_FRAME_LOG (see source/run/frame-log.ts).

For the mesh view the worker also gives every peer a control plane (`--control`,
bench/workers/ui-control.ts: one ZMTP ROUTER per peer on a loopback port of its own, announced in
its data frames, answering `view` as a member of a synchronized mesh that hears every other peer
and the console alive). So the console has N + 1 rows to pull about once a second, within the
session's own bounds (source/session/mesh-watch.ts), and the figures are what pulling, merging and
drawing the condensed matrix cost the UI process. The run starts the TUI with `--id ui-console`
(the name the worker's members list), waits for the table to count N peers, presses `m`, waits for
the header to count N members with a control plane and for a row that hears all N, then warms up
and measures as for the table.
*/

import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import process from 'node:process';
import pty from '@lydell/node-pty';
import xterm from '@xterm/headless';
import {Measurements, type BenchContext, type BenchModule, type FigureSpec, type ModuleOutput} from '../lib/module.js';
import {BENCH_DIST_DIR, CLI_PATH} from '../lib/paths.js';
import {portBlock} from '../lib/ports.js';
import {Child, cpuSeconds, cpuSecondsByThread, sleep} from '../lib/proc.js';
import {quantile, round} from '../lib/stats.js';

/** Peers one worker socket carries: the node allows a connection 10 × its announced 10 Hz. */
const PEERS_PER_SOCKET = 8;
const COLUMNS = 120;
const ROWS = 40;
const PEER_COUNTS = [200, 1000] as const;

/** What the TUI shows while measured: the peer table, or the mesh view with every peer a member with a control plane. */
type Screen = 'table' | 'mesh';
const SCREENS: readonly Screen[] = ['table', 'mesh'];

/** Figure id prefix: the table's ids are those the module always had. */
function prefix(count: number, screen: Screen): string {
	return screen === 'table' ? `ui.${count}` : `ui.${count}.mesh`;
}

function figuresFor(count: number, screen: Screen): FigureSpec[] {
	const targeted = count === 200;
	const id = prefix(count, screen);
	const what = screen === 'table' ? `${count} peers` : `${count} members, mesh view open`;
	return [
		{
			id: `${id}.cpu`,
			label: `UI cost, ${what}: CPU share of one core (whole TUI process)`,
			unit: '%',
			...(targeted ? {target: {comparison: '<', value: 10, text: '< 10 %'}} : {}),
		},
		{
			id: `${id}.bytes`,
			label: `UI cost, ${what}: bytes written to the terminal per second`,
			unit: 'KB/s',
			...(targeted ? {target: {comparison: '<', value: 30, text: '< 30 KB/s'}} : {}),
		},
		{id: `${id}.frame-p50`, label: `UI cost, ${what}: frame time p50`, unit: 'ms'},
		{
			id: `${id}.frame-p99`,
			label: `UI cost, ${what}: frame time p99`,
			unit: 'ms',
			...(targeted ? {target: {comparison: '<', value: 16, text: '< 16 ms'}} : {}),
		},
	] satisfies FigureSpec[];
}

export const uiCost: BenchModule = {
	name: 'ui',
	title: '4. UI cost: the TUI watching 200 and 1000 peers, on the peer table and the mesh view',
	figures: PEER_COUNTS.flatMap((count) => SCREENS.flatMap((screen) => figuresFor(count, screen))),
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
	/** The peers' worker's CPU share of one core over the window: it must not be what limits the UI. */
	workerPercent: number;
	/** Mesh view only: the header's `members N · K with a control plane` at the end of the window. */
	membersLine?: string;
};

async function runUiCost(context: BenchContext): Promise<ModuleOutput> {
	// Two runs per peer count (three before) keep the whole bench within about 25 minutes.
	const runs = context.quick ? 1 : 2;
	const warmupS = context.quick ? 1 : 5;
	const windowS = context.quick ? 2 : 15;
	const measurements = new Measurements();
	const notes = new Map<string, string[]>();
	const addNote = (key: string, text: string) => {
		notes.set(key, [...(notes.get(key) ?? []), text]);
	};

	for (let run = 0; run < runs; run++) {
		for (const count of PEER_COUNTS) {
			for (const screen of SCREENS) {
				const id = prefix(count, screen);
				try {
					const result = await measureOnce(count, screen, warmupS, windowS, measurements);
					if (result === undefined) {
						continue;
					}

					measurements.add(`${id}.cpu`, round(result.cpuPercent, 1));
					measurements.add(`${id}.bytes`, round(result.kbPerS, 1));
					measurements.add(`${id}.frame-p50`, round(result.frameP50, 2));
					measurements.add(`${id}.frame-p99`, round(result.frameP99, 2));
					addNote(
						`${id}.cpu`,
						`run ${run + 1}: main thread ${round(result.mainThreadPercent, 1)} %, ${round(result.framesPerS, 1)} frames/s, ${round(result.kbPerS / Math.max(result.framesPerS, 0.1), 2)} KB/frame, peers' worker ${round(result.workerPercent, 1)} %${result.membersLine === undefined ? '' : `; header: ${result.membersLine}`}`,
					);
					addNote(`${id}.frame-p99`, `run ${run + 1}: CPU time per frame p50 ${round(result.frameCpuP50, 2)} ms, p99 ${round(result.frameCpuP99, 2)} ms; Ink's output step p99 ${round(result.inkRenderP99, 2)} ms`);
					context.log(
						`ui run ${run + 1}/${runs}, ${count} peers, ${screen} (${result.peersSeen} seen): CPU ${round(result.cpuPercent, 1)} % (main ${round(result.mainThreadPercent, 1)} %), ${round(result.kbPerS, 1)} KB/s, ${round(result.framesPerS, 1)} frames/s, worker ${round(result.workerPercent, 1)} %, frame p50 ${round(result.frameP50, 2)} ms p99 ${round(result.frameP99, 2)} ms (CPU p50 ${round(result.frameCpuP50, 2)} ms p99 ${round(result.frameCpuP99, 2)} ms)`,
					);
				} catch (error) {
					measurements.warn(`run ${run + 1}, ${count} peers, ${screen}: ${(error as Error).message}`);
				}
			}
		}
	}

	for (const [key, texts] of notes) {
		measurements.note(key, texts.join('; '));
	}

	return {
		values: measurements.values,
		warnings: measurements.warnings,
		method: [
			`The real binary, \`node dist/cli.js --demo 0 --bind PORT --peer ENDPOINT ...\`, in a ${COLUMNS}×${ROWS} pseudo-terminal (node-pty, TERM=xterm-256color, colours on), its output read by @xterm/headless.`,
			`The peers: one worker process (bench/workers/ui-peers.ts) publishing N peer ids (\`ui-peer-0001\` ...) at 10 Hz each, valid wire v1 frames, from ceil(N / ${PEERS_PER_SOCKET}) PUB sockets (the node allows one connection ten times the announced rate); the UI subscribes to every socket.`,
			`Once the header shows all N peers, ${warmupS} s of warm-up, then a ${windowS} s window: CPU is utime + stime of the whole TUI process (every thread, /proc/PID/stat) over the window as a share of one core; bytes are everything the pty delivered in the window (UTF-8 bytes, escapes included); frame times are those the UI itself records with CHORUS_UI_FRAME_LOG=<file> (per mesh sample, wall time from the snapshot through React's render and commit, Ink's layout and output and the painter's drawing of the panes to the write to the terminal), the frames inside the window. The notes give each frame's CPU time too (the process's, every thread): a loaded machine inflates wall time much more than CPU time.`,
			`The mesh view (figures \`ui.N.mesh.*\`): the same, with \`--id ui-console\` and the worker's \`--control\`: every peer also answers \`view\` on a control endpoint of its own (bench/workers/ui-control.ts, one ZMTP ROUTER per peer, announced in its data frames; each member hears every other and the console alive). Once the table counts N peers, \`m\` is pressed; once the header counts N members with a control plane and a row of the condensed matrix counts N alive, the warm-up and window as above. The console pulls as the session does for any mesh (mesh-watch.ts: about once a second, at most 256 members a round, brief \`view\` replies). The notes give the worker's own CPU share over the window, to show it is not what limits the UI.`,
			`${runs} run(s) per peer count and screen, alternating 200 and 1000; the figure is the median. The machine has 2 cores shared with whatever else runs: the figures are noisy. Re-measure with \`npm run bench -- --only ui\`.`,
		],
	};
}

/** The console's node id in a mesh-view run: the worker's members list it as a peer they hear. */
const CONSOLE_ID = 'ui-console';

async function measureOnce(count: number, screen: Screen, warmupS: number, windowS: number, measurements: Measurements): Promise<RunResult | undefined> {
	const sockets = Math.ceil(count / PEERS_PER_SOCKET);
	// Ports below the ephemeral range (bench/lib/ports.ts): the worker binds a thousand control
	// endpoints on port 0, and the kernel must not hand one of them the TUI's port before it binds.
	// The TUI's control endpoint is named: its default (data port + 1) could be a peer's port.
	const base = await portBlock(sockets + 2);
	const [tuiPort, tuiControlPort, ...peerPorts] = Array.from({length: sockets + 2}, (_, index) => base + index);
	const workDir = mkdtempSync(path.join(tmpdir(), 'chorus-ui-cost-'));
	const frameLogPath = path.join(workDir, 'frames.json');
	const mesh = screen === 'mesh';
	const worker = new Child(
		process.execPath,
		[path.join(BENCH_DIST_DIR, 'workers', 'ui-peers.js'), String(count), peerPorts.join(','), ...(mesh ? ['--control', '--console', CONSOLE_ID] : [])],
		{stdin: true},
	);
	let term: Term | undefined;
	try {
		// A thousand control endpoints take a few seconds to bind on a busy machine.
		await worker.waitForLine((line) => line === 'ready', 30_000);
		const peerArgs = peerPorts.flatMap((port) => ['--peer', `tcp://127.0.0.1:${port}`]);
		term = new Term(['--demo', '0', ...(mesh ? ['--id', CONSOLE_ID] : []), '--bind', `tcp://127.0.0.1:${tuiPort}`, '--control', String(tuiControlPort), ...peerArgs], {CHORUS_UI_FRAME_LOG: frameLogPath});
		const peersPattern = /peers (\d+)/;
		// The mesh view's header: `members N · K with a control plane` (N counts the console too).
		const membersPattern = /members (\d+) · (\d+) with a control plane/;
		// A condensed row: `ui-peer-0001   200    0    0    0  0.99 ...`, its first count those it hears alive.
		const rowPattern = /(?:ui-peer-\d{4}|ui-console)\s+(\d+)\s+\d+\s+\d+\s+\d+/g;
		const tablePeers = () => Number(peersPattern.exec(term!.screen())?.[1] ?? 0);
		const seen = mesh ? () => Math.max(0, Number(membersPattern.exec(term!.screen())?.[2] ?? 0) - 1) : tablePeers;
		await term.waitFor(() => tablePeers() >= count, 20_000, `the header to show ${count} peers`);
		if (mesh) {
			term.write('m');
			await term.waitFor(() => seen() >= count, 30_000, `the mesh view's header to count ${count} members with a control plane`);
			await term.waitFor(
				() => [...term!.screen().matchAll(rowPattern)].some((match) => Number(match[1]) >= count),
				60_000,
				`a row of the mesh view to hear all ${count} members alive`,
			);
		}

		await sleep(warmupS * 1000);

		const startBytes = term.bytes;
		const workerPid = worker.process.pid!;
		const startWorker = cpuSeconds(workerPid);
		const startCpu = cpuSeconds(term.pid);
		const startMain = cpuSecondsByThread(term.pid).get('main') ?? Number.NaN;
		const startEpochMs = Date.now();
		const startMs = performance.now();
		await sleep(windowS * 1000);
		const elapsedS = (performance.now() - startMs) / 1000;
		const endEpochMs = Date.now();
		const cpuS = cpuSeconds(term.pid) - startCpu;
		const workerS = cpuSeconds(workerPid) - startWorker;
		const mainS = (cpuSecondsByThread(term.pid).get('main') ?? Number.NaN) - startMain;
		const bytes = term.bytes - startBytes;
		const peersSeen = seen();
		const membersLine = mesh ? membersPattern.exec(term.screen())?.[0] : undefined;
		if (peersSeen < count) {
			measurements.warn(`${count} peers, ${screen}: the header showed ${peersSeen} at the end of the window`);
		}

		if (mesh && !term.screen().includes('MESH ·')) {
			measurements.warn(`${count} peers: the mesh view was not on screen at the end of the window`);
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
			workerPercent: (workerS / elapsedS) * 100,
			...(membersLine === undefined ? {} : {membersLine}),
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

	/** Keys, as typed. */
	write(keys: string): void {
		this.#pty.write(keys);
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
