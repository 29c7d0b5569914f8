/**
The screen diff writes only changed cells; a terminal fed its output must show exactly what a
terminal fed Ink's full redraws shows, cell for cell, colours included. Both terminals are real
(headless xterm); the frames are Ink's own output format.
*/

import xterm from '@xterm/headless';
import {describe, expect, test} from 'vitest';
import {ScreenDiff} from '../../../source/ui/terminal/screen-diff.js';

const COLUMNS = 40;
const ROWS = 10;
// A pty turns "\n" into "\r\n" (ONLCR); so must the headless terminals.

/** What Ink writes for a frame: erase the previous frame's lines, then the frame and a newline. */
function inkFrame(lines: readonly string[], previousLineCount: number): string {
	let erase = '';
	for (let index = 0; index < previousLineCount; index++) {
		erase += '\u001B[2K' + (index < previousLineCount - 1 ? '\u001B[1A' : '');
	}

	if (previousLineCount > 0) {
		erase += '\u001B[G';
	}

	return `${erase}${lines.join('\n')}\n`;
}

async function write(terminal: InstanceType<typeof xterm.Terminal>, data: string): Promise<void> {
	await new Promise<void>((resolve) => {
		terminal.write(data, resolve);
	});
}

/** Every cell: its characters and its colours and attributes. */
function cells(terminal: InstanceType<typeof xterm.Terminal>): string[] {
	const buffer = terminal.buffer.active;
	const out: string[] = [];
	for (let row = 0; row < ROWS; row++) {
		const line = buffer.getLine(row)!;
		for (let column = 0; column < COLUMNS; column++) {
			const cell = line.getCell(column)!;
			out.push(
				`${row}:${column}:${cell.getChars() || ' '}:${cell.getFgColorMode()}/${cell.getFgColor()}:${cell.getBgColorMode()}/${cell.getBgColor()}:${cell.isBold()}${cell.isDim()}${cell.isInverse()}${cell.isUnderline()}`,
			);
		}
	}

	return out;
}

const red = (text: string) => `\u001B[31m${text}\u001B[39m`;
const onGray = (text: string) => `\u001B[100m${text}\u001B[49m`;
const bold = (text: string) => `\u001B[1m${text}\u001B[22m`;

const FRAMES: string[][] = [
	[bold(' chorus-tui  node a'), 'peers 2', `  demo-1   ${red('● alive')}   33ms ████░░`, `  demo-2   ● alive   12ms ██████`],
	[bold(' chorus-tui  node a'), 'peers 2', `  demo-1   ${red('● alive')}   45ms ███░░░`, onGray(`› demo-2   ● alive   81ms ██████`)],
	// A row gets shorter, a wide id shifts the columns after it, a line disappears.
	[bold(' chorus-tui  node a'), 'peers 3', `  ノード-1 ${red('◌ suspect')} 1.2s █░░░░░`, `  demo-2`],
	[bold(' chorus-tui  node a'), 'peers 3', `  demo-1   ● alive   45ms`, `  demo-2   ● alive   9ms ██████`, 'x'],
	[red(bold('whole line styled')), '', '', '', '', 'five'],
	// Rows past the last frame, as wide as the screen: their last cell must survive.
	['one'],
	['one', onGray(' '.repeat(COLUMNS)), `${'z'.repeat(COLUMNS - 1)}${red('!')}`],
];

describe('ScreenDiff', () => {
	test('a terminal fed the diff shows what one fed full redraws shows, frame after frame', async () => {
		const full = new xterm.Terminal({cols: COLUMNS, rows: ROWS, allowProposedApi: true, convertEol: true});
		const diffed = new xterm.Terminal({cols: COLUMNS, rows: ROWS, allowProposedApi: true, convertEol: true});
		const diff = new ScreenDiff();
		try {
			let previous = 0;
			for (const frame of FRAMES) {
				const data = inkFrame(frame, previous);
				previous = frame.length + 1;

				await write(full, data);

				await write(diffed, diff.translate(data));
				expect(cells(diffed)).toEqual(cells(full));
				expect(diffed.buffer.active.cursorY).toBe(full.buffer.active.cursorY);
				expect(diffed.buffer.active.cursorX).toBe(full.buffer.active.cursorX);
			}
		} finally {
			full.dispose();
			diffed.dispose();
		}
	});

	test('a frame that changes a few cells costs a few bytes, and an unchanged one nothing but a cursor move', () => {
		const diff = new ScreenDiff();
		const rows = Array.from({length: 30}, (_, index) => `  peer-${index}   ${red('● alive')}   33ms ██████████      1234  -0.12`);
		diff.translate(inkFrame(rows, 0));
		const next = rows.map((row) => row.replace('33ms', '41ms'));
		const changed = diff.translate(inkFrame(next, 31));
		expect(changed.length).toBeLessThan(30 * 20);
		expect(changed).toContain('41');
		expect(diff.translate(inkFrame(next, 31))).toBe('\u001B[31;1H');
	});

	test('writes that are not frames pass through and make the next frame a full repaint', () => {
		const diff = new ScreenDiff();
		diff.translate(inkFrame(['a', 'b'], 0));
		expect(diff.translate('\u001B[?25l')).toBe('\u001B[?25l');
		expect(diff.translate('\u001B[2K\u001B[1A\u001B[2K\u001B[G')).toBe('\u001B[2K\u001B[1A\u001B[2K\u001B[G');
		expect(diff.translate(inkFrame(['a', 'b'], 0))).toContain('\u001B[2J');
	});

	test('without colours it writes no styling escape at all (NO_COLOR)', () => {
		const diff = new ScreenDiff();
		const output = diff.translate(inkFrame(['plain', 'text'], 0)) + diff.translate(inkFrame(['plain', 'texts'], 3));
		expect(output).not.toMatch(/\u001B\[[\d;]*m/);
	});
});
