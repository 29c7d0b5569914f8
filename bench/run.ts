/**
The benchmark runner: `npm run bench` (full, about 25 minutes) or `npm run bench -- --quick` (a
tiny configuration, two to four minutes). Runs every module, then writes results.md, results.json
and readme-table.md: the machine, the date, how busy the machine was (over the run and in each
module, bench/lib/load.ts), and each figure as the median of its runs with its target and whether
it is met.

Flags:
  --quick            tiny configuration (the runner's own test uses it)
  --only a,b         run only these modules (ingest, cost, scale, sparse, ui, startup, resilience,
                     fidelity, membership, record)
  --out DIR          where to write results.md, results.json and readme-table.md (default: bench/)
*/

import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {describeMachine} from './lib/machine.js';
import type {BenchModule} from './lib/module.js';
import {BENCH_SOURCE_DIR} from './lib/paths.js';
import {killAllChildren} from './lib/proc.js';
import {describeLoad, LoadWatch} from './lib/load.js';
import {renderReadmeTable} from './lib/readme-table.js';
import {figure, formatValue, verdict, type Figure, type ModuleResult, type Report} from './lib/results.js';
import {median} from './lib/stats.js';
import {MODULES} from './modules/index.js';

type Options = {quick: boolean; only: string[] | undefined; outDir: string};

function parseArguments(argv: readonly string[]): Options {
	const options: Options = {quick: false, only: undefined, outDir: BENCH_SOURCE_DIR};
	for (let index = 0; index < argv.length; index++) {
		const argument = argv[index]!;
		const [name, inlineValue] = argument.split('=', 2) as [string, string | undefined];
		const value = () => inlineValue ?? argv[++index] ?? fail(`${name} needs a value`);
		switch (name) {
			case '--quick': {
				options.quick = true;
				break;
			}

			case '--only': {
				options.only = value().split(',').map((module) => module.trim()).filter(Boolean);
				const unknown = options.only.filter((module) => !MODULES.some((candidate) => candidate.name === module));
				if (unknown.length > 0) {
					fail(`--only: unknown module ${unknown.join(', ')}; known: ${MODULES.map((module) => module.name).join(', ')}`);
				}

				break;
			}

			case '--out': {
				options.outDir = path.resolve(value());
				break;
			}

			default: {
				fail(`unknown argument ${argument}; use --quick, --only a,b, --out DIR`);
			}
		}
	}

	return options;
}

function fail(message: string): never {
	process.stderr.write(`bench: ${message}\n`);
	process.exit(2);
}

