/**
Write only what changed on the screen. Ink 6 redraws its whole frame on every change (erase every
line, write every line), which at 10 frames a second is 50–100 KB/s over an SSH link when every
row's age ticks. This sits between Ink and the terminal: it keeps the screen as cells (character
and style), and turns each frame Ink writes into cursor moves and the changed cells alone.

It also draws the painted regions (components/Lines.tsx): boxes that Ink lays out empty and whose
lines a pane renders itself. Each frame is Ink's output with those lines laid over it at the places
Ink computed for their boxes; a region whose lines change while Ink's own output does not is
repainted without waiting for Ink (which writes nothing when its output is unchanged).

It relies on how the TUI runs: on the alternate screen, the frame drawn from the top-left corner,
never as tall as the terminal (so Ink never scrolls nor clears the terminal). Anything Ink writes
that is not a frame (cursor visibility, synchronized-output marks, an erase on resize) passes
through untouched, and the next frame is painted in full.
*/

import type {DOMElement} from 'ink';
import {charWidth} from '../styled-line.js';

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

/**
Styles by key, and the key each SGR sequence leads to from each key: a line is parsed at every
change of it, and its SGR sequences are few and always the same ones (the UI's theme; strings
from the network are escaped and hold none), so they are worked out once.
*/
const stylesByKey = new Map<string, Style>([[DEFAULT_STYLE, {fg: '', bg: '', flags: 0}]]);
const transitions = new Map<string, string>();

function nextStyleKey(key: string, parameters: string): string {
	const id = `${key}\u0000${parameters}`;
	let next = transitions.get(id);
	if (next === undefined) {
		const style = {...stylesByKey.get(key)!};
		applySgr(style, parameters);
		next = styleKey(style);
		if (!stylesByKey.has(next)) {
			stylesByKey.set(next, style);
		}

		if (transitions.size < 4096) {
			transitions.set(id, next);
		}
	}

	return next;
}

/** Cells are never changed once made, so equal ones are shared: fewer objects for the collector. */
const cellsByStyle = new Map<string, Map<string, Cell>>();

function cellOf(text: string, style: string, width: number): Cell {
	let byText = cellsByStyle.get(style);
	if (byText === undefined) {
		if (cellsByStyle.size >= 256) {
			return {text, style, width};
		}

		byText = new Map();
		cellsByStyle.set(style, byText);
	}

	let cell = byText.get(text);
	if (cell === undefined) {
		cell = {text, style, width};
		if (byText.size < 2048) {
			byText.set(text, cell);
		}
	}

	return cell;
}

/** One line of styled text as cells; a zero-width character joins the cell before it. */
export function parseLine(line: string): Cell[] {
	const cells: Cell[] = [];
	let key = DEFAULT_STYLE;
	let last = 0;
	const addText = (text: string) => {
		for (let index = 0; index < text.length; index++) {
			const code = text.codePointAt(index)!;
			if (code >= 0x20 && code < 0x7F) {
				cells.push(cellOf(text[index]!, key, 1));
				continue;
			}

			const character = String.fromCodePoint(code);
			index += character.length - 1;
			const width = charWidth(character);
			if (width === 0 && cells.length > 0) {
				const previous = cells.at(-1)!;
				cells[cells.length - 1] = {text: previous.text + character, style: previous.style, width: previous.width};
			} else {
				cells.push(cellOf(character, key, width));
			}
		}
	};

	for (const match of line.matchAll(SGR)) {
		addText(line.slice(last, match.index));
		key = nextStyleKey(key, match[1]!);
		last = match.index + match[0].length;
	}

	addText(line.slice(last));
	return cells;
}

function sameCell(a: Cell, b: Cell): boolean {
	return a === b || (a.text === b.text && a.style === b.style && a.width === b.width);
}

const BLANK: Cell = {text: ' ', style: DEFAULT_STYLE, width: 1};

/** Drop the blank unstyled cells at the end of a line, as Ink does (they look the same as none). */
function trimEnd(cells: Cell[]): Cell[] {
	let end = cells.length;
	while (end > 0 && sameCell(cells[end - 1]!, BLANK)) {
		end--;
	}

	return end === cells.length ? cells : cells.slice(0, end);
}

