/**
The terminal UI's edge: start the mesh session, take over the terminal (alternate screen, hidden
cursor, raw mode through Ink), and give it back whatever happens — `q`, Ctrl-C, SIGTERM, SIGHUP
when an SSH link drops, or a crash — after stopping the demo peers. A SIGHUP while the terminal is
still there (`kill -HUP`) reloads the allow file instead.
*/

import process from 'node:process';
import {isatty} from 'node:tty';
import chalk from 'chalk';
import {render} from 'ink';
import type {Config} from '../config.js';
import {BindError} from '../mesh/net/transport.js';
import {serveSessionMetrics} from '../report/session-metrics.js';
import {playScenario} from '../scenario/player.js';
import {createMeshSession, type MeshSession} from '../session/session.js';
import {recordingActions, sampledThrough} from '../report/recording/recorder.js';
import {startSessionRecording, type SessionRecording} from '../report/recording/session-recording.js';
import {App} from '../ui/app.js';
import {MeshStore} from '../ui/mesh-store.js';
import {createTerminalScreen} from '../ui/terminal/index.js';
import {createFrameLog} from './frame-log.js';
import {describePortInUse} from './port-in-use.js';
import {startTerminalGuard, type TerminalGuard} from './terminal-guard.js';

const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h\u001B[H\u001B[2J';
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';
/**
How often the screen follows numbers that tick all the time (ages, TTL bars, Lamport clocks, Δφ)
when nothing else changed; a peer's state, r, a fault or an event shows within a sample (100 ms).
Each frame is most of what the UI costs: 10 a second took a quarter of a core with 200 peers.
*/
const QUIET_REFRESH_MS = 250;
/** Stopping the demo peers should take well under this; past it we leave anyway. */
const STOP_TIMEOUT_MS = 5000;

/** NO_COLOR (no-color.org): present and not empty. Chalk does not read it by itself. */
export function colorWanted(config: Pick<Config, 'color'>, env: NodeJS.ProcessEnv = process.env): boolean {
	return config.color && (env['NO_COLOR'] ?? '') === '';
}

function isTerminalGone(error: unknown): boolean {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	return code === 'EIO' || code === 'EPIPE' || code === 'ENXIO';
}

function writeQuietly(text: string): void {
	try {
		process.stderr.write(text);
	} catch {
		// Nowhere left to say it.
	}
}

/** Resolves with the process exit code once the terminal is restored and the session stopped. */
export async function runTui(config: Config): Promise<number> {
	if (!process.stdin.isTTY || !process.stdout.isTTY) {
		process.stderr.write('chorus-tui: the terminal UI needs a terminal on stdin and stdout; use --headless for NDJSON\n');
		return 2;
	}

	const color = colorWanted(config);
	if (!color) {
		// Ink styles through chalk: level 0 means no colour escape can be written at all.
		chalk.level = 0;
	}

	let session: MeshSession;
	try {
		session = await createMeshSession(config);
	} catch (error) {
		if (error instanceof BindError && error.code === 'EADDRINUSE') {
			process.stderr.write(`chorus-tui: ${describePortInUse(error.endpoint)}\n`);
			return 1;
		}

		throw error;
	}

	// --record: opened before the terminal is ours, so that a file that cannot be written is a plain line.
	let recording: SessionRecording | undefined;
	try {
		recording = await startSessionRecording(config, session, 'tui');
	} catch (error) {
		process.stderr.write(`chorus-tui: ${(error as Error).message}\n`);
		await session.stop().catch(() => undefined);
		return 2;
	}

	// The store samples through the recorder (every sample is a record) and the operator's actions
	// go through it too; the reducer's own reads of the faults in force are not samples.
	const sampled = recording ? sampledThrough(session, recording.recorder) : session;
	const controller = recording ? recordingActions(session, recording.recorder) : session;

	// Only with --metrics (prom-client and node:http are loaded then); before the terminal is ours,
	// so that a port in use is a plain line.
	let metrics: Awaited<ReturnType<typeof serveSessionMetrics>>;
	try {
		metrics = await serveSessionMetrics(session, config);
	} catch (error) {
		await session.stop();
		process.stderr.write(`chorus-tui: ${(error as Error).message}\n`);
		return 1;
	}

	let restored = false;
	// eslint-disable-next-line prefer-const -- set once the terminal is taken over, below; read by restoreTerminal, which is defined first.
	let guard: TerminalGuard | undefined;
	const restoreTerminal = () => {
		if (restored) {
			return;
		}

		restored = true;
		try {
			if (process.stdin.isTTY) {
				process.stdin.setRawMode(false);
			}

			process.stdin.pause();
			process.stdout.write(SHOW_CURSOR + LEAVE_ALTERNATE_SCREEN);
		} catch {
			// The terminal may be gone (SSH hung up); there is nothing left to restore.
		}

		guard?.release();
	};

	const stopSession = async () => {
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([
			session.stop().catch(() => undefined),
			new Promise<void>((resolve) => {
				timer = setTimeout(resolve, STOP_TIMEOUT_MS);
			}),
		]);
		clearTimeout(timer);
	};

	// A crash outside React (a socket callback, a timer) must not leave the terminal in raw mode on
	// the alternate screen, nor demo peers running.
	let crashing = false;
	/** Stops the samples that make Ink draw: after a crash it would draw over the main screen. */
	// eslint-disable-next-line prefer-const -- set once the store exists, below; a crash may come before.
	let stopDrawing: (() => void) | undefined;
	const crash = (error: unknown) => {
		// Once: a failure while failing (writing to a terminal that is gone) must not loop.
		if (crashing) {
			return;
		}

		crashing = true;
		try {
			stopDrawing?.();
		} catch {
			// Failing already; the terminal comes first.
		}

		restoreTerminal();
		if (!isTerminalGone(error)) {
			writeQuietly(`chorus-tui: the terminal UI failed: ${(error as Error)?.message ?? String(error)}\n`);
		}

		void stopSession().finally(() => {
			process.exit(isTerminalGone(error) ? 129 : 1);
		});
	};

	process.on('uncaughtException', crash);
	process.on('unhandledRejection', crash);
	// The SSH link or the terminal emulator went away: writes fail with EIO or EPIPE. Stop the demo
	// peers and leave, instead of rendering into the void.
	process.stdout.on('error', crash);
	process.stderr.on('error', crash);
	const frameLog = createFrameLog(process.env['CHORUS_UI_FRAME_LOG']);
	// Sampled 10 times a second; when only the ever-ticking numbers change, drawn 4 times a second.
	const store = new MeshStore(sampled, {quietRefreshMs: QUIET_REFRESH_MS, ...(frameLog ? {onSampled: frameLog.onSampled} : {})});
	stopDrawing = () => {
		store.stop();
	};

	// Only the cells that changed reach the terminal (a seventh of Ink's full redraws, over SSH too),
	// and the panes' lines are drawn into the boxes Ink lays out (see ui/components/Lines.tsx).
	const screen = createTerminalScreen(process.stdout, frameLog ? {onPainted: frameLog.onPainted} : {});
	// Before raw mode: the guard saves the terminal's settings as the shell left them.
	guard = startTerminalGuard();
	process.stdout.write(ENTER_ALTERNATE_SCREEN);
	const instance = render(
		<App
			controller={controller}
			ttlMs={config.ttlMs}
			readonly={config.readonly}
			color={color}
			store={store}
			painter={screen.painter}
			screenshotDir={config.screenshotDir}
			screen={{
				cells: screen.cells,
				get columns() {
					return process.stdout.columns;
				},
				get rows() {
					return process.stdout.rows;
				},
			}}
		/>,
		{
			// Ctrl-C is a key of the app: it quits the same way as q, stopping the demo peers first.
			exitOnCtrlC: false,
			stdout: screen.stdout,
			...(frameLog ? {onRender: frameLog.onInkRender} : {}),
			// Not `incrementalRendering`: in Ink 6.8 it moves the cursor one line short when the frame
			// ends in a newline (any frame shorter than the screen), and the screen fills with stale lines.
		},
	);

	const onSignal = () => {
		instance.unmount();
	};

	// A scenario plays on the live screen (for demos and recordings); one with an `end` ends the run.
	const scenario =
		config.scenario === undefined
			? undefined
			: playScenario(session, config.scenario, {
					record(event) {
						session.record(event);
					},
					onEnd: onSignal,
					startWhen: session.demoPeersReady(),
				});

	// A hang-up takes the terminal away before the signal comes: the tty then answers every call with
	// EIO, and isatty() is false. A SIGHUP with the terminal still ours is an operator's reload; its
	// result is in the event log (a line on stderr would scribble over the screen).
	const onHangup = () => {
		if (isatty(process.stdout.fd)) {
			void session.reloadAllowFile();
		} else {
			onSignal();
		}
	};

	// Test-only: the crash tests (test/e2e/crash-restore.test.ts) need a UI that fails in flight.
	// `uncaught` throws from a timer, as a bug in a callback would, 2 s after the demo peers are up
	// (so well after the first frame, with child processes to stop).
	if (process.env['CHORUS_TEST_CRASH'] === 'uncaught') {
		void session.demoPeersReady().then(() => {
			setTimeout(() => {
				throw new Error('CHORUS_TEST_CRASH: an uncaught error, injected for a test');
			}, 2000);
		});
	}

	process.on('SIGTERM', onSignal);
	process.on('SIGHUP', onHangup);
	process.on('SIGINT', onSignal);
	let exitCode = 0;
	try {
		await instance.waitUntilExit();
	} catch (error) {
		restoreTerminal();
		process.stderr.write(`chorus-tui: the terminal UI failed: ${(error as Error)?.message ?? String(error)}\n`);
		exitCode = 1;
	} finally {
		process.off('SIGTERM', onSignal);
		process.off('SIGHUP', onHangup);
		process.off('SIGINT', onSignal);
		restoreTerminal();
		frameLog?.write();
		scenario?.stop();
		await metrics?.close();
		await stopSession();
		// After the session: its last events (the demo peers stopping) are in the file.
		await recording?.stop().catch(() => undefined);
		process.off('uncaughtException', crash);
		process.off('unhandledRejection', crash);
	}

	// Everything is closed; if a stray handle still holds the event loop, do not hang the shell.
	setTimeout(() => {
		process.exit(exitCode);
	}, 2000).unref();
	return exitCode;
}
