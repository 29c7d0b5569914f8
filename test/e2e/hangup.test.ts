/**
An SSH session that drops takes the terminal with it: the TUI must notice (SIGHUP, then writes that
fail with EIO), stop its demo peers and exit, instead of living on as an orphan rendering into the
void. tmux plays the terminal here, and `kill-server` is the hang-up.
*/

import {execFileSync} from 'node:child_process';
import {afterEach, describe, expect, it} from 'vitest';
import {freePort} from '../helpers/ports.js';
import {CLI_PATH, descendants, isRunning} from '../helpers/term.js';
import {until} from '../helpers/until.js';

const socket = `chorus-hangup-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], {encoding: 'utf8'});

afterEach(() => {
	try {
		tmux('kill-server');
	} catch {
		// Already gone: that is the point of the test.
	}
});

describe('hang-up', () => {
	it('the terminal going away stops the TUI and its demo peers', async () => {
		const port = await freePort();
		// Without the CI variables: under CI=true Ink draws only the last frame, at exit.
		const ciVariables = ['CI', 'CONTINUOUS_INTEGRATION', 'GITHUB_ACTIONS', 'BUILD_NUMBER', 'RUN_ID'].map((name) => `-u ${name}`).join(' ');
		tmux('new-session', '-d', '-x', '80', '-y', '24', `exec env ${ciVariables} ${process.execPath} ${CLI_PATH} --bind ${port} --demo 2`);
		const pid = Number(tmux('list-panes', '-F', '#{pane_pid}').trim());
		await until('two alive demo peers on screen', () => (tmux('capture-pane', '-p').match(/alive/g) ?? []).length >= 2, 30_000);
		const children = descendants(pid).map((child) => child.pid);
		expect(children.length).toBeGreaterThanOrEqual(2);

		tmux('kill-server');
		await until('the TUI exited', () => !isRunning(pid), 10_000);
		await until('its demo peers exited', () => children.every((child) => !isRunning(child)), 10_000);
	}, 60_000);
});
