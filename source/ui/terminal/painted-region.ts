/**
Painted regions: lines a component draws itself into a box that Ink lays out (see
components/Lines.tsx), and the Painter through which components add and update them. The screen
diff lays each region over Ink's frame at the place Ink computed for its box.
*/

import type {DOMElement} from 'ink';
import {parseLine, trimEnd, type Cell} from './cells.js';

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
export function placeOf(element: DOMElement | null): {x: number; y: number} | undefined {
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
