/**
Read what a terminal emulator (@xterm/headless) shows into the SVG renderer's screen
(source/ui/terminal/svg.ts), for `npm run media`, which runs the real binary in a pty.
*/

import {performance} from 'node:perf_hooks';
import type {Terminal} from '@xterm/headless';
import {paletteColor, THEME, type Run, type Screen, type TimedScreen} from '../../source/ui/terminal/svg.js';
import {sleep, type Term} from '../../test/helpers/term.js';

/** Read the visible screen of a terminal into styled runs. */
export function captureScreen(terminal: Terminal): Screen {
	const buffer = terminal.buffer.active;
	const lines: Run[][] = [];
	const cell = buffer.getNullCell();
	for (let y = 0; y < terminal.rows; y++) {
		const line = buffer.getLine(buffer.viewportY + y);
		const runs: Run[] = [];
		for (let x = 0; line && x < terminal.cols; x++) {
			line.getCell(x, cell);
			if (cell.getWidth() === 0) {
				continue;
			}

			let fg = cell.isFgDefault() ? THEME.foreground : cell.isFgRGB() ? `#${cell.getFgColor().toString(16).padStart(6, '0')}` : paletteColor(cell.getFgColor());
			let bg = cell.isBgDefault() ? undefined : cell.isBgRGB() ? `#${cell.getBgColor().toString(16).padStart(6, '0')}` : paletteColor(cell.getBgColor());
			if (cell.isInverse()) {
				[fg, bg] = [bg ?? THEME.background, fg];
			}

			const style = {fg, bg, bold: cell.isBold() !== 0, dim: cell.isDim() !== 0, underline: cell.isUnderline() !== 0};
			const text = cell.getChars() || ' ';
			const last = runs.at(-1);
			const sameStyle = last?.fg === style.fg && last.bg === style.bg && last.bold === style.bold && last.dim === style.dim && last.underline === style.underline;
			if (last && sameStyle && last.x + [...last.text].length === x) {
				last.text += text;
			} else {
				runs.push({text, x, ...style});
			}

			if (cell.getWidth() === 2) {
				x++;
			}
		}

		lines.push(runs);
	}

	return {cols: terminal.cols, rows: terminal.rows, lines};
}

/** Capture the screen every `everyMs` (once the terminal has settled) until `stop` resolves: the frames of an animated SVG. */
export function recordScreens(term: Term, everyMs: number): {frames: TimedScreen[]; stop: () => Promise<void>} {
	const frames: TimedScreen[] = [];
	let recording = true;
	const loop = (async () => {
		while (recording) {
			await term.settled();
			frames.push({screen: captureScreen(term.terminal), atMs: performance.now()});
			await sleep(everyMs);
		}
	})();
	return {
		frames,
		async stop() {
			recording = false;
			await loop;
		},
	};
}
