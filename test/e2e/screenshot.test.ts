/**
The `S` key in a real terminal (tmux): the built chorus-tui writes the screen as an SVG and as text
into --screenshot-dir, says where in the footer, and the text is what tmux's capture-pane shows at
that moment. The display is frozen first (space), so that "that moment" is one screen: the ages
tick 4 times a second otherwise.
*/

import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, test} from 'vitest';
import {freePort} from '../helpers/ports.js';
import {sleep} from '../helpers/term.js';
import {TmuxShell} from '../helpers/tmux-shell.js';

/** Lines as capture-pane prints them, trailing blanks trimmed, trailing empty lines dropped. */
function normalize(text: string): string[] {
	const lines = text.split('\n').map((line) => line.trimEnd());
	while (lines.length > 0 && lines.at(-1) === '') {
		lines.pop();
	}

	return lines;
}

describe('S in a real terminal (tmux)', () => {
	const shell = new TmuxShell({columns: 80, rows: 24});
	const directory = mkdtempSync(path.join(tmpdir(), 'chorus-shots-'));

	afterAll(() => {
		shell.kill();
		rmSync(directory, {recursive: true, force: true});
	});

	test('writes an SVG and a text file that matches capture-pane, and shows the path', async () => {
		shell.runChorus(['--demo', '2', '--bind', String(await freePort()), '--screenshot-dir', directory]);
		await shell.waitFor('two alive demo peers', (screen) => (screen.match(/● alive/g) ?? []).length >= 2, 30_000);
		// Freeze the display: the screen stays as it is until S.
		shell.key('Space');
		await shell.waitFor('FROZEN', (screen) => screen.includes('FROZEN'), 5000);
		await sleep(600);
		const before = shell.screen();
		shell.key('S');
		const after = await shell.waitFor('the path in the footer', (screen) => /screenshot \S+\.svg \(\+ \.txt\)/.test(screen), 5000);
		const shown = /screenshot (\S+\.svg)/.exec(after)![1]!;
		const files = readdirSync(directory).sort();
		expect(files).toHaveLength(2);
		const svg = files.find((file) => file.endsWith('.svg'))!;
		const text = files.find((file) => file.endsWith('.txt'))!;
		expect(path.basename(shown)).toBe(svg);
		expect(text.replace(/\.txt$/, '')).toBe(svg.replace(/\.svg$/, ''));

		expect(normalize(readFileSync(path.join(directory, text), 'utf8'))).toEqual(normalize(before));
		// The screen did not change under the freeze but for the footer's status line.
		expect(normalize(after).slice(0, 20)).toEqual(normalize(before).slice(0, 20));

		const picture = readFileSync(path.join(directory, svg), 'utf8');
		expect(picture).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
		// The same text, in the picture, with the UI's colours (the title bar is cyan).
		expect(picture).toContain('demo-1');
		expect(picture).toContain('FROZEN');
		expect(picture).toMatch(/fill="#94e2d5"/);
		shell.key('q');
		expect(await shell.exitCode(15_000)).toBe(0);
	}, 90_000);
});
