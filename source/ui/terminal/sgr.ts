/**
SGR escape sequences (Select Graphic Rendition: colours and bold, dim, italic, underline, inverse,
strikethrough) as styles. A style is known by its key: the SGR sequence that sets it from any other,
or '' for the terminal's default style, so two cells look the same exactly when their keys are equal.
*/

const ESC = '\u001B';

/** A style key: the SGR sequence that sets the style from any other; DEFAULT_STYLE for none. */
export type StyleKey = string;

export const DEFAULT_STYLE: StyleKey = '';

/** SGR sequences: their parameters are the first group. */
export const SGR = /\u001B\[([\d;:]*)m/gu;

type Style = {
	fg: string;
	bg: string;
	/** Bold, dim, italic, underline, inverse, strikethrough, as SGR parameters. */
	flags: number;
};

const FLAG_CODES = [1, 2, 3, 4, 7, 9] as const;
const FLAG_OFF: Record<number, number[]> = {22: [1, 2], 23: [3], 24: [4], 27: [7], 29: [9]};

function styleKey(style: Style): StyleKey {
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
const stylesByKey = new Map<StyleKey, Style>([[DEFAULT_STYLE, {fg: '', bg: '', flags: 0}]]);
const transitions = new Map<string, StyleKey>();

/** The style after an SGR sequence with `parameters` is written in style `key`. */
export function nextStyleKey(key: StyleKey, parameters: string): StyleKey {
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
