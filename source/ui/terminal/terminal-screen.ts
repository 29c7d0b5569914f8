/**
The stdout proxy: what the live terminal UI renders into. Ink writes its frames to it as to the
real stream; they reach the terminal through a ScreenDiff, with the painted regions drawn in.
*/

import type {Cell} from './cells.js';
import {PaintedRegion, type Painter} from './painted-region.js';
import {ScreenDiff} from './screen-diff.js';

export type TerminalScreen = {
	/** `stdout` for Ink: every frame goes through the screen diff. */
	stdout: NodeJS.WriteStream;
	painter: Painter;
	/** The cells on screen as last painted, row by row: what a screenshot shows. */
	cells(): ReadonlyArray<readonly Cell[]>;
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
	return {stdout: proxy, painter, cells: () => diff.cells};
}
