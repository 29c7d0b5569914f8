/**
Write only what changed on the screen. Ink 6 redraws its whole frame on every change (erase every
line, write every line), which at 10 frames a second is 50–100 KB/s over an SSH link when every
row's age ticks. This sits between Ink and the terminal: it keeps the screen as cells (character
and style), and turns each frame Ink writes into cursor moves and the changed cells alone.

It also draws the painted regions (painted-region.ts): boxes that Ink lays out empty and whose
lines a pane renders itself. Each frame is Ink's output with those lines laid over it at the places
Ink computed for their boxes; a region whose lines change while Ink's own output does not is
repainted without waiting for Ink (which writes nothing when its output is unchanged).

It relies on how the TUI runs: on the alternate screen, the frame drawn from the top-left corner,
never as tall as the terminal (so Ink never scrolls nor clears the terminal). Anything Ink writes
that is not a frame (cursor visibility, synchronized-output marks, an erase on resize) passes
through untouched, and the next frame is painted in full.
*/

import {cellsBefore, cellsFrom, parseLine, sameCell, trimEnd, width, type Cell} from './cells.js';
import {placeOf, type PaintedRegion} from './painted-region.js';
import {DEFAULT_STYLE} from './sgr.js';

const ESC = '\u001B';
/** Ink's frame: `ansiEscapes.eraseLines(previous line count)`, then the frame text ending in a newline. */
const ERASE_PREFIX = /^(?:\u001B\[2K(?:\u001B\[1A)?)*(?:\u001B\[G)?/u;
/** Text with SGR styling and nothing else. */
const STYLED_TEXT = /^(?:[^\u001B]|\u001B\[[\d;:]*m)*$/u;
/** Changed cells closer than this are written as one run: a cursor move costs about as much. */
const MERGE_GAP = 6;

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

	/** The cells on screen as last painted, row by row (for screenshots): what the terminal shows. */
	get cells(): ReadonlyArray<readonly Cell[]> {
		return this.#screen ?? this.#compose();
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
