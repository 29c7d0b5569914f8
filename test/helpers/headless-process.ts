/**
A real `chorus-tui --headless` child process, with its NDJSON stream parsed line by line and each
line stamped with the time it arrived, so tests can wait for what the node reports.
*/

import {spawn, type ChildProcess} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {createInterface} from 'node:readline';
import {Wakeup} from './wakeup.js';

export const CLI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js');

export type Line = {type: 'snapshot' | 'event'; receivedAtMs: number; [field: string]: any};

export class HeadlessProcess {
	readonly child: ChildProcess;
	readonly lines: Line[] = [];
	stderr = '';
	readonly exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
	readonly #wakeup = new Wakeup();

	constructor(args: string[], options: {env?: NodeJS.ProcessEnv} = {}) {
		this.child = spawn(process.execPath, [CLI_PATH, '--headless', ...args], {
			stdio: ['ignore', 'pipe', 'pipe'],
			env: {...process.env, ...options.env},
		});
		createInterface({input: this.child.stdout!}).on('line', (text) => {
			try {
				this.lines.push({...JSON.parse(text), receivedAtMs: performance.now()});
			} catch {
				this.lines.push({type: 'event', kind: 'unparsable', text, receivedAtMs: performance.now()});
			}

			this.#wakeup.wakeAll();
		});
		this.child.stderr!.on('data', (chunk: Buffer) => {
			this.stderr += chunk.toString();
		});
		this.exited = new Promise((resolve) => {
			this.child.on('exit', (code, signal) => {
				resolve({code, signal});
				this.#wakeup.wakeAll();
			});
		});
	}

	get pid(): number {
		return this.child.pid!;
	}

	get snapshots(): Line[] {
		return this.lines.filter((line) => line.type === 'snapshot');
	}

	get events(): Line[] {
		return this.lines.filter((line) => line.type === 'event');
	}

	lastSnapshot(): Line | undefined {
		return this.snapshots.at(-1);
	}

	/** Resolve with the first line (from `fromIndex` on) that matches, or reject after `timeoutMs`. */
	async waitFor(predicate: (line: Line) => boolean, timeoutMs: number, fromIndex = 0): Promise<Line> {
		const deadline = performance.now() + timeoutMs;
		let index = fromIndex;
		for (;;) {
			for (; index < this.lines.length; index++) {
				if (predicate(this.lines[index]!)) {
					return this.lines[index]!;
				}
			}

			if (this.child.exitCode !== null || this.child.signalCode !== null) {
				throw new Error(`process exited before the awaited line; stderr: ${this.stderr.slice(-500)}`);
			}

			const left = deadline - performance.now();
			if (left <= 0) {
				throw new Error(`timed out after ${timeoutMs} ms waiting for a line; last: ${JSON.stringify(this.lines.at(-1))?.slice(0, 400)}`);
			}

			await this.#wakeup.wait(left);
		}
	}

	async waitForEvent(kind: string, peer: string | undefined, timeoutMs: number, fromIndex = 0): Promise<Line> {
		return this.waitFor(
			(line) => line.type === 'event' && line.kind === kind && (peer === undefined || line.peer === peer),
			timeoutMs,
			fromIndex,
		);
	}

	async waitForSnapshot(predicate: (snapshot: Line) => boolean, timeoutMs: number, fromIndex = 0): Promise<Line> {
		return this.waitFor((line) => line.type === 'snapshot' && predicate(line), timeoutMs, fromIndex);
	}

	/** Stop with SIGTERM and wait; SIGKILL after a grace period so a test never hangs. */
	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
		if (this.child.exitCode === null && this.child.signalCode === null) {
			this.child.kill(signal);
			const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
			const result = await this.exited;
			clearTimeout(timer);
			return result;
		}

		return this.exited;
	}
}

/** Stop every process, even when a test failed halfway. */
export async function stopAll(processes: Iterable<HeadlessProcess>): Promise<void> {
	await Promise.all([...processes].map(async (process_) => process_.stop()));
}

export function peerOf(snapshot: Line, id: string): any {
	return (snapshot.peers as any[]).find((peer) => peer.id === id);
}
