/**
The screen as cells: a character (with any zero-width characters joined to it), its style and the
columns it takes. A line of styled text is parsed into cells once; cells are never changed once
made, so equal ones are shared.
*/

import {DEFAULT_STYLE, nextStyleKey, SGR, type StyleKey} from './sgr.js';
import {charWidth} from './text-width.js';

export type Cell = {text: string; style: StyleKey; width: number};

/** Cells are never changed once made, so equal ones are shared: fewer objects for the collector. */
const cellsByStyle = new Map<StyleKey, Map<string, Cell>>();

function cellOf(text: string, style: StyleKey, width: number): Cell {
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

export function sameCell(a: Cell, b: Cell): boolean {
	return a === b || (a.text === b.text && a.style === b.style && a.width === b.width);
}

/** A space in the default style: what an empty cell of the screen looks like. */
export const BLANK: Cell = {text: ' ', style: DEFAULT_STYLE, width: 1};

/** Drop the blank unstyled cells at the end of a line, as Ink does (they look the same as none). */
export function trimEnd(cells: Cell[]): Cell[] {
	let end = cells.length;
	while (end > 0 && sameCell(cells[end - 1]!, BLANK)) {
		end--;
	}

	return end === cells.length ? cells : cells.slice(0, end);
}

/** Columns the first `count` cells take. */
export function width(cells: readonly Cell[], count: number): number {
	let total = 0;
	for (let index = 0; index < count; index++) {
		total += cells[index]!.width;
	}

	return total;
}

/** The cells of `cells` that lie left of `column`, padded with blanks to reach it. */
export function cellsBefore(cells: readonly Cell[], column: number): Cell[] {
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
export function cellsFrom(cells: readonly Cell[], column: number): Cell[] {
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
