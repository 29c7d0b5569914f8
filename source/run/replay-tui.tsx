/**
`chorus-tui replay <file>` in the terminal: the live UI (App) over a ReplaySession, moved by the
replay player; the terminal is taken and given back as the live UI does (run/tui.tsx).
*/

import process from 'node:process';
import chalk from 'chalk';
import {render} from 'ink';
import {useSyncExternalStore} from 'react';
import type {Recording} from '../report/recording/reader.js';
import {App, type AppProps} from '../ui/app.js';
import {createTerminalScreen} from '../ui/terminal/index.js';
import {ReplayPlayer} from './replay-player.js';
import {reportDamage, type ReplayOptions} from './replay-options.js';

const ENTER_ALTERNATE_SCREEN = '\u001B[?1049h\u001B[H\u001B[2J';
const LEAVE_ALTERNATE_SCREEN = '\u001B[?1049l';
const SHOW_CURSOR = '\u001B[?25h';

type RootProps = Omit<AppProps, 'controller' | 'store' | 'replay'> & {player: ReplayPlayer};

/** The App on the player's current store (a seek back swaps it) and its replay controls. */
export function ReplayRoot({player, ...props}: RootProps) {
	const state = useSyncExternalStore(player.subscribe, player.getState, player.getState);
	return <App {...props} controller={player.session} store={state.store} replay={state.control} />;
}

/** Resolves with the exit code once the terminal is restored. */
export async function runReplayTui(recording: Recording, options: ReplayOptions): Promise<number> {
	if (!process.stdin.isTTY || !process.stdout.isTTY) {
		process.stderr.write('chorus-tui: replay needs a terminal on stdin and stdout; use --headless for NDJSON\n');
		return 2;
	}

	// NO_COLOR (no-color.org) as the live UI reads it.
	const color = options.color && (process.env['NO_COLOR'] ?? '') === '';
	if (!color) {
		chalk.level = 0;
	}

	const player = new ReplayPlayer(recording.header, recording.records, {speed: options.speed, ...(recording.damage === undefined ? {} : {damage: recording.damage})});
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
			// The terminal is gone.
		}
	};

	const crash = (error: unknown) => {
		restoreTerminal();
		process.stderr.write(`chorus-tui: replay failed: ${(error as Error)?.message ?? String(error)}\n`);
		process.exit(1);
	};

	process.on('uncaughtException', crash);
	process.on('unhandledRejection', crash);
	const screen = createTerminalScreen(process.stdout);
	process.stdout.write(ENTER_ALTERNATE_SCREEN);
	player.start();
	const instance = render(
		<ReplayRoot
			player={player}
			ttlMs={recording.header.ttlMs}
			color={color}
			painter={screen.painter}
			screenshotDir={options.screenshotDir}
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
		{exitOnCtrlC: false, stdout: screen.stdout},
	);
	const onSignal = () => {
		instance.unmount();
	};

	process.on('SIGTERM', onSignal);
	process.on('SIGHUP', onSignal);
	process.on('SIGINT', onSignal);
	let exitCode = 0;
	try {
		await instance.waitUntilExit();
	} catch (error) {
		restoreTerminal();
		process.stderr.write(`chorus-tui: replay failed: ${(error as Error)?.message ?? String(error)}\n`);
		exitCode = 1;
	} finally {
		process.off('SIGTERM', onSignal);
		process.off('SIGHUP', onSignal);
		process.off('SIGINT', onSignal);
		player.stop();
		restoreTerminal();
		process.off('uncaughtException', crash);
		process.off('unhandledRejection', crash);
	}

	reportDamage(recording);
	setTimeout(() => {
		process.exit(exitCode);
	}, 1000).unref();
	return exitCode;
}