/**
Lines a component draws itself into a box that Ink lays out (see components/Lines.tsx). Its place
is read from Ink's layout of `element` when a frame is drawn.
*/
export class PaintedRegion {
	#lines: readonly string[] = [];
	#cells: Cell[][] = [];

	constructor(readonly element: {readonly current: DOMElement | null}) {}

	/** Styled lines, one per row of the box; a line that did not change keeps its parsed cells. */
	setLines(lines: readonly string[]): void {
		const previous = this.#lines;
		const cells = this.#cells;
		this.#lines = lines;
		this.#cells = lines.map((line, index) => (previous[index] === line ? cells[index]! : trimEnd(parseLine(line))));
	}

	get cells(): readonly Cell[][] {
		return this.#cells;
	}
}

/** Where Ink laid `element` out on the screen; undefined when it is not laid out. */
function placeOf(element: DOMElement | null): {x: number; y: number} | undefined {
	let x = 0;
	let y = 0;
	for (let node: DOMElement | undefined = element ?? undefined; node; node = node.parentNode) {
		if (!node.yogaNode) {
			return undefined;
		}

		x += node.yogaNode.getComputedLeft();
		y += node.yogaNode.getComputedTop();
	}

	return element ? {x, y} : undefined;
}

/** The cells of `cells` that lie left of `column`, padded with blanks to reach it. */
function cellsBefore(cells: readonly Cell[], column: number): Cell[] {
	const out: Cell[] = [];
	let at = 0;
	for (const cell of cells) {
		if (at + cell.width > column) {
			break;
		}

		out.push(cell);
		at += cell.width;
	}

	while (at < column) {
		out.push(BLANK);
		at++;
	}

	return out;
}

/** The cells of `cells` from `column` on (a wide cell cut in two becomes a blank). */
function cellsFrom(cells: readonly Cell[], column: number): Cell[] {
	let at = 0;
	let index = 0;
	while (index < cells.length && at < column) {
		at += cells[index]!.width;
		index++;
	}

	const out = cells.slice(index);
	for (; at > column; at--) {
		out.unshift(BLANK);
	}

	return out;
}

export class ScreenDiff {
	/** The frame on screen, row by row; undefined when unknown (paint everything next time). */
	#screen: Cell[][] | undefined;
	/** Ink's last frame, under the painted regions. */
	#base: Cell[][] = [];
	readonly #regions = new Set<PaintedRegion>();
	readonly #onDeferred: (() => void) | undefined;
	#deferred = false;

	/** `onDeferred`: told when a frame of Ink's was left for the next repaint, which must then come. */
	constructor(options: {onDeferred?: () => void} = {}) {
		this.#onDeferred = options.onDeferred;
	}

	/** Forget what is on screen: the next frame is painted in full. */
	invalidate(): void {
		this.#screen = undefined;
	}

	/** Draw `region` in every frame from now on, until it is removed. */
	addRegion(region: PaintedRegion): void {
		this.#regions.add(region);
	}

	removeRegion(region: PaintedRegion): void {
		this.#regions.delete(region);
	}

	/**
	What to write for `data`, one write of Ink's: the changes alone for a frame (with the painted
	regions over it), `data` itself for anything else.
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

		this.#base = text
			.slice(0, -1)
			.split('\n')
			.map((line) => parseLine(line));
		if (this.#hasUnplacedRegion()) {
			// A pane just mounted: React attaches its box after Ink writes this frame. Drawn now, the
			// frame would blank the pane's rows and the repaint after the commit would fill them again
			// (a flash over a slow link): the repaint draws both at once instead.
			this.#deferred = true;
			this.#onDeferred?.();
			return '';
		}

		return this.#frame(this.#compose(), true);
	}

	#hasUnplacedRegion(): boolean {
		for (const region of this.#regions) {
			if (region.element.current === null) {
				return true;
			}
		}

		return false;
	}

	/** What to write to bring the screen up to date with the painted regions; '' when it is. */
	repaint(): string {
		const fromInk = this.#deferred;
		this.#deferred = false;
		return this.#frame(this.#compose(), fromInk);
	}

