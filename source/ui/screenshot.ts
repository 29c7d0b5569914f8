/**
The `S` key: the screen as the painter last drew it, written as an SVG (the renderer `npm run media`
uses) and as plain text, side by side in the screenshot folder (`--screenshot-dir`).
*/

import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import type {Cell} from './terminal/cells.js';
import {screenFromCells, stillSvg, textFromCells} from './terminal/svg.js';

/** What the painter can tell about the screen. */
export type ScreenSource = {
	cells(): ReadonlyArray<readonly Cell[]>;
	columns: number;
	rows: number;
};

/** The name of a screenshot taken at `wallMs`: local time to the millisecond, so that names sort. */
export function screenshotName(wallMs: number): string {
	const date = new Date(wallMs);
	const pad = (value: number, digits = 2) => String(value).padStart(digits, '0');
	return `chorus-${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}-${pad(date.getMilliseconds(), 3)}`;
}

/** Write the screen now as `<name>.svg` and `<name>.txt` in `directory`; resolves with the SVG's path. */
export async function writeScreenshot(screen: ScreenSource, directory: string, wallMs: number = Date.now()): Promise<{svgPath: string; textPath: string}> {
	// Read at once: the screen may change while the files are written.
	const cells = screen.cells().map((row) => [...row]);
	const base = path.join(directory, screenshotName(wallMs));
	await mkdir(directory, {recursive: true});
	const svgPath = `${base}.svg`;
	const textPath = `${base}.txt`;
	await writeFile(svgPath, stillSvg(screenFromCells(cells, screen.columns, screen.rows), `chorus-tui, ${new Date(wallMs).toISOString()}`));
	await writeFile(textPath, textFromCells(cells, screen.rows));
	return {svgPath, textPath};
}
