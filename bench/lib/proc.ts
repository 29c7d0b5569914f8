/**
Child processes for benchmarks: spawn (optionally pinned to CPUs), read their stdout line by line,
measure their CPU time from /proc, and make sure none outlives the run.
*/

import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {createInterface} from 'node:readline';
import {Wakeup} from '../../test/helpers/wakeup.js';

const live = new Set<Child>();

/** Clock ticks per second for /proc/PID/stat (USER_HZ). */
export const CLOCK_TICKS_PER_S = (() => {
	const result = spawnSync('getconf', ['CLK_TCK'], {encoding: 'utf8'});
	const value = Number(result.stdout?.trim());
	return Number.isFinite(value) && value > 0 ? value : 100;
})();

const hasTaskset = spawnSync('taskset', ['--version']).status === 0;

export type SpawnOptions = {
	/** CPU list for taskset (`"1"`, `"0-1"`); ignored where taskset is missing. */
	cpus?: string;
	env?: NodeJS.ProcessEnv;
	/** Keep stdin open as a pipe; a child that watches stdin stops when the parent dies. */
	stdin?: boolean;
	/** Whether to keep every stdout line (false for chatty children). */
	keepLines?: boolean;
	onLine?: (line: string, atMs: number) => void;
};

export class Child {
	readonly process: ChildProcess;
	readonly lines: Array<{text: string; atMs: number}> = [];
	readonly spawnedAtMs: number;
	stderr = '';
	readonly exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
	readonly #wakeup = new Wakeup();

	constructor(command: string, args: readonly string[], options: SpawnOptions = {}) {
		const pinned = options.cpus !== undefined && hasTaskset;
		this.spawnedAtMs = performance.now();
		this.process = spawn(pinned ? 'taskset' : command, pinned ? ['-c', options.cpus!, command, ...args] : args, {
			stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
			env: {...process.env, ...options.env},
		});
		live.add(this);
		const keep = options.keepLines ?? true;
		createInterface({input: this.process.stdout!}).on('line', (text) => {
			const atMs = performance.now();
			if (keep) {
				this.lines.push({text, atMs});
			}

			options.onLine?.(text, atMs);
			this.#wakeup.wakeAll();
		});
		this.process.stderr!.on('data', (chunk: Buffer) => {
			this.stderr = (this.stderr + chunk.toString()).slice(-4000);
		});
		this.process.stdin?.on('error', () => {});
		this.exited = new Promise((resolve) => {
			this.process.on('exit', (code, signal) => {
				live.delete(this);
				resolve({code, signal});
				this.#wakeup.wakeAll();
			});
		});
	}

	get pid(): number {
		return this.process.pid!;
	}

	/** The program and its first argument, for messages: `node .../ingest-receiver.js`. */
	get name(): string {
		const args = this.process.spawnargs.filter((argument) => argument !== 'taskset' && !/^-c$|^[\d,-]+$/.test(argument));
		return args.slice(0, 2).map((argument) => argument.split('/').slice(-2).join('/')).join(' ');
	}

	get running(): boolean {
		return this.process.exitCode === null && this.process.signalCode === null;
	}

	/** Resolve with the first stdout line (from index `from`) that matches. */
	async waitForLine(predicate: (text: string) => boolean, timeoutMs: number, from = 0): Promise<{text: string; atMs: number; index: number}> {
		const deadline = performance.now() + timeoutMs;
		let index = from;
		for (;;) {
			for (; index < this.lines.length; index++) {
				if (predicate(this.lines[index]!.text)) {
					return {...this.lines[index]!, index};
				}
			}

			if (!this.running) {
				throw new Error(`${this.name} exited (${this.process.signalCode ?? `code ${this.process.exitCode}`}) before the awaited line; stderr: ${this.stderr.trim().slice(-600)}`);
			}

			const left = deadline - performance.now();
			if (left <= 0) {
				throw new Error(`timed out after ${timeoutMs} ms waiting for a line from ${this.name}; stderr: ${this.stderr.trim().slice(-300)}`);
			}

			await this.#wakeup.wait(left);
		}
	}

	send(text: string): void {
		this.process.stdin?.write(text);
	}

	kill(signal: NodeJS.Signals): void {
		if (this.running) {
			this.process.kill(signal);
		}
	}

	/** SIGTERM, then SIGKILL after a grace period. */
	async stop(graceMs = 3000): Promise<void> {
		if (!this.running) {
			return;
		}

		this.process.kill('SIGTERM');
		const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
		await this.exited;
		clearTimeout(timer);
	}
}

export async function stopAll(children: Iterable<Child>): Promise<void> {
	await Promise.all([...children].map(async (child) => child.stop()));
}

/** Kill whatever is still running (on exit or interrupt of the runner). */
export function killAllChildren(): void {
	for (const child of live) {
		child.kill('SIGKILL');
	}
}

/** CPU seconds (user + system, all threads) a process has used so far; NaN when it is gone. */
export function cpuSeconds(pid: number): number {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		// The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
		const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		// utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
		return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
	} catch {
		return Number.NaN;
	}
}

/** CPU seconds per thread name (`node`, `ZMQbg/IO/0`, `V8 Worker`, ...) of a process, summed over threads of that name. */
export function cpuSecondsByThread(pid: number): Map<string, number> {
	const byName = new Map<string, number>();
	let tids: string[];
	try {
		tids = readdirSync(`/proc/${pid}/task`);
	} catch {
		return byName;
	}

	for (const tid of tids) {
		try {
			const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
			const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
			const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
			// The main thread is named after the process; group it as "main".
			const key = tid === String(pid) ? 'main' : name;
			byName.set(key, (byName.get(key) ?? 0) + seconds);
		} catch {}
	}

	return byName;
}

export async function sleep(ms: number): Promise<void> {
	await new Promise((resolve) => {
		setTimeout(resolve, ms);
	});
}
