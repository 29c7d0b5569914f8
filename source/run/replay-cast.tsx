/**
`chorus-tui replay <file> --cast out.cast`: a recording as an asciinema v2 cast. The real UI renders
each frame into an off-screen terminal of 80×24 through the painter, and the bytes it writes are
stamped with the session time of the sample they show: exactly what asciinema records from a
terminal, without one.
*/

import {EventEmitter} from 'node:events';
import {writeFile} from 'node:fs/promises';
import process from 'node:process';
import chalk from 'chalk';
import {render} from 'ink';
import type {Recording} from '../report/recording/reader.js';
import {createTerminalScreen} from '../ui/terminal/index.js';
import {ReplayPlayer} from './replay-player.js';
import {reportDamage, type ReplayOptions} from './replay-options.js';
import {ReplayRoot} from './replay-tui.js';

const COLUMNS = 80;
const ROWS = 24;
/** Ink draws at most 30 frames a second: a frame waits this long so that each one is drawn. */
const FRAME_WAIT_MS = 40;

/** A stand-in for a TTY stream: Ink and the painter write to it, the cast keeps what they wrote. */
// eslint-disable-next-line unicorn/prefer-event-target -- Ink listens with .on('resize'), as on a Node stream.
class OffscreenStream extends EventEmitter {
	// eslint-disable-next-line @typescript-eslint/class-literal-property-style -- a stream's field, as Ink reads it.
	readonly isTTY = true;
	readonly columns = COLUMNS;
	readonly rows = ROWS;
	pending = '';

	write(data: string | Uint8Array, ...rest: unknown[]): boolean {
		this.pending += typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
		const callback = rest.find((item) => typeof item === 'function') as (() => void) | undefined;
		callback?.();
		return true;
	}

	take(): string {
		const out = this.pending;
		this.pending = '';
		return out;
	}
}

/** A stdin that never types: Ink wants a TTY to switch to raw mode. */
// eslint-disable-next-line unicorn/prefer-event-target -- Ink reads it as a Node stream.
class SilentInput extends EventEmitter {
	// eslint-disable-next-line @typescript-eslint/class-literal-property-style -- a stream's field, as Ink reads it.
	readonly isTTY = true;
	setRawMode(): this {
		return this;
	}

	setEncoding(): this {
		return this;
	}

	read(): null {
		return null;
	}

	ref(): this {
		return this;
	}

	unref(): this {
		return this;
	}

	resume(): this {
		return this;
	}

	pause(): this {
		return this;
	}
}

async function wait(ms: number): Promise<void> {
	return new Promise((resolve) => {
		setTimeout(resolve, ms);
	});
}

/** Turn a recording into an asciinema v2 cast; resolves with the exit code. */
export async function writeCast(recording: Recording, options: ReplayOptions): Promise<number> {
	if (!options.color) {
		chalk.level = 0;
	} else if (chalk.level === 0) {
		// Off a terminal chalk finds no colours; a cast is played in one.
		chalk.level = 3;
	}

	// Playing (the status line says so), but moved record by record here, not by the player's clock.
	const player = new ReplayPlayer(recording.header, recording.records, {play: true});
	const stdout = new OffscreenStream();
	const screen = createTerminalScreen(stdout as unknown as NodeJS.WriteStream);
	const events: Array<[number, 'o', string]> = [];
	const stamp = (atS: number) => {
		const data = stdout.take();
		if (data !== '') {
			events.push([Math.max(0, Math.round(atS * 1e6) / 1e6), 'o', data]);
		}
	};

	let published = false;
	const watch = () => player.getState().store.subscribe(() => {
		published = true;
	});
	const unwatch = watch();
	const instance = render(
		<ReplayRoot player={player} ttlMs={recording.header.ttlMs} color={options.color} painter={screen.painter} size={{columns: COLUMNS, rows: ROWS}} />,
		{
			stdout: stdout as unknown as NodeJS.WriteStream,
			stdin: new SilentInput() as unknown as NodeJS.ReadStream,
			exitOnCtrlC: false,
			patchConsole: false,
		},
	);
	try {
		player.getState().store.start();
		await wait(FRAME_WAIT_MS);
		stamp(0);
		for (let record = player.stepRecord(); record; record = player.stepRecord()) {
			if (!published) {
				continue;
			}

			published = false;
			// eslint-disable-next-line no-await-in-loop -- a frame at a time: Ink draws each one before the next.
			await wait(FRAME_WAIT_MS);
			stamp((record.wallMs - player.startMs) / 1000);
		}

		await wait(FRAME_WAIT_MS);
		stamp((player.endMs - player.startMs) / 1000);
	} finally {
		unwatch();
		instance.unmount();
		player.stop();
	}

	const header = {
		version: 2,
		width: COLUMNS,
		height: ROWS,
		timestamp: Math.floor(recording.header.startedAtMs / 1000),
		title: `chorus-tui replay of ${options.file}`,
		env: {TERM: 'xterm-256color', SHELL: '/bin/sh'},
	};
	const lines = [JSON.stringify(header), ...events.map((event) => JSON.stringify(event))];
	try {
		await writeFile(options.castFile!, lines.join('\n') + '\n');
	} catch (error) {
		process.stderr.write(`chorus-tui: --cast: cannot write ${options.castFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
		return 2;
	}

	reportDamage(recording);
	process.stderr.write(`chorus-tui: wrote ${options.castFile}: ${events.length} frames, ${((player.endMs - player.startMs) / 1000).toFixed(1)} s\n`);
	return 0;
}
