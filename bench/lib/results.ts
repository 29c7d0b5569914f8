/** The figures a benchmark module reports, and how they are written to results.md and results.json. */

import type {LoadReport} from './load.js';
import type {Machine} from './machine.js';

export type Comparison = '>=' | '<=' | '<' | '>';

export type Target = {
	comparison: Comparison;
	value: number;
	/** How the target reads to a person, e.g. ">= 0.8 of the bare zeromq.js loop". */
	text: string;
};

export type Figure = {
	/** Stable key, e.g. "ingest.node.rate". */
	id: string;
	label: string;
	/** The median of `runs` (or the single measured value). */
	value: number;
	unit: string;
	/** Every run's value, so the spread is visible. */
	runs: number[];
	target?: Target;
	/** Whether the target is met; absent when the figure has no target. */
	met?: boolean;
	note?: string;
};

export type ModuleResult = {
	module: string;
	title: string;
	figures: Figure[];
	/** How it was measured, in a few lines for results.md. */
	method: string[];
	/** Problems met while measuring (a run that failed, a limit hit). */
	warnings: string[];
	durationS: number;
	/** What else ran on the machine meanwhile. */
	load?: LoadReport;
};

/** A whole run, as results.json holds it. */
export type Report = {
	date: string;
	quick: boolean;
	command: string;
	machine: Machine;
	/** What else ran on the machine over the whole run (bench/lib/load.ts). */
	load: LoadReport;
	modules: ModuleResult[];
};

export function meets(value: number, target: Target): boolean {
	if (!Number.isFinite(value)) {
		return false;
	}

	switch (target.comparison) {
		case '>=': {
			return value >= target.value;
		}

		case '<=': {
			return value <= target.value;
		}

		case '<': {
			return value < target.value;
		}

		case '>': {
			return value > target.value;
		}
	}
}

/** A figure with its verdict filled in. */
export function figure(fields: Omit<Figure, 'met'>): Figure {
	return fields.target === undefined ? fields : {...fields, met: meets(fields.value, fields.target)};
}

/** A figure's value as results.md and the README print it: `n/a` for none, ratios bare, others with their unit. */
export function formatValue(value: number, unit: string): string {
	if (!Number.isFinite(value)) {
		return 'n/a';
	}

	const digits = unit === 'ratio' || unit === 'r' ? 3 : Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
	const text = value.toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: 0});
	return unit === 'ratio' || unit === 'r' ? text : `${text} ${unit}`;
}

/** The verdict column: empty without a target. */
export function verdict(figure: Figure): string {
	if (figure.target === undefined) {
		return '';
	}

	return figure.met ? 'yes' : 'NO';
}
