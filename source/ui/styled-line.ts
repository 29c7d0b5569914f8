/**
One line of the screen as styled segments, cut or padded to an exact number of cells and turned
into text with SGR escapes. The panes build their lines with this (see components/Lines.tsx): it is
what Ink's nested `<Text>` elements did, without Ink measuring and tokenizing every character of
every line again on every frame.

Widths are counted as the screen diff counts them (terminal/text-width.ts): the cells a line claims
are the cells it takes on the screen.
*/

import chalk, {type ChalkInstance} from 'chalk';
import {sliceCells, textWidth} from './terminal/text-width.js';
import type {Style} from './theme.js';

/** A run of text in one style. */
export type Segment = {text: string; style?: Style | undefined};

type LineOptions = {
	/**
	Style of the cells that pad the line to its width: a background fills them.
	@default no style
	*/
	fill?: Style | undefined;
};

const builders = new Map<string, ChalkInstance>();

/** The chalk builder of a style, in the order Ink's `<Text>` applies them. */
function builderFor(style: Style): ChalkInstance | undefined {
	const key = `${style.color ?? ''}|${style.backgroundColor ?? ''}|${style.bold ? 1 : 0}${style.dimColor ? 1 : 0}${style.inverse ? 1 : 0}`;
	if (key === '||000') {
		return undefined;
	}

	let builder = builders.get(key);
	if (builder === undefined) {
		builder = chalk;
		if (style.dimColor) {
			builder = builder.dim;
		}

		if (style.color) {
			builder = builder[style.color as 'red'];
		}

		if (style.backgroundColor) {
			const name = style.backgroundColor;
			builder = builder[`bg${name[0]!.toUpperCase()}${name.slice(1)}` as 'bgRed'];
		}

		if (style.bold) {
			builder = builder.bold;
		}

		if (style.inverse) {
			builder = builder.inverse;
		}

		builders.set(key, builder);
	}

	return builder;
}

/** Text in a style, as escapes chalk writes (none at all when chalk's level is 0). */
function styleText(text: string, style: Style | undefined): string {
	if (text === '' || style === undefined) {
		return text;
	}

	const builder = builderFor(style);
	return builder ? builder(text) : text;
}

/**
The segments as one line of exactly `width` cells: cut with a `…` when they are longer, padded
(in the `fill` style) when shorter. Segment texts must hold no escapes or control characters (escape them first).
*/
export function renderLine(segments: readonly Segment[], width: number, options: LineOptions = {}): string {
	let total = 0;
	for (const segment of segments) {
		total += textWidth(segment.text);
	}

	let out = '';
	if (total <= width) {
		for (const segment of segments) {
			out += styleText(segment.text, segment.style);
		}

		return total < width ? out + styleText(' '.repeat(width - total), options.fill) : out;
	}

	// Cut: keep width − 1 cells, then the ellipsis, in the style of the segment it cuts (as Ink's
	// truncation leaves it).
	let room = Math.max(0, width - 1);
	let cutStyle: Style | undefined;
	for (const segment of segments) {
		const kept = sliceCells(segment.text, room);
		out += styleText(kept.text, segment.style);
		room -= kept.width;
		if (kept.text.length < segment.text.length) {
			cutStyle = segment.style;
			break;
		}
	}

	return width > 0 ? out + styleText(' '.repeat(room), cutStyle ?? options.fill) + styleText('…', cutStyle ?? options.fill) : '';
}
