/**
Ctrl-C and Ctrl-Z typed in a real terminal (an interactive bash in tmux, with job control) reach the
node and only the node: its demo peers run in a session of their own (swarm/demo-peer.ts), so the
terminal's signals never reach them, and the node stops them itself.

What each key does, pinned down here:
- terminal UI: raw mode (Ink) turns the line discipline's signals off, so Ctrl-C and Ctrl-Z arrive
  as keys. Ctrl-C quits like `q` (demo peers stopped, terminal restored, exit 0); Ctrl-Z is not
  bound, so nothing is suspended: the UI keeps drawing and the mesh keeps running.
- headless: the terminal sends SIGTSTP and SIGINT to the foreground job. Ctrl-Z stops the node (the
  shell reports it stopped) while its demo peers run on; `fg` resumes it; Ctrl-C stops it cleanly,
  demo peers included, exit 0.
*/

import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {freePort} from '../helpers/ports.js';
import {isRunning, sleep} from '../helpers/term.js';
import {until} from '../helpers/until.js';
import {childrenOf, processInfo, TmuxShell} from '../helpers/tmux-shell.js';

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

/** The node the shell started (its one child), and the node's demo peers (its children). */
async function processesOf(shell: TmuxShell, demoPeers: number): Promise<{node: number; peers: number[]}> {
	let node = 0;
	await until('the node process', () => {
		node = childrenOf(shell.shellPid)[0] ?? 0;
		return node !== 0;
	}, 10_000);
	let peers: number[] = [];
	await until(`${demoPeers} demo peer processes`, () => {
		peers = childrenOf(node);
		return peers.length === demoPeers;
	}, 20_000);
	strays.push(node, ...peers);
	return {node, peers};
}

/** The node is the terminal's foreground job; its demo peers are in another session and group. */
function expectOnlyNodeInForeground(shell: TmuxShell, node: number, peers: number[]): void {
	const foreground = shell.foregroundGroup();
	expect(processInfo(node).pgrp).toBe(foreground);
	for (const peer of peers) {
		const info = processInfo(peer);
		expect(info.pgrp).not.toBe(foreground);
		expect(info.session).not.toBe(processInfo(node).session);
	}
}

describe('Ctrl-C and Ctrl-Z in the terminal reach only the node', () => {
	it('terminal UI: Ctrl-Z suspends nothing; Ctrl-C quits, stops the demo peers and restores the terminal', async () => {
		const shell = new TmuxShell();
		shells.push(shell);
		await shell.waitFor('the prompt', (screen) => screen.includes('$'), 10_000);
		shell.runChorus(['--bind', String(await freePort()), '--demo', '2', '--id', 'signals-ui']);
		await shell.waitFor('two demo peers alive', (screen) => (screen.match(/● alive/g) ?? []).length >= 2, 40_000);
		const {node, peers} = await processesOf(shell, 2);
		expectOnlyNodeInForeground(shell, node, peers);
		// Raw mode: the terminal sends no signals; the keys are the UI's to read.
		expect(shell.ttySettings()).toEqual({canonical: false, echo: false, signals: false});

		shell.key('C-z');
		await sleep(1500);
		expect(processInfo(node).state).not.toBe('T');
		for (const peer of peers) {
			expect(processInfo(peer).state).not.toBe('T');
		}

		// Still drawing and still a live mesh: the screen changes (ages, Lamport), the peers stay alive.
		const first = shell.screen();
		await shell.waitFor('the screen to move on', (screen) => screen !== first, 5000);
		expect((shell.screen().match(/● alive/g) ?? []).length).toBeGreaterThanOrEqual(2);
		expect(shell.screen()).not.toMatch(/Stopped/);
		expect(shell.modes().alternateScreen).toBe(true);

		shell.key('C-c');
		expect(await shell.exitCode(15_000)).toBe(0);
		await until('the demo peers stopped', () => peers.every((peer) => !isRunning(peer)), 10_000);
		expect(isRunning(node)).toBe(false);
		// The tty's settings are bash's again at its prompt (readline sets its own): see crash-restore.test.ts.
		expect(shell.modes()).toEqual({alternateScreen: false, cursorShown: true});
	}, 90_000);

	it('headless: Ctrl-Z stops the node alone, fg resumes it, Ctrl-C stops it and its demo peers cleanly', async () => {
		const directory = mkdtempSync(path.join(tmpdir(), 'chorus-signals-'));
		directories.push(directory);
		const output = path.join(directory, 'out.ndjson');
		const shell = new TmuxShell();
		shells.push(shell);
		await shell.waitFor('the prompt', (screen) => screen.includes('$'), 10_000);
		shell.runChorus(['--headless', '--bind', String(await freePort()), '--demo', '2', '--report-ms', '300', '>', output]);
		const lines = () => {
			try {
				return readFileSync(output, 'utf8').split('\n').filter((line) => line.startsWith('{'));
			} catch {
				return [];
			}
		};

		const aliveDemoPeers = () => {
			const last = lines().findLast((line) => line.startsWith('{"type":"snapshot"'));
			return last === undefined ? 0 : (JSON.parse(last) as {peers: Array<{state: string}>}).peers.filter((peer) => peer.state === 'alive').length;
		};

		await until('two demo peers alive in the NDJSON', () => aliveDemoPeers() >= 2, 40_000);
		const {node, peers} = await processesOf(shell, 2);
		expectOnlyNodeInForeground(shell, node, peers);

		shell.key('C-z');
		// bash runs the rest of the line once the job stops: 148 = 128 + SIGTSTP.
		expect(await shell.exitCode(10_000)).toBe(148);
		expect(processInfo(node).state).toBe('T');
		await sleep(1000);
		for (const peer of peers) {
			expect(processInfo(peer).state).not.toBe('T');
		}

		expect(processInfo(node).state).toBe('T');
		const whileStopped = lines().length;
		shell.run('clear; fg; echo "fgexit=$?"');
		await until('the node writes again after fg', () => lines().length > whileStopped + 2, 10_000);
		expect(processInfo(node).state).not.toBe('T');
		expect(aliveDemoPeers()).toBeGreaterThanOrEqual(2);

		shell.key('C-c');
		const screen = await shell.waitFor('fgexit printed', (text) => /fgexit=\d+/.test(text), 15_000);
		expect(/fgexit=(\d+)/.exec(screen)![1]).toBe('0');
		await until('the demo peers stopped', () => peers.every((peer) => !isRunning(peer)), 10_000);
		expect(lines().at(-1)).toMatch(/"kind":"node-stopped"/);
	}, 90_000);
});
