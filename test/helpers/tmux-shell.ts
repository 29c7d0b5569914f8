/**
An interactive bash in a tmux pane of its own server: a terminal with job control, as an operator
has, for tests of what the terminal does to a process (Ctrl-C, Ctrl-Z, hang-ups, crashes). Keys are
typed with send-keys; the screen, the pane's modes (alternate screen, cursor) and the tty's
settings (stty) are read back from outside.
*/

import {execFileSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {CLI_PATH, sleep} from './term.js';

let servers = 0;

/** Variables that make Ink draw only the last frame (CI): unset for the pane. */
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION', 'GITHUB_ACTIONS', 'BUILD_NUMBER', 'RUN_ID'];

export class TmuxShell {
	readonly socket = `chorus-shell-${process.pid}-${servers++}`;

	/**
	`script`: a non-interactive `sh -c` script to run instead of the interactive bash; nothing then
	touches the tty after a command ends (an interactive bash restores the tty's settings after a
	job that a signal killed, which would hide what the job left).
	*/
	constructor(options: {columns?: number; rows?: number; script?: string} = {}) {
		const unset = CI_VARIABLES.map((name) => `-u ${name}`).join(' ');
		const shell = options.script === undefined ? `PS1='$ ' bash --norc --noprofile -i` : `sh -c '${options.script.replaceAll('\'', String.raw`'\''`)}'`;
		this.tmux('new-session', '-d', '-x', String(options.columns ?? 80), '-y', String(options.rows ?? 24), `exec env ${unset} ${shell}`);
	}

	tmux(...args: string[]): string {
		return execFileSync('tmux', ['-L', this.socket, ...args], {encoding: 'utf8'});
	}

	/** Type a command line and Enter. */
	run(line: string): void {
		this.tmux('send-keys', '-l', line);
		this.tmux('send-keys', 'Enter');
	}

	/** Type the command line that starts chorus-tui with these arguments (and variables). */
	runChorus(args: string[], env: Record<string, string> = {}): void {
		const variables = Object.entries(env).map(([name, value]) => `${name}=${value} `).join('');
		this.run(`${variables}${process.execPath} ${CLI_PATH} ${args.join(' ')}; echo "exit=$?"`);
	}

	/** A key as tmux names it: C-c, C-z, q. */
	key(name: string): void {
		this.tmux('send-keys', name);
	}

	screen(): string {
		return this.tmux('capture-pane', '-p');
	}

	/** The pane's terminal modes as tmux tracks them. */
	modes(): {alternateScreen: boolean; cursorShown: boolean} {
		const [alternate, cursor] = this.tmux('display-message', '-p', '#{alternate_on} #{cursor_flag}').trim().split(' ');
		return {alternateScreen: alternate === '1', cursorShown: cursor === '1'};
	}

	/** The tty's line settings: raw mode means no icanon, no echo, no isig. */
	ttySettings(): {canonical: boolean; echo: boolean; signals: boolean} {
		const tty = this.tmux('display-message', '-p', '#{pane_tty}').trim();
		const settings = execFileSync('stty', ['-a', '-F', tty], {encoding: 'utf8'});
		const has = (flag: string) => new RegExp(String.raw`(^|\s)${flag}(\s|$)`).test(settings);
		return {canonical: has('icanon'), echo: has('echo'), signals: has('isig')};
	}

	/** The pid of the shell in the pane. */
	get shellPid(): number {
		return Number(this.tmux('display-message', '-p', '#{pane_pid}').trim());
	}

	/** The terminal's foreground process group (what Ctrl-C and Ctrl-Z are sent to). */
	foregroundGroup(): number {
		return Number(statFields(this.shellPid)[5]);
	}

	async waitFor(what: string, condition: (screen: string) => boolean, timeoutMs: number): Promise<string> {
		const deadline = performance.now() + timeoutMs;
		for (;;) {
			const screen = this.screen();
			if (condition(screen)) {
				return screen;
			}

			if (performance.now() > deadline) {
				throw new Error(`timed out after ${timeoutMs} ms: ${what}; screen:\n${screen}`);
			}

			await sleep(150);
		}
	}

	/** The exit code that the command line's `echo "exit=$?"` printed, once it has. */
	async exitCode(timeoutMs: number): Promise<number> {
		const printed = /(?<![a-z])exit=(\d+)/;
		const screen = await this.waitFor('exit=N printed', (text) => printed.test(text), timeoutMs);
		return Number(printed.exec(screen)![1]);
	}

	kill(): void {
		try {
			this.tmux('kill-server');
		} catch {
			// Gone already.
		}
	}
}

/** The fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, tty_nr, tpgid… */
export function statFields(pid: number): string[] {
	const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
	return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's state letter (R, S, T stopped, Z), group and session. */
export function processInfo(pid: number): {state: string; pgrp: number; session: number} {
	const fields = statFields(pid);
	return {state: fields[0]!, pgrp: Number(fields[2]), session: Number(fields[3])};
}

/** The direct children of a process. */
export function childrenOf(pid: number): number[] {
	const found: number[] = [];
	for (const entry of readdirSync('/proc')) {
		if (!/^\d+$/.test(entry)) {
			continue;
		}

		try {
			const fields = statFields(Number(entry));
			if (Number(fields[1]) === pid && fields[0] !== 'Z') {
				found.push(Number(entry));
			}
		} catch {
			// Ended while we looked.
		}
	}

	return found;
}
