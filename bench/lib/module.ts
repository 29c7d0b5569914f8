/** What a benchmark module is: a name, the figures it promises, and a run that measures them. */

import type {Target} from './results.js';

export type BenchContext = {
	/** A tiny configuration: seconds instead of minutes, for the runner's own test. */
	quick: boolean;
	log: (line: string) => void;
};

export type FigureSpec = {
	id: string;
	label: string;
	unit: string;
	target?: Target;
};

export type MeasuredValue = {
	/** Every run's value; the figure is their median unless `value` is given. */
	runs: number[];
	value?: number;
	note?: string;
};

export type ModuleOutput = {
	values: Record<string, MeasuredValue>;
	method: string[];
	warnings: string[];
};

export type BenchModule = {
	/** Short name used by `--only`. */
	name: string;
	title: string;
	/** Every figure the module reports, so results list each one even when a run failed. */
	figures: FigureSpec[];
	run: (context: BenchContext) => Promise<ModuleOutput>;
};

/** Collect values as a module measures them. */
export class Measurements {
	readonly values: Record<string, MeasuredValue> = {};
	readonly warnings: string[] = [];

	add(id: string, value: number): void {
		(this.values[id] ??= {runs: []}).runs.push(value);
	}

	set(id: string, runs: number[], note?: string): void {
		this.values[id] = note === undefined ? {runs} : {runs, note};
	}

	note(id: string, note: string): void {
		(this.values[id] ??= {runs: []}).note = note;
	}

	warn(text: string): void {
		this.warnings.push(text);
	}
}