	/** Ink's last frame with every painted region laid over it. */
	#compose(): Cell[][] {
		if (this.#regions.size === 0) {
			return this.#base;
		}

		const rows = [...this.#base];
		for (const region of this.#regions) {
			const place = placeOf(region.element.current);
			if (!place) {
				continue;
			}

			for (const [index, cells] of region.cells.entries()) {
				const row = place.y + index;
				const under = rows[row] ?? [];
				while (rows.length < row) {
					rows.push([]);
				}

				// The usual case, a region as wide as the screen over an empty row: its own cells, so
				// that an unchanged line is the same array as on screen and costs no comparison.
				rows[row] =
					place.x === 0 && under.length === 0
						? cells
						: trimEnd([...cellsBefore(under, place.x), ...cells, ...cellsFrom(under, place.x + width(cells, cells.length))]);
			}
		}

		return rows;
	}

	/**
	The output that turns the screen into `next`. Ink's own frames always end with the cursor moved
	under the frame, where Ink believes it is; a repaint that changes nothing writes nothing.
	*/
	#frame(next: Cell[][], fromInk: boolean): string {
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
			if (old === cells) {
				continue;
			}

			if (old === undefined) {
				// A row under the last frame is blank on screen (painted from a cleared screen, or erased
				// when the frame got shorter). No erase after it: past a full-width row, the cursor stays
				// on the last column and an erase would take that cell.
				if (cells.length > 0) {
					writeCells(row, 0, cells, 0, cells.length);
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

		this.#screen = next;
		if (out === '' && !fromInk) {
			return '';
		}

		setStyle(DEFAULT_STYLE);
		// Leave the cursor where Ink believes it is: under its frame, in the first column.
		out += `${ESC}[${this.#base.length + 1};1H`;
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
The painted regions of a screen, for the components that draw them (through PainterContext).
*/
export type Painter = {
	/** Draw lines into the box `element` from now on; returns the region to update and remove. */
	add(element: {readonly current: DOMElement | null}): PaintedRegion;
	remove(region: PaintedRegion): void;
	/**
	Bring the terminal up to date with the regions once the current React commit is done (a
	microtask later); Ink's own frame, when it writes one, already includes them.
	*/
	schedule(): void;
};

export type TerminalScreen = {
	/** `stdout` for Ink: every frame goes through the screen diff. */
	stdout: NodeJS.WriteStream;
	painter: Painter;
};

export type TerminalScreenOptions = {
	/** Told after each time the screen was brought up to date with a commit (for the frame-time log). */
	onPainted?: () => void;
};

/**
`stdout` for Ink that writes through a ScreenDiff, and the painter of its regions. Everything else
(size, TTY, resize events) is the real stream's. A resize repaints the whole screen.
*/
export function createTerminalScreen(stdout: NodeJS.WriteStream, options: TerminalScreenOptions = {}): TerminalScreen {
	// A frame of Ink's left for the repaint (see ScreenDiff.translate) is drawn after this commit.
	const diff = new ScreenDiff({
		onDeferred() {
			painter.schedule();
		},
	});
	const realWrite = stdout.write.bind(stdout) as (data: string | Uint8Array, ...rest: unknown[]) => boolean;
	stdout.on('resize', () => {
		diff.invalidate();
	});
	let scheduled = false;
	const write = (data: string | Uint8Array, ...rest: unknown[]): boolean => {
		const translated = typeof data === 'string' ? diff.translate(data) : data;
		if (typeof data !== 'string') {
			diff.invalidate();
		}

		return realWrite(translated, ...rest);
	};

	const flush = () => {
		scheduled = false;
		const out = diff.repaint();
		if (out !== '') {
			realWrite(out);
		}

		options.onPainted?.();
	};

	const painter: Painter = {
		add(element) {
			const region = new PaintedRegion(element);
			diff.addRegion(region);
			return region;
		},
		remove(region) {
			diff.removeRegion(region);
		},
		schedule() {
			if (!scheduled) {
				scheduled = true;
				queueMicrotask(flush);
			}
		},
	};

	const proxy = new Proxy(stdout, {
		get(target, property) {
			if (property === 'write') {
				return write;
			}

			const value: unknown = Reflect.get(target, property, target);
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
	return {stdout: proxy, painter};
}
