/**
What else ran on the machine while a stretch of the bench did: the CPU the whole machine spent
(/proc/stat) minus what this runner and the children it has reaped spent (/proc/self/stat, utime +
stime + cutime + cstime). The bench loads the machine itself (a scale trial saturates it on
purpose), so the load average cannot tell its own work from someone else's; the difference can.
Measure between points where every child has exited (a module's start and end), or the children
still running count as other load.
*/

import {readFileSync} from 'node:fs';
import os from 'node:os';
import {CLOCK_TICKS_PER_S} from './proc.js';

export type LoadReport = {
	seconds: number;
	/** Mean cores busy, machine-wide. */
	machineCores: number;
	/** Mean cores this runner and its children used. */
	benchCores: number;
	/** Mean cores everything else used: the contention the figures suffered. */
	otherCores: number;
	/** The 1-minute load average, sampled every 5 s (the bench's own load included). */
	loadAverage: {mean: number; max: number};
	/** Whether other processes took more than BUSY_SHARE of the machine. */
	busy: boolean;
};

/** Other processes using more than this share of all cores make a run "busy": CPU figures are inflated. */
export const BUSY_SHARE = 0.1;
const LOAD_SAMPLE_MS = 5000;

type CpuTimes = {machineS: number; benchS: number; atMs: number};

function readTimes(): CpuTimes {
	// First line: cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is in
	// user). Busy: user, nice, system, irq, softirq, steal (0, 1, 2, 5, 6, 7).
	const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
	const busyTicks = [0, 1, 2, 5, 6, 7].reduce((sum, index) => sum + (fields[index] ?? 0), 0);
	const self = readFileSync('/proc/self/stat', 'utf8');
	const after = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
	// utime, stime, cutime, cstime are fields 14–17 of the line: 11–14 after the command name.
	const benchTicks = after[11]! + after[12]! + after[13]! + after[14]!;
	return {
		machineS: busyTicks / CLOCK_TICKS_PER_S,
		benchS: benchTicks / CLOCK_TICKS_PER_S,
		atMs: performance.now(),
	};
}

export class LoadWatch {
	readonly #start = readTimes();
	readonly #loads: number[] = [os.loadavg()[0]!];
	readonly #timer = setInterval(() => {
		this.#loads.push(os.loadavg()[0]!);
	}, LOAD_SAMPLE_MS);

	constructor() {
		this.#timer.unref();
	}

	stop(): LoadReport {
		clearInterval(this.#timer);
		const end = readTimes();
		this.#loads.push(os.loadavg()[0]!);
		const seconds = Math.max((end.atMs - this.#start.atMs) / 1000, 1e-3);
		const machineCores = (end.machineS - this.#start.machineS) / seconds;
		const benchCores = (end.benchS - this.#start.benchS) / seconds;
		const otherCores = Math.max(0, machineCores - benchCores);
		return {
			seconds: round(seconds, 1),
			machineCores: round(machineCores, 2),
			benchCores: round(benchCores, 2),
			otherCores: round(otherCores, 2),
			loadAverage: {mean: round(this.#loads.reduce((sum, load) => sum + load, 0) / this.#loads.length, 2), max: round(Math.max(...this.#loads), 2)},
			busy: otherCores > BUSY_SHARE * os.cpus().length,
		};
	}
}

/** One line for results.md and the README table. */
export function describeLoad(load: LoadReport, cores: number): string {
	const other = `other processes used ${load.otherCores} of ${cores} cores on average (the bench ${load.benchCores}; load average ${load.loadAverage.mean} mean, ${load.loadAverage.max} max)`;
	return load.busy ? `busy machine: ${other}` : `quiet machine: ${other}`;
}

function round(value: number, digits: number): number {
	const scale = 10 ** digits;
	return Math.round(value * scale) / scale;
}