function log(line: string): void {
	process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function runModule(module: BenchModule, quick: boolean): Promise<ModuleResult> {
	const startedMs = performance.now();
	const load = new LoadWatch();
	let output;
	try {
		output = await module.run({quick, log});
	} catch (error) {
		log(`${module.name} failed: ${(error as Error).stack ?? String(error)}`);
		output = {values: {}, method: [], warnings: [`the module failed: ${(error as Error).message ?? String(error)}`]};
	}

	const figures: Figure[] = module.figures.map((spec) => {
		const measured = output.values[spec.id];
		const runs = measured?.runs ?? [];
		const value = measured?.value ?? (runs.length > 0 ? median(runs) : Number.NaN);
		return figure({
			...spec,
			value,
			runs,
			...(measured?.note === undefined ? {} : {note: measured.note}),
			...(runs.length === 0 && measured?.value === undefined ? {note: measured?.note ?? 'not measured'} : {}),
		});
	});
	return {
		module: module.name,
		title: module.title,
		figures,
		method: output.method,
		warnings: output.warnings,
		durationS: Math.round((performance.now() - startedMs) / 100) / 10,
		load: load.stop(),
	};
}

function renderMarkdown(report: Report): string {
	const {machine} = report;
	const lines: string[] = [
		'# Benchmark results',
		'',
		`Written by \`npm run bench${report.quick ? ' -- --quick' : ''}\` on ${report.date}${report.quick ? ' (quick: a tiny configuration, the figures mean little)' : ''}.`,
		'Each figure is the median of its runs; every run is listed in the details below.',
		'',
		report.load.busy
			? `**Busy machine: ${describeLoad(report.load, machine.cores).replace(/^busy machine: /, '')} over the run. These figures measure the contention as much as the code; run again on a quiet machine. Each module below says how busy it was.**`
			: `Quiet machine: ${describeLoad(report.load, machine.cores).replace(/^quiet machine: /, '')} over the run.`,
		'',
		'## Machine',
		'',
		'| | |',
		'| --- | --- |',
		`| CPU | ${machine.cpuModel}, ${machine.cores} cores |`,
		`| memory | ${machine.memoryGiB} GiB |`,
		`| kernel | ${machine.kernel} |`,
		`| Node | ${machine.node} |`,
		`| zeromq.js / libzmq | ${machine.zeromqJs} / ${machine.libzmq} |`,
		`| Python / pyzmq / its libzmq | ${machine.python} / ${machine.pyzmq} / ${machine.pythonLibzmq} |`,
		`| open files limit | ${machine.openFilesLimit} |`,
		`| load average at start | ${machine.loadAverageAtStart.join(', ')} |`,
		'',
		'## Summary',
		'',
		'| figure | value | target | met |',
		'| --- | ---: | --- | --- |',
	];
	for (const module of report.modules) {
		for (const item of module.figures) {
			// A figure with no number (a peer never evicted, a run that failed) says why in its place.
			const value = Number.isFinite(item.value) || item.note === undefined ? formatValue(item.value, item.unit) : `n/a: ${item.note}`;
			lines.push(`| ${item.label} | ${value} | ${item.target?.text ?? ''} | ${verdict(item)} |`);
		}
	}

	for (const module of report.modules) {
		lines.push('', `## ${module.title}`, '', `Took ${module.durationS} s${module.load ? `; ${describeLoad(module.load, machine.cores)}` : ''}.`, '');
		for (const line of module.method) {
			lines.push(`- ${line}`);
		}

		lines.push('', '| id | value | runs | target | met | note |', '| --- | ---: | --- | --- | --- | --- |');
		for (const item of module.figures) {
			const runs = item.runs.map((run) => formatValue(run, item.unit === 'ratio' || item.unit === 'r' ? item.unit : '').trim()).join(', ');
			lines.push(
				`| \`${item.id}\` | ${formatValue(item.value, item.unit)} | ${runs} | ${item.target?.text ?? ''} | ${verdict(item)} | ${item.note ?? ''} |`,
			);
		}

		if (module.warnings.length > 0) {
			lines.push('', 'Warnings:', '');
			for (const warning of module.warnings) {
				lines.push(`- ${warning}`);
			}
		}
	}

	// The optimisations' before-and-after story is told once, in optimizations.md; the results
	// point to it rather than carry a copy that drifts.
	lines.push('', '## Optimizations', '', 'What changed because of these figures, each change with its before and after: [`optimizations.md`](optimizations.md).');

	return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
	const options = parseArguments(process.argv.slice(2));
	for (const signal of ['SIGINT', 'SIGTERM'] as const) {
		process.on(signal, () => {
			killAllChildren();
			process.exit(130);
		});
	}

	process.on('exit', killAllChildren);
	const machine = describeMachine();
	const runLoad = new LoadWatch();
	const selected = MODULES.filter((module) => options.only === undefined || options.only.includes(module.name));
	log(`${options.quick ? 'quick' : 'full'} run of ${selected.map((module) => module.name).join(', ')} on ${machine.cpuModel} x${machine.cores}`);
	const modules: ModuleResult[] = [];
	for (const module of selected) {
		log(`${module.name}: start`);
		modules.push(await runModule(module, options.quick));
		log(`${module.name}: done`);
	}

	const report: Report = {
		date: new Date().toISOString(),
		quick: options.quick,
		command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
		machine,
		load: runLoad.stop(),
		modules,
	};
	mkdirSync(options.outDir, {recursive: true});
	writeFileSync(path.join(options.outDir, 'results.json'), `${JSON.stringify(report, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), '\t')}\n`);
	writeFileSync(path.join(options.outDir, 'results.md'), renderMarkdown(report));
	writeFileSync(path.join(options.outDir, 'readme-table.md'), renderReadmeTable(report));
	log(`wrote ${path.join(options.outDir, 'results.md')}, results.json and readme-table.md (the README's performance table)`);
	for (const module of modules) {
		for (const item of module.figures) {
			log(`${item.id}: ${formatValue(item.value, item.unit)}${item.target ? ` (target ${item.target.text}: ${item.met ? 'met' : 'NOT met'})` : ''}`);
		}
	}
}

await main();
