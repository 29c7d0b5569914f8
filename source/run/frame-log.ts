/**
The UI's benchmark frame log (CHORUS_UI_FRAME_LOG=<path>): how long every frame of the terminal UI
takes, written as JSON at exit for bench/modules/ui-cost.ts. Off, nothing is timed.
*/

import {writeFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';
import process from 'node:process';

/** The hooks the mesh store, Ink and the painter call, and the write at exit. */
export type FrameLog = {
	onSampled(startedMs: number): void;
	onInkRender(metrics: {renderTime: number}): void;
	onPainted(): void;
	write(): void;
};

/** Frames kept at most: over four hours at 10 frames a second. */
const FRAME_LOG_CAPACITY = 150_000;

/**
CHORUS_UI_FRAME_LOG=<path>: record how long every frame takes and write it as JSON at exit, for
the UI cost benchmark (bench/modules/ui-cost.ts). `frames` are [epoch ms, duration ms] pairs: from
the start of a mesh sample (the snapshot) through React's render and commit, Ink's layout and
output, to the painter's write of the changed cells to the terminal, which all happen in the task
the sample started (the painter writes in a microtask after the commit). `frameCpu` are the
process's CPU time (every thread, so an upper bound) over the same span, which a busy machine
inflates far less than wall time. `inkRenders` are Ink's own output-building times. Off, nothing
is timed.
*/
export function createFrameLog(path: string | undefined): FrameLog | undefined {
	if (path === undefined || path === '') {
		return undefined;
	}

	const frames: Array<[number, number]> = [];
	const frameCpu: Array<[number, number]> = [];
	const inkRenders: Array<[number, number]> = [];
	let sampleStartedMs: number | undefined;
	let sampleCpu: NodeJS.CpuUsage | undefined;
	const push = (list: Array<[number, number]>, durationMs: number) => {
		if (list.length < FRAME_LOG_CAPACITY) {
			list.push([Date.now(), Math.round(durationMs * 1000) / 1000]);
		}
	};

	return {
		onSampled(startedMs: number) {
			sampleStartedMs = startedMs;
			sampleCpu = process.cpuUsage();
		},
		onInkRender({renderTime}: {renderTime: number}) {
			push(inkRenders, renderTime);
		},
		onPainted() {
			const startedMs = sampleStartedMs;
			sampleStartedMs = undefined;
			if (startedMs !== undefined) {
				push(frames, performance.now() - startedMs);
				const cpu = process.cpuUsage(sampleCpu);
				push(frameCpu, (cpu.user + cpu.system) / 1000);
			}
		},
		write() {
			try {
				writeFileSync(path, `${JSON.stringify({frames, frameCpu, inkRenders})}\n`);
			} catch (error) {
				process.stderr.write(`chorus-tui: cannot write the frame log ${path}: ${(error as Error).message}\n`);
			}
		},
	};
}
