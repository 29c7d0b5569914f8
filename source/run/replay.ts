/**
`chorus-tui replay <file>`: a recording (`--record`) played back — in the terminal UI (the same
screens, every fault key off), as NDJSON at the chosen speed (`--headless`, for scripts), or
turned into an asciinema v2 cast (`--cast out.cast`). A damaged file plays up to the damage and
the rest is described in one line on stderr; nothing in a file can crash it.
*/

import process from 'node:process';
import {readRecording, RecordingError, type Recording} from '../report/recording/reader.js';
import {reportDamage, type ReplayOptions} from './replay-options.js';

export {resolveReplayOptions, type ReplayFlags, type ReplayOptions} from './replay-options.js';

/** Run `replay`; resolves with the exit code. */
export async function runReplay(options: ReplayOptions): Promise<number> {
	let recording: Recording;
	try {
		recording = await readRecording(options.file);
	} catch (error) {
		if (error instanceof RecordingError) {
			process.stderr.write(`chorus-tui: replay: ${options.file}: ${error.message}\n`);
			return 2;
		}

		throw error;
	}

	if (options.castFile !== undefined) {
		const {writeCast} = await import('./replay-cast.js');
		return writeCast(recording, options);
	}

	if (options.headless) {
		return streamHeadless(recording, options.speed);
	}

	process.env['NODE_ENV'] ??= 'production';
	const {runReplayTui} = await import('./replay-tui.js');
	return runReplayTui(recording, options);
}

/** `--headless`: the records as NDJSON, each at its recorded time divided by the speed. */
async function streamHeadless(recording: Recording, speed: number): Promise<number> {
	let gone = false;
	process.stdout.on('error', () => {
		gone = true;
	});
	let stop = false;
	const onSignal = () => {
		stop = true;
	};

	process.on('SIGINT', onSignal);
	process.on('SIGTERM', onSignal);
	const write = async (text: string) => {
		if (!process.stdout.write(text)) {
			await new Promise((resolve) => {
				process.stdout.once('drain', resolve);
				process.stdout.once('error', resolve);
			});
		}
	};

	try {
		await write(JSON.stringify(recording.header) + '\n');
		const {records} = recording;
		const startMs = records[0]?.wallMs ?? recording.header.startedAtMs;
		const playStartedMs = performance.now();
		let batch = '';
		for (const record of records) {
			if (stop || gone) {
				break;
			}

			const dueMs = playStartedMs + (record.wallMs - startMs) / speed;
			const waitMs = dueMs - performance.now();
			if (waitMs > 1) {
				if (batch !== '') {
					// eslint-disable-next-line no-await-in-loop -- records go out in order, each at its time.
					await write(batch);
					batch = '';
				}

				// eslint-disable-next-line no-await-in-loop -- records go out in order, each at its time.
				await new Promise((resolve) => {
					setTimeout(resolve, waitMs);
				});
			}

			batch += JSON.stringify(record) + '\n';
		}

		if (batch !== '' && !gone) {
			await write(batch);
		}

		if (recording.trailer && !stop && !gone) {
			await write(JSON.stringify(recording.trailer) + '\n');
		}
	} finally {
		process.off('SIGINT', onSignal);
		process.off('SIGTERM', onSignal);
	}

	reportDamage(recording);
	return 0;
}
