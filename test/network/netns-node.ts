/**
A `chorus-tui --headless` node running inside a network namespace, with its NDJSON stream parsed
as test/helpers/headless-process.ts does for nodes on loopback.

The child is `ip netns exec <ns> timeout … node dist/cli.js …`: `ip` enters the namespace and
execs, and `timeout` bounds the node's life, so a node outlives a crashed test run by minutes at
most (removeLeftovers in netns.ts ends it sooner on the next run).
*/

import {spawn, type ChildProcess} from 'node:child_process';
import {createInterface} from 'node:readline';
import {CLI_PATH, type Line} from '../helpers/headless-process.js';

/** The longest a node may live, whatever happens to the test that started it. */
const MAX_LIFETIME_S = 300;

export class NamespacedNode {
	readonly child: ChildProcess;
	readonly lines: Line[] = [];
	readonly startedAtMs = performance.now();
	stderr = '';
	readonly exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;

	constructor(
		readonly id: string,
		readonly namespace: string,
		args: readonly string[],
	) {
		this.child = spawn(
			'ip',
			['netns', 'exec', namespace, 'timeout', '--kill-after=2', String(MAX_LIFETIME_S), process.execPath, CLI_PATH, '--headless', '--id', id, ...args],
			{stdio: ['ignore', 'pipe', 'pipe']},
		);
		createInterface({input: this.child.stdout!}).on('line', (text) => {
			try {
				this.lines.push({...JSON.parse(text), receivedAtMs: performance.now()});
			} catch {
				this.lines.push({type: 'event', kind: 'unparsable', text, receivedAtMs: performance.now()});
			}
		});
		// Ignored by the assertions (a non-loopback bind may warn there), kept for failure messages.
		this.child.stderr!.on('data', (chunk: Buffer) => {
			this.stderr = (this.stderr + chunk.toString()).slice(-4000);
		});
		this.exited = new Promise((resolve) => {
			this.child.on('exit', (code, signal) => {
				resolve({code, signal});
			});
		});
	}

	get running(): boolean {
		return this.child.exitCode === null && this.child.signalCode === null;
	}

	get snapshots(): Line[] {
		return this.lines.filter((line) => line.type === 'snapshot');
	}

	get events(): Line[] {
		return this.lines.filter((line) => line.type === 'event');
	}

	lastSnapshot(): Line | undefined {
		for (let index = this.lines.length - 1; index >= 0; index--) {
			if (this.lines[index]!.type === 'snapshot') {
				return this.lines[index];
			}
		}

		return undefined;
	}

	/** Stop with SIGTERM (timeout passes it on to the node); SIGKILL after a grace period. */
	async stop(): Promise<void> {
		if (this.running) {
			this.child.kill('SIGTERM');
			const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
			await this.exited;
			clearTimeout(timer);
		}
	}
}

/**
Poll until `condition` holds, every `intervalMs`; resolve with the time it first held, or throw
with `describe()` after `timeoutMs`.
*/
export async function waitUntil(condition: () => boolean, timeoutMs: number, describe: () => string, intervalMs = 50): Promise<number> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		if (condition()) {
			return performance.now();
		}

		if (performance.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
		}

		await new Promise((resolve) => {
			setTimeout(resolve, intervalMs);
		});
	}
}
