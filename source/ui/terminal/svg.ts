/**
Render a terminal screen as SVG: a still of one screen (the `S` key's screenshot), or an animation
of several (`npm run media`). The screens come from the painter's cells (screenFromCells) or from a
terminal emulator that ran the real binary, so the pictures are what an operator sees, not drawings.
*/

import type {Cell} from './cells.js';
import {DEFAULT_STYLE, SGR} from './sgr.js';

/** One screen: rows of styled runs. */
export type Screen = {cols: number; rows: number; lines: Run[][]};

/** Characters of one style, from column `x`; colours are CSS colours. */
export type Run = {text: string; x: number; fg: string; bg: string | undefined; bold: boolean; dim: boolean; underline: boolean; wide?: boolean};

/** The colours of the pictures: a calm dark palette that stays readable. */
export const THEME = {
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

/** A colour of the xterm 256-colour palette. */
export function paletteColor(index: number): string {
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

type RunStyle = Omit<Run, 'text' | 'x'>;

/** A colour from SGR parameters starting at `codes[index]` (30–37, 90–97, 38;5;n, 38;2;r;g;b and the 4x/10x backgrounds). */
function sgrColor(codes: readonly number[], index: number): {color: string; used: number} | undefined {
	const code = codes[index]!;
	const base = code >= 90 ? code - 90 + 8 : code >= 40 && code < 50 ? code - 40 : code >= 100 ? code - 100 + 8 : code - 30;
	if (code === 38 || code === 48) {
		if (codes[index + 1] === 5) {
			return {color: paletteColor(codes[index + 2] ?? 0), used: 3};
		}

		if (codes[index + 1] === 2) {
			return {color: rgb(codes[index + 2] ?? 0, codes[index + 3] ?? 0, codes[index + 4] ?? 0), used: 5};
		}

		return undefined;
	}

	return {color: paletteColor(base), used: 1};
}

const runStyles = new Map<string, RunStyle>();

/** The look of a painter's style key (an SGR sequence, see sgr.ts). */
function runStyle(key: string): RunStyle {
	let style = runStyles.get(key);
	if (style !== undefined) {
		return style;
	}

	let fg = THEME.foreground;
	let bg: string | undefined;
	let bold = false;
	let dim = false;
	let underline = false;
	let inverse = false;
	if (key !== DEFAULT_STYLE) {
		for (const match of key.matchAll(SGR)) {
			const codes = match[1]!.split(/[;:]/u).map(Number);
			for (let index = 0; index < codes.length; index++) {
				const code = codes[index]!;
				if ((code >= 30 && code <= 38) || (code >= 90 && code <= 97)) {
					const color = sgrColor(codes, index);
					fg = color?.color ?? fg;
					index += (color?.used ?? 1) - 1;
				} else if ((code >= 40 && code <= 48) || (code >= 100 && code <= 107)) {
					const color = sgrColor(codes, index);
					bg = color?.color ?? bg;
					index += (color?.used ?? 1) - 1;
				} else if (code === 1) {
					bold = true;
				} else if (code === 2) {
					dim = true;
				} else if (code === 4) {
					underline = true;
				} else if (code === 7) {
					inverse = true;
				}
			}
		}
	}

	if (inverse) {
		[fg, bg] = [bg ?? THEME.background, fg];
	}

	style = {fg, bg, bold, dim, underline};
	runStyles.set(key, style);
	return style;
}

/** A screen from the painter's cells (what the terminal UI painted), `columns` × `rows`. */
export function screenFromCells(cells: ReadonlyArray<readonly Cell[]>, columns: number, rows: number): Screen {
	const lines: Run[][] = [];
	for (let y = 0; y < rows; y++) {
		const runs: Run[] = [];
		let x = 0;
		for (const cell of cells[y] ?? []) {
			if (x >= columns) {
				break;
			}

			const style = runStyle(cell.style);
			const last = runs.at(-1);
			const sameStyle = last?.fg === style.fg && last.bg === style.bg && last.bold === style.bold && last.dim === style.dim && last.underline === style.underline;
			// A wide character takes two columns: it starts a run of its own, so that columns stay exact.
			if (last && sameStyle && cell.width === 1 && last.x + [...last.text].length === x && !last.wide) {
				last.text += cell.text;
			} else {
				runs.push({text: cell.text, x, ...style, ...(cell.width === 2 ? {wide: true} : {})});
			}

			x += Math.max(1, cell.width);
		}

		lines.push(runs);
	}

	return {cols: columns, rows, lines};
}

/** A screen from the painter's cells as plain text: one line a row, trailing blanks trimmed (as `tmux capture-pane` prints it). */
export function textFromCells(cells: ReadonlyArray<readonly Cell[]>, rows: number): string {
	const lines: string[] = [];
	for (let y = 0; y < rows; y++) {
		lines.push((cells[y] ?? []).map((cell) => cell.text).join('').trimEnd());
	}

	return lines.join('\n') + '\n';
}

function escapeXml(text: string): string {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function screenBody(screen: Screen): string {
	const parts: string[] = [];
	for (const [y, runs] of screen.lines.entries()) {
		const top = PADDING + y * LINE_HEIGHT;
		for (const run of runs) {
			const width = (run.wide ? 2 : [...run.text].length) * CELL_WIDTH;
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
