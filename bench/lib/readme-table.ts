/**
The README's performance table, generated from a run: every figure every module reported, misses
and figures with no number included, under a line that says whether the machine was busy. The
runner writes it beside results.md (readme-table.md), ready to paste under the README's
"Performance" heading, so the README carries what the run measured and nothing else.
*/

import {describeLoad} from './load.js';
import {formatValue, verdict, type Figure, type Report} from './results.js';

/** A note's first sentence, when it is short enough for a table cell. */
function shortNote(note: string | undefined): string | undefined {
	if (note === undefined || note === '') {
		return undefined;
	}

	const first = note.split(/(?<=\.) /, 1)[0]!.replace(/\.$/, '');
	return first.length <= 200 ? first : undefined;
}

function cell(text: string): string {
	return text.replaceAll('|', String.raw`\|`).replaceAll('\n', ' ');
}

function valueCell(item: Figure): string {
	const note = shortNote(item.note);
	if (!Number.isFinite(item.value)) {
		return note === undefined ? 'n/a' : `n/a: ${note}`;
	}

	return note === undefined ? formatValue(item.value, item.unit) : `${formatValue(item.value, item.unit)} (${note})`;
}

export function renderReadmeTable(report: Report): string {
	const {machine} = report;
	const figures = report.modules.flatMap((module) => module.figures);
	const targets = figures.filter((item) => item.target !== undefined);
	const met = targets.filter((item) => item.met === true).length;
	const lines = [
		`From \`bench/results.md\` (\`${report.command}\`, ${report.date.slice(0, 10)}, ${machine.cpuModel} with ${machine.cores} cores, Node ${machine.node}${report.quick ? '; a quick run: a tiny configuration whose figures mean little' : ''}). Each value is the median of its runs; every run, the method of each figure (windows, warm-ups, what is left out and why) and the notes in full are in that file, the before and after of each optimisation in \`bench/optimizations.md\`. ${met} of ${targets.length} targets met.`,
		'',
		report.load.busy
			? `**Taken on a busy machine: ${describeLoad(report.load, machine.cores).replace(/^busy machine: /, '')}. CPU figures are inflated by the contention.**`
			: `Taken on a quiet machine: ${describeLoad(report.load, machine.cores).replace(/^quiet machine: /, '')}.`,
		'',
		'| figure | value | target | met |',
		'| --- | --- | --- | --- |',
	];
	for (const module of report.modules) {
		const busy = module.load?.busy ? ' (busy machine)' : '';
		lines.push(`| **${cell(module.title)}**${busy} | | | |`);
		for (const item of module.figures) {
			lines.push(`| ${cell(item.label)} | ${cell(valueCell(item))} | ${cell(item.target?.text ?? '')} | ${verdict(item)} |`);
		}
	}

	return `${lines.join('\n')}\n`;
}
