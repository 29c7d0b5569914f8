/**
Render what a terminal shows (an @xterm/headless buffer) as SVG: a still of one screen, or an
animation of several. The screens come from the real binary running in a pty, so the pictures in the
README are what an operator sees, not drawings.
*/

import type {Terminal} from '@xterm/headless';

/** One screen: rows of styled runs. */
export type Screen = {cols: number; rows: number; lines: Run[][]};

type Run = {text: string; x: number; fg: string; bg: string | undefined; bold: boolean; dim: boolean; underline: boolean};

const THEME = {
	background: '#1e1e2e',
	foreground: '#cdd6f4',
	// The 16 ANSI colours, a calm palette that stays readable on a dark background.
	ansi: [
		'#45475a', '#f38ba8', '#a6e3a1', '#f9e2af', '#89b4fa', '#f5c2e7', '#94e2d5', '#bac2de',
		'#585b70', '#f38ba8', '#a6e3a1', '#f9e2af', '#89b4fa', '#f5c2e7', '#94e2d5', '#a6adc8',
	],
};

const CELL_WIDTH = 8.4;
const LINE_HEIGHT = 17;
const FONT_SIZE = 14;
const PADDING = 12;

function paletteColor(index: number): string {
	if (index < 16) {
		return THEME.ansi[index]!;
	}

	if (index < 232) {
		const cube = index - 16;
		const level = (value: number) => (value === 0 ? 0 : 55 + value * 40);
		return rgb(level(Math.floor(cube / 36)), level(Math.floor(cube / 6) % 6), level(cube % 6));
	}

	const gray = 8 + (index - 232) * 10;
	return rgb(gray, gray, gray);
}

function rgb(red: number, green: number, blue: number): string {
	return `#${[red, green, blue].map((value) => value.toString(16).padStart(2, '0')).join('')}`;
}

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

function escapeXml(text: string): string {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function screenBody(screen: Screen): string {
	const parts: string[] = [];
	for (const [y, runs] of screen.lines.entries()) {
		const top = PADDING + y * LINE_HEIGHT;
		for (const run of runs) {
			const width = [...run.text].length * CELL_WIDTH;
			if (run.bg) {
				parts.push(`<rect x="${(PADDING + run.x * CELL_WIDTH).toFixed(1)}" y="${top}" width="${width.toFixed(1)}" height="${LINE_HEIGHT}" fill="${run.bg}"/>`);
			}

			if (run.text.trim() === '') {
				continue;
			}

			const attributes = [
				`x="${(PADDING + run.x * CELL_WIDTH).toFixed(1)}"`,
				`y="${top + LINE_HEIGHT - 4}"`,
				`fill="${run.fg}"`,
				`textLength="${width.toFixed(1)}"`,
				run.bold ? 'font-weight="bold"' : '',
				run.dim ? 'opacity="0.6"' : '',
				run.underline ? 'text-decoration="underline"' : '',
			].filter(Boolean);
			parts.push(`<text ${attributes.join(' ')}>${escapeXml(run.text)}</text>`);
		}
	}

	return parts.join('');
}

function frame(screen: Screen, body: string, title: string): string {
	const width = Math.ceil(screen.cols * CELL_WIDTH + 2 * PADDING);
	const height = Math.ceil(screen.rows * LINE_HEIGHT + 2 * PADDING);
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
		`<title>${escapeXml(title)}</title>`,
		`<rect width="100%" height="100%" rx="6" fill="${THEME.background}"/>`,
		`<g font-family="'DejaVu Sans Mono','Menlo','Consolas',monospace" font-size="${FONT_SIZE}" xml:space="preserve">`,
		body,
		'</g></svg>',
		'',
	].join('\n');
}

/** A still picture of one screen. */
export function stillSvg(screen: Screen, title: string): string {
	return frame(screen, screenBody(screen), title);
}

export type TimedScreen = {screen: Screen; atMs: number};

/**
An animation that loops over the screens, each shown from its time until the next one's. Identical
consecutive screens are merged, so a quiet stretch costs nothing.
*/
export function animatedSvg(screens: readonly TimedScreen[], title: string, holdLastMs = 2000): string {
	const distinct: TimedScreen[] = [];
	let previousBody = '';
	for (const timed of screens) {
		const body = screenBody(timed.screen);
		if (body !== previousBody) {
			distinct.push(timed);
			previousBody = body;
		}
	}

	const start = distinct[0]?.atMs ?? 0;
	const totalMs = (distinct.at(-1)?.atMs ?? 0) - start + holdLastMs;
	const groups = distinct.map((timed, index) => {
		const from = (timed.atMs - start) / totalMs;
		const to = index + 1 < distinct.length ? (distinct[index + 1]!.atMs - start) / totalMs : 1;
		const keyTimes = from === 0 ? `0;${to.toFixed(5)};1` : `0;${from.toFixed(5)};${to.toFixed(5)};1`;
		const values = from === 0 ? 'inline;none;none' : 'none;inline;none;none';
		return `<g display="${from === 0 ? 'inline' : 'none'}"><animate attributeName="display" values="${values}" keyTimes="${keyTimes}" dur="${(totalMs / 1000).toFixed(2)}s" repeatCount="indefinite" calcMode="discrete"/>${screenBody(timed.screen)}</g>`;
	});
	return frame(distinct[0]?.screen ?? {cols: 80, rows: 24, lines: []}, groups.join('\n'), title);
}
