/** The figures a benchmark module reports, and how they are written to results.md and results.json. */

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
