/**
Write only what changed on the screen. Ink 6 redraws its whole frame on every change (erase every
line, write every line), which at 10 frames a second is 50–100 KB/s over an SSH link when every
row's age ticks. This sits between Ink and the terminal: it keeps the screen as cells (character
and style), and turns each frame Ink writes into cursor moves and the changed cells alone.

It relies on how the TUI runs: on the alternate screen, the frame drawn from the top-left corner,
never as tall as the terminal (so Ink never scrolls nor clears the terminal). Anything Ink writes
that is not a frame (cursor visibility, synchronized-output marks, an erase on resize) passes
through untouched, and the next frame is painted in full.
*/

import stringWidth from 'string-width';

const ESC = '\u001B';
/** Ink's frame: `ansiEscapes.eraseLines(previous line count)`, then the frame text ending in a newline. */
const ERASE_PREFIX = /^(?:\u001B\[2K(?:\u001B\[1A)?)*(?:\u001B\[G)?/u;
/** Text with SGR styling and nothing else. */
const STYLED_TEXT = /^(?:[^\u001B]|\u001B\[[\d;:]*m)*$/u;
// eslint-disable-next-line no-control-regex
const SGR = /\u001B\[([\d;:]*)m/gu;
/** Changed cells closer than this are written as one run: a cursor move costs about as much. */
const MERGE_GAP = 6;

type Style = {
	fg: string;
	bg: string;
	/** Bold, dim, italic, underline, inverse, strikethrough, as SGR parameters. */
	flags: number;
};

const FLAG_CODES = [1, 2, 3, 4, 7, 9] as const;
const FLAG_OFF: Record<number, number[]> = {22: [1, 2], 23: [3], 24: [4], 27: [7], 29: [9]};

type Cell = {text: string; style: string; width: number};

const DEFAULT_STYLE = '';
const widthCache = new Map<string, number>();

function charWidth(character: string): number {
	const code = character.codePointAt(0)!;
	if (code >= 0x20 && code < 0x7F) {
		return 1;
	}

	let width = widthCache.get(character);
	if (width === undefined) {
		width = stringWidth(character);
		if (widthCache.size < 4096) {
			widthCache.set(character, width);
		}
	}

	return width;
}

function styleKey(style: Style): string {
	if (style.fg === '' && style.bg === '' && style.flags === 0) {
		return DEFAULT_STYLE;
	}

	const parts: string[] = ['0'];
	for (const [bit, code] of FLAG_CODES.entries()) {
		if (style.flags & (1 << bit)) {
			parts.push(String(code));
		}
	}

	if (style.fg !== '') {
		parts.push(style.fg);
	}

	if (style.bg !== '') {
		parts.push(style.bg);
	}

	// The key is the SGR sequence that sets this style from any other.
	return `${ESC}[${parts.join(';')}m`;
}

function applySgr(style: Style, parameters: string): void {
	const codes = parameters === '' ? [0] : parameters.split(/[;:]/u).map(Number);
	for (let index = 0; index < codes.length; index++) {
		const code = codes[index]!;
		if (code === 0) {
			style.fg = '';
			style.bg = '';
			style.flags = 0;
		} else if (code === 38 || code === 48) {
			// 38;5;n or 38;2;r;g;b
			const length = codes[index + 1] === 5 ? 2 : codes[index + 1] === 2 ? 4 : 0;
			const value = codes.slice(index, index + 1 + length).join(';');
			index += length;
			if (code === 38) {
				style.fg = value;
			} else {
				style.bg = value;
			}
		} else if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) {
			style.fg = String(code);
		} else if (code === 39) {
			style.fg = '';
		} else if ((code >= 40 && code <= 47) || (code >= 100 && code <= 107)) {
			style.bg = String(code);
		} else if (code === 49) {
			style.bg = '';
		} else if (FLAG_OFF[code]) {
			for (const off of FLAG_OFF[code]) {
				style.flags &= ~(1 << FLAG_CODES.indexOf(off as (typeof FLAG_CODES)[number]));
			}
		} else {
			const bit = FLAG_CODES.indexOf(code as (typeof FLAG_CODES)[number]);
			if (bit !== -1) {
				style.flags |= 1 << bit;
			}
		}
	}
}

/** One line of styled text as cells; a zero-width character joins the cell before it. */
export function parseLine(line: string): Cell[] {
	const cells: Cell[] = [];
	const style: Style = {fg: '', bg: '', flags: 0};
	let key = DEFAULT_STYLE;
	let last = 0;
	const addText = (text: string) => {
		for (const character of text) {
			const width = charWidth(character);
			if (width === 0 && cells.length > 0) {
				cells.at(-1)!.text += character;
			} else {
				cells.push({text: character, style: key, width});
			}
		}
	};

	for (const match of line.matchAll(SGR)) {
		addText(line.slice(last, match.index));
		applySgr(style, match[1]!);
		key = styleKey(style);
		last = match.index + match[0].length;
	}

	addText(line.slice(last));
	return cells;
}

function sameCell(a: Cell, b: Cell): boolean {
	return a.text === b.text && a.style === b.style && a.width === b.width;
}

export class ScreenDiff {
	/** The frame on screen, row by row; undefined when unknown (paint everything next time). */
	#screen: Cell[][] | undefined;

	/** Forget what is on screen: the next frame is painted in full. */
	invalidate(): void {
		this.#screen = undefined;
	}

	/**
	What to write for `data`, one write of Ink's: the changes alone for a frame, `data` itself for
	anything else.
	*/
	translate(data: string): string {
		const prefix = ERASE_PREFIX.exec(data)![0];
		const text = data.slice(prefix.length);
		if (!text.endsWith('\n') || !STYLED_TEXT.test(text)) {
			// Not a frame: an erase (on resize), a cursor or synchronization mark. The screen may change.
			if (data.includes(`${ESC}[2K`) || data.includes(`${ESC}[2J`)) {
				this.invalidate();
			}

			return data;
		}

		const lines = text.slice(0, -1).split('\n');
		return this.#frame(lines.map((line) => parseLine(line)));
	}

	#frame(next: Cell[][]): string {
		const previous = this.#screen;
		let out = '';
		let current = DEFAULT_STYLE;
		const setStyle = (style: string) => {
			if (style !== current) {
				out += style === DEFAULT_STYLE ? `${ESC}[0m` : style;
				current = style;
			}
		};

		const writeCells = (row: number, column: number, cells: Cell[], from: number, to: number) => {
			out += `${ESC}[${row + 1};${column + 1}H`;
			for (let index = from; index < to; index++) {
				const cell = cells[index]!;
				setStyle(cell.style);
				out += cell.text;
			}
		};

		const eraseRest = (row: number, column: number) => {
			setStyle(DEFAULT_STYLE);
			out += `${ESC}[${row + 1};${column + 1}H${ESC}[K`;
		};

		if (previous === undefined) {
			out += `${ESC}[H${ESC}[2J`;
		}

		for (let row = 0; row < next.length; row++) {
			const cells = next[row]!;
			const old = previous?.[row];
			if (old === undefined) {
				if (cells.length > 0) {
					writeCells(row, 0, cells, 0, cells.length);
				}

				if (previous !== undefined) {
					eraseRest(row, width(cells, cells.length));
				}

				continue;
			}

			diffLine(row, old, cells, writeCells, eraseRest);
		}

		// Rows the last frame had and this one has not.
		for (let row = next.length; row < (previous?.length ?? 0); row++) {
			if (previous![row]!.length > 0) {
				eraseRest(row, 0);
			}
		}

		setStyle(DEFAULT_STYLE);
		// Leave the cursor where Ink believes it is: under the frame, in the first column.
		out += `${ESC}[${next.length + 1};1H`;
		this.#screen = next;
		return out;
	}
}

function width(cells: readonly Cell[], count: number): number {
	let total = 0;
	for (let index = 0; index < count; index++) {
		total += cells[index]!.width;
	}

	return total;
}

/** Write the changed runs of one line through `writeCells` and `eraseRest`, which append to the output. */
function diffLine(
	row: number,
	old: Cell[],
	cells: Cell[],
	writeCells: (row: number, column: number, cells: Cell[], from: number, to: number) => void,
	eraseRest: (row: number, column: number) => void,
): void {
	const common = Math.min(old.length, cells.length);
	let start = 0;
	while (start < common && sameCell(old[start]!, cells[start]!)) {
		start++;
	}

	if (start === cells.length && start === old.length) {
		return;
	}

	// Cells at the same index are in the same column as long as every width so far agrees.
	let aligned = start;
	while (aligned < common && old[aligned]!.width === cells[aligned]!.width) {
		aligned++;
	}

	let column = width(cells, start);
	let index = start;
	while (index < aligned) {
		// A run of changed cells, merged with the next run when the gap is short.
		let end = index + 1;
		let gap = 0;
		for (let probe = end; probe < aligned && gap < MERGE_GAP; probe++) {
			if (sameCell(old[probe]!, cells[probe]!)) {
				gap++;
			} else {
				gap = 0;
				end = probe + 1;
			}
		}

		writeCells(row, column, cells, index, end);
		column += width(cells, end) - width(cells, index);
		// Skip the unchanged cells up to the next change.
		index = end;
		while (index < aligned && sameCell(old[index]!, cells[index]!)) {
			column += cells[index]!.width;
			index++;
		}
	}

	if (aligned < cells.length || aligned < old.length) {
		// Widths disagree from here (or one line is longer): rewrite the rest of the line.
		if (aligned < cells.length) {
			writeCells(row, column, cells, aligned, cells.length);
		}

		const newWidth = width(cells, cells.length);
		if (width(old, old.length) > newWidth) {
			eraseRest(row, newWidth);
		}
	}
}

/**
`stdout` for Ink that writes through a ScreenDiff. Everything else (size, TTY, resize events) is the
real stream's. A resize repaints the whole screen.
*/
export function diffingStdout(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
	const diff = new ScreenDiff();
	stdout.on('resize', () => {
		diff.invalidate();
	});
	const write = (data: string | Uint8Array, ...rest: unknown[]): boolean => {
		const translated = typeof data === 'string' ? diff.translate(data) : data;
		if (typeof data !== 'string') {
			diff.invalidate();
		}

		return (stdout.write as (data: string | Uint8Array, ...rest: unknown[]) => boolean)(translated, ...rest);
	};

	return new Proxy(stdout, {
		get(target, property) {
			if (property === 'write') {
				return write;
			}

			const value: unknown = Reflect.get(target, property, target);
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
}
