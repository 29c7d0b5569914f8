/**
A real terminal for end-to-end tests: the built CLI runs in a pseudo-terminal (node-pty) and its
output is interpreted by a headless xterm, so a test reads the screen an operator would see — after
cursor moves, erases, the alternate screen and resizes — not the raw byte stream.
*/

import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import pty from '@lydell/node-pty';
import xterm from '@xterm/headless';

export const CLI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli.js');

/** Keys by name, as a terminal sends them. */
export const KEYS = {
	up: '\u001B[A',
	down: '\u001B[B',
	enter: '\r',
	escape: '\u001B',
	ctrlC: '\u0003',
	space: ' ',
} as const;

const BEGIN_SYNCHRONIZED = '\u001B[?2026h';
const END_SYNCHRONIZED = '\u001B[?2026l';

export type TermOptions = {
	/** The binary to run; the built CLI of this checkout by default. */
	cliPath?: string;
	columns?: number;
	rows?: number;
	env?: NodeJS.ProcessEnv;
};

export type Exit = {exitCode: number; signal?: number};

/** Environment variables that make Ink believe it runs in CI, where it draws only the last frame. */
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION', 'GITHUB_ACTIONS', 'BUILD_NUMBER', 'RUN_ID'];

export class Term {
	readonly #pty: pty.IPty;
	readonly #xterm: InstanceType<typeof xterm.Terminal>;
	readonly exited: Promise<Exit>;
	/** Everything the program wrote, raw. */
	output = '';
	#exit: Exit | undefined;
	#pendingWrites = 0;

	constructor(args: readonly string[], options: TermOptions = {}) {
		const columns = options.columns ?? 80;
		const rows = options.rows ?? 24;
		const env: NodeJS.ProcessEnv = {...process.env, TERM: 'xterm-256color', ...options.env};
		// vitest sets NODE_ENV=test, which would load React's development build: not what users run.
		if (!(options.env && 'NODE_ENV' in options.env)) {
			delete env['NODE_ENV'];
		}

		for (const name of CI_VARIABLES) {
			if (!(options.env && name in options.env)) {
				Reflect.deleteProperty(env, name);
			}
		}

		this.#xterm = new xterm.Terminal({cols: columns, rows, allowProposedApi: true, scrollback: 0});
		this.#pty = pty.spawn(process.execPath, [options.cliPath ?? CLI_PATH, ...args], {
			name: 'xterm-256color',
			cols: columns,
			rows,
			cwd: process.cwd(),
			env,
		});
		this.#pty.onData((data) => {
			this.output += data;
			this.#pendingWrites++;
			this.#xterm.write(data, () => {
				this.#pendingWrites--;
			});
		});
		this.exited = new Promise((resolve) => {
			this.#pty.onExit((exit) => {
				this.#exit = exit;
				resolve(exit);
			});
		});
	}

	get pid(): number {
		return this.#pty.pid;
	}

	get exit(): Exit | undefined {
		return this.#exit;
	}

	/** The headless terminal itself, for reading cell styles (the media script renders them). */
	get terminal(): InstanceType<typeof xterm.Terminal> {
		return this.#xterm;
	}

	get size(): {columns: number; rows: number} {
		return {columns: this.#xterm.cols, rows: this.#xterm.rows};
	}

	/** The screen's lines, trailing blanks trimmed. */
	lines(): string[] {
		const buffer = this.#xterm.buffer.active;
		const lines: string[] = [];
		for (let row = 0; row < this.#xterm.rows; row++) {
			lines.push(buffer.getLine(buffer.viewportY + row)?.translateToString(true) ?? '');
		}

		return lines;
	}

	/** The screen as text, one line per row. */
	screen(): string {
		return this.lines().join('\n');
	}

	/** The line that contains `text`, or undefined. */
	lineWith(text: string | RegExp): string | undefined {
		return this.lines().find((line) => (typeof text === 'string' ? line.includes(text) : text.test(line)));
	}

	write(keys: string): void {
		this.#pty.write(keys);
	}

	resize(columns: number, rows: number): void {
		this.#xterm.resize(columns, rows);
		if (!this.#exit) {
			this.#pty.resize(columns, rows);
		}
	}

	/** Wait until the screen satisfies `predicate`; on timeout, fail with the screen as it was. */
	async waitFor(predicate: (screen: string) => boolean, timeoutMs: number, what = 'the screen'): Promise<string> {
		const deadline = performance.now() + timeoutMs;
		for (;;) {
			await this.settled();
			const screen = this.screen();
			if (predicate(screen)) {
				return screen;
			}

			if (this.#exit) {
				throw new Error(`the program exited (${JSON.stringify(this.#exit)}) while waiting for ${what}; screen:\n${screen}`);
			}

			if (performance.now() > deadline) {
				throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${screen}`);
			}

			await sleep(50);
		}
	}

	async waitForText(text: string | RegExp, timeoutMs: number): Promise<string> {
		return this.waitFor((screen) => (typeof text === 'string' ? screen.includes(text) : text.test(screen)), timeoutMs, String(text));
	}

	/**
	Resolve once xterm has parsed everything received so far and the program is not halfway
	through a frame: Ink wraps each frame in synchronized-output marks (DEC mode 2026), and a frame
	can arrive in several reads.
	*/
	async settled(): Promise<void> {
		const deadline = performance.now() + 1000;
		while (this.#pendingWrites > 0 || (this.#insideFrame() && performance.now() < deadline)) {
			await sleep(5);
		}
	}

	#insideFrame(): boolean {
		return this.output.lastIndexOf(BEGIN_SYNCHRONIZED) > this.output.lastIndexOf(END_SYNCHRONIZED);
	}

	/** Kill the program if it still runs (SIGTERM, then SIGKILL) and wait for it. */
	async stop(): Promise<Exit> {
		if (!this.#exit) {
			try {
				this.#pty.kill('SIGTERM');
			} catch {
				// Gone already.
			}

			const timer = setTimeout(() => {
				try {
					this.#pty.kill('SIGKILL');
				} catch {
					// Gone already.
				}
			}, 5000);
			await this.exited;
			clearTimeout(timer);
		}

		this.#xterm.dispose();
		return this.#exit!;
	}
}

export async function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => {
		setTimeout(resolve, ms);
	});
}

/** Every live descendant of a process (from /proc), with its command line; zombies excluded. */
export function descendants(rootPid: number): Array<{pid: number; command: string}> {
	const children = new Map<number, number[]>();
	const commands = new Map<number, string>();
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) {
			continue;
		}

		try {
			const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
			// The command name is in parentheses and may hold spaces: fields start after the last ')'.
			const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
			if (state === 'Z') {
				continue;
			}

			const pid = Number(entry);
			children.set(Number(ppid), [...(children.get(Number(ppid)) ?? []), pid]);
			commands.set(pid, readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim());
		} catch {
			// The process ended while we looked.
		}
	}

	const found: Array<{pid: number; command: string}> = [];
	const queue = [...(children.get(rootPid) ?? [])];
	while (queue.length > 0) {
		const pid = queue.shift()!;
		found.push({pid, command: commands.get(pid) ?? ''});
		queue.push(...(children.get(pid) ?? []));
	}

	return found;
}

/** Whether a process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
	} catch {
		return false;
	}
}

