/**
The terminal UI's edge: start the mesh session, take over the terminal (alternate screen, hidden
cursor, raw mode through Ink), and give it back whatever happens — `q`, Ctrl-C, SIGTERM, SIGHUP
when an SSH link drops, or a crash — after stopping the demo peers.
*/

import process from 'node:process';
import chalk from 'chalk';
import {render} from 'ink';
import type {Config} from '../config.js';
import {BindError} from '../mesh/net/transport.js';
import {playScenario} from '../scenario/player.js';
import {createMeshSession, type MeshSession} from '../session/session.js';
import {App} from '../ui/app.js';
import {MeshStore} from '../ui/mesh-store.js';
import {createTerminalScreen} from '../ui/terminal/index.js';
import {createFrameLog} from './frame-log.js';
import {describePortInUse} from './port-in-use.js';

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

	let restored = false;
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
	const crash = (error: unknown) => {
		// Once: a failure while failing (writing to a terminal that is gone) must not loop.
		if (crashing) {
			return;
		}

		crashing = true;
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
	const store = new MeshStore(session, {quietRefreshMs: QUIET_REFRESH_MS, ...(frameLog ? {onSampled: frameLog.onSampled} : {})});
	// Only the cells that changed reach the terminal (a seventh of Ink's full redraws, over SSH too),
	// and the panes' lines are drawn into the boxes Ink lays out (see ui/components/Lines.tsx).
	const screen = createTerminalScreen(process.stdout, frameLog ? {onPainted: frameLog.onPainted} : {});
	process.stdout.write(ENTER_ALTERNATE_SCREEN);
	const instance = render(
		<App controller={session} ttlMs={config.ttlMs} readonly={config.readonly} color={color} store={store} painter={screen.painter} />,
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

	process.on('SIGTERM', onSignal);
	process.on('SIGHUP', onSignal);
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
		process.off('SIGHUP', onSignal);
		process.off('SIGINT', onSignal);
		restoreTerminal();
		frameLog?.write();
		scenario?.stop();
		await stopSession();
		process.off('uncaughtException', crash);
		process.off('unhandledRejection', crash);
	}

	// Everything is closed; if a stray handle still holds the event loop, do not hang the shell.
	setTimeout(() => {
		process.exit(exitCode);
	}, 2000).unref();
	return exitCode;
}
