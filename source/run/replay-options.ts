/**
The options of `chorus-tui replay` (checked here: one line and exit code 2 when wrong), and the one
line that says what of a recording could not be replayed.
*/

import process from 'node:process';
import {ConfigError} from '../config.js';
import type {Recording} from '../report/recording/reader.js';

export type ReplayOptions = {
	file: string;
	headless: boolean;
	/** Playback speed: ¼× to 16× in the terminal UI, up to 1000× headless. */
	speed: number;
	/** Write an asciinema v2 cast here instead of playing. */
	castFile: string | undefined;
	screenshotDir: string;
	color: boolean;
};

/** The flags `replay` reads (cli.tsx parses them with the rest). */
export type ReplayFlags = {
	headless?: boolean;
	speed?: string;
	cast?: string;
	screenshotDir?: string;
	color?: boolean;
};

const MAX_HEADLESS_SPEED = 1000;

/** Check `replay`'s arguments: one line naming the flag and exit code 2 when wrong. */
export function resolveReplayOptions(input: readonly string[], flags: ReplayFlags): ReplayOptions {
	if (input.length !== 1 || input[0]!.trim() === '') {
		throw new ConfigError('replay', input.length === 0 ? 'needs a recording: chorus-tui replay <file>' : `takes one recording, not ${input.length}`);
	}

	const headless = flags.headless ?? false;
	let speed = 1;
	if (flags.speed !== undefined) {
		const text = flags.speed.trim().replace(/[x×]$/u, '');
		speed = Number(text);
		const max = headless ? MAX_HEADLESS_SPEED : 16;
		if (text === '' || !Number.isFinite(speed) || speed < 0.25 || speed > max) {
			throw new ConfigError('--speed', `'${flags.speed}' is not a speed from 0.25 to ${max}`);
		}
	}

	if (flags.cast?.trim() === '') {
		throw new ConfigError('--cast', 'needs a file name (out.cast)');
	}

	if (flags.cast !== undefined && headless) {
		throw new ConfigError('--cast', 'writes a file; leave out --headless');
	}

	return {
		file: input[0]!,
		headless,
		speed,
		castFile: flags.cast,
		screenshotDir: flags.screenshotDir ?? '.',
		color: flags.color ?? true,
	};
}

/** The damage, said once on stderr. */
export function reportDamage(recording: Recording): void {
	if (recording.damage !== undefined) {
		process.stderr.write(`chorus-tui: replay: ${recording.damage}\n`);
	}
}
