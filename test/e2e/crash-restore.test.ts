/**
The terminal is given back after a crash: the alternate screen left, the cursor shown, raw mode off
(the tty's settings as they were before the UI started), and the demo peers stopped.

Two crashes: an uncaught error thrown from a timer (the test-only `CHORUS_TEST_CRASH=uncaught` of
run/tui.tsx), which the UI's own handler catches; and SIGSEGV (`kill -SEGV`), where no JavaScript
runs and the terminal guard (run/terminal-guard.ts) restores the terminal.

tmux plays the terminal, running a plain `sh -c` (an interactive bash would restore the tty itself
after a job killed by a signal, hiding what the UI left); `stty -a` runs right before and right
after the UI in the same script, a second later: the guard acts when it sees the UI gone, at the
same moment as the shell (whose output could otherwise land on the alternate screen just left).
*/

import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {freePort} from '../helpers/ports.js';
import {CLI_PATH, isRunning} from '../helpers/term.js';
import {until} from '../helpers/until.js';
import {childrenOf, TmuxShell} from '../helpers/tmux-shell.js';

const shells: TmuxShell[] = [];
const directories: string[] = [];
const strays: number[] = [];

afterEach(() => {
	for (const shell of shells.splice(0)) {
		shell.kill();
	}

	for (const pid of strays.splice(0)) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {
			// Gone, as it should be.
		}
	}

	for (const directory of directories.splice(0)) {
		rmSync(directory, {recursive: true, force: true});
	}
});

function commandName(pid: number): string {
	try {
		return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
	} catch {
		return '';
	}
}

/** The line settings that raw mode turns off, from `stty -a` output. */
function lineSettings(sttyOutput: string): Record<string, boolean> {
	const has = (flag: string) => new RegExp(String.raw`(^|\s)${flag}(\s|$)`).test(sttyOutput);
	return {icanon: has('icanon'), echo: has('echo'), isig: has('isig'), icrnl: has('icrnl'), opost: has('opost')};
}

/** Start the UI in a fresh terminal with `stty -a` saved before and after it; resolves once it runs. */
async function startUi(env: string): Promise<{shell: TmuxShell; directory: string; node: number; peers: number[]}> {
	const directory = mkdtempSync(path.join(tmpdir(), 'chorus-crash-'));
	directories.push(directory);
	const port = await freePort();
	const shell = new TmuxShell({
		script: `cd ${directory}; stty -a > before.txt; ${env} ${process.execPath} ${CLI_PATH} --bind ${port} --demo 2 --id crash-node; code=$?; sleep 1; echo "exit=$code"; stty -a > after.txt; sleep 600`,
	});
	shells.push(shell);
	let node = 0;
	// The script's first child is `stty -a`, for a moment: the UI is the child that is not stty.
	await until('the UI process', () => {
		node = childrenOf(shell.shellPid).find((pid) => commandName(pid) !== 'stty') ?? 0;
		return node !== 0;
	}, 10_000);
	let peers: number[] = [];
	// Polled often: the injected crash comes 2 s after the demo peers are up.
	await until('two demo peer processes', () => {
		peers = childrenOf(node);
		return peers.length === 2;
	}, 30_000, 20);
	strays.push(node, ...peers);
	return {shell, directory, node, peers};
}

/** What the UI left: the pane's modes and the tty's settings after it, compared with before it. */
async function expectRestored(shell: TmuxShell, directory: string, peers: number[]): Promise<void> {
	await until('after.txt', () => {
		try {
			return readFileSync(path.join(directory, 'after.txt'), 'utf8').includes('icanon');
		} catch {
			return false;
		}
	}, 10_000);
	expect(shell.modes()).toEqual({alternateScreen: false, cursorShown: true});
	const before = lineSettings(readFileSync(path.join(directory, 'before.txt'), 'utf8'));
	expect(before).toMatchObject({icanon: true, echo: true, isig: true});
	expect(lineSettings(readFileSync(path.join(directory, 'after.txt'), 'utf8'))).toEqual(before);
	await until('the demo peers stopped', () => peers.every((peer) => !isRunning(peer)), 10_000);
}

describe('the terminal is restored after a crash', () => {
	it('an uncaught error: one line saying so, exit code 1, terminal and demo peers cleaned up', async () => {
		const {shell, directory, peers} = await startUi('CHORUS_TEST_CRASH=uncaught');
		const code = await shell.exitCode(30_000);
		expect(code).toBe(1);
		// One line on the screen the shell gets back (wrapped at 80 columns).
		expect(shell.screen().replaceAll('\n', '')).toMatch(/chorus-tui: the terminal UI failed: CHORUS_TEST_CRASH: an uncaught error/);
		await expectRestored(shell, directory, peers);
	}, 90_000);

	it('SIGSEGV: the terminal guard restores the terminal, and the demo peers die with the UI', async () => {
		const {shell, directory, node, peers} = await startUi('');
		await shell.waitFor('two demo peers alive', (screen) => (screen.match(/● alive/g) ?? []).length >= 2, 40_000);
		// The control: the UI holds the terminal in raw mode on the alternate screen.
		expect(shell.modes().alternateScreen).toBe(true);
		expect(shell.ttySettings()).toEqual({canonical: false, echo: false, signals: false});
		process.kill(node, 'SIGSEGV');
		// 139 = 128 + SIGSEGV: it died of the signal, no JavaScript handler ran.
		expect(await shell.exitCode(15_000)).toBe(139);
		await expectRestored(shell, directory, peers);
	}, 90_000);
});
