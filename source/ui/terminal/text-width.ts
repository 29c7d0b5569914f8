/**
How many terminal cells text takes, counted per code point as a terminal draws it (a zero-width
character joins the cell before it). The screen diff counts cells with this, and so does every line
the panes render (styled-line.ts): the cells a line claims are the cells it takes on the screen.
*/

import stringWidth from 'string-width';

const widthCache = new Map<string, number>();

/** Cells one character (one code point) takes; printable ASCII without asking string-width. */
export function charWidth(character: string): number {
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

const PRINTABLE_ASCII = /^[\u0020-\u007E]*$/u;

/** Cells a string without escapes takes. */
export function textWidth(text: string): number {
	if (PRINTABLE_ASCII.test(text)) {
		return text.length;
	}

	let width = 0;
	for (const character of text) {
		width += charWidth(character);
	}

	return width;
}

/** The longest prefix of `text` that fits in `cells`, and its width. */
export function sliceCells(text: string, cells: number): {text: string; width: number} {
	if (PRINTABLE_ASCII.test(text)) {
		const cut = text.slice(0, Math.max(0, cells));
		return {text: cut, width: cut.length};
	}

	let width = 0;
	let end = 0;
	for (const character of text) {
		const each = charWidth(character);
		if (width + each > cells) {
			break;
		}

		width += each;
		end += character.length;
	}

	return {text: text.slice(0, end), width};
}
