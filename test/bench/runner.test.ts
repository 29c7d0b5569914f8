/**
The benchmark runner itself, on its tiny configuration (`--quick`): it runs every module and writes
results.md and results.json with the machine, the date, and every figure with its target and
verdict. Not a timing test: the figures of a quick run on a busy machine mean little.
*/

import {spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNNER = path.join(ROOT, 'dist-bench', 'bench', 'run.js');

type Figure = {id: string; label: string; unit: string; value: number | null; runs: number[]; target?: {comparison: string; value: number; text: string}; met?: boolean};
type Report = {
	date: string;
	quick: boolean;
	machine: {cpuModel: string; cores: number; node: string; libzmq: string; zeromqJs: string; pyzmq: string};
	modules: Array<{module: string; title: string; figures: Figure[]; method: string[]; warnings: string[]}>;
};

/** The figures the issue asks for, with their targets. */
const REQUIRED_TARGETS: Record<string, number> = {
	'ingest.node-vs-bare': 0.8,
	'ingest.node-vs-python': 1,
	'cost.node-vs-python': 0.6,
	'scale.in-process': 100,
	'startup.first-snapshot': 1000,
};
const REQUIRED_FIGURES = [
	'ingest.bare',
	'ingest.python',
	'ingest.node',
	'ingest.tick-late.p99',
	'cost.node',
	'cost.python',
	'scale.processes',
	'resilience.modern.evict',
	'resilience.legacy.evict',
	'resilience.modern.readmit',
	'resilience.legacy.readmit',
	'resilience.modern.fault-r',
	'resilience.legacy.fault-r',
];

describe('npm run bench -- --quick', () => {
	const outDir = mkdtempSync(path.join(tmpdir(), 'chorus-bench-'));
	let exitCode: number | null = null;
	let stderr = '';

	beforeAll(async () => {
		const build = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.bench.json'], {
			cwd: ROOT,
			encoding: 'utf8',
		});
		expect(build.status, build.stdout + build.stderr).toBe(0);
		const runner = spawn(process.execPath, [RUNNER, '--quick', '--out', outDir], {cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe']});
		runner.stderr.on('data', (chunk: Buffer) => {
			stderr = (stderr + chunk.toString()).slice(-8000);
		});
		const timer = setTimeout(() => runner.kill('SIGTERM'), 170_000);
		try {
			exitCode = await new Promise<number | null>((resolve) => {
				runner.on('exit', (code) => {
					resolve(code);
				});
			});
		} finally {
			clearTimeout(timer);
			runner.kill('SIGKILL');
		}
	}, 240_000);

	afterAll(() => {
		rmSync(outDir, {recursive: true, force: true});
	});

	test('exits 0 and writes results.json with the machine, the date and every module', () => {
		expect(exitCode, stderr).toBe(0);
		const report = JSON.parse(readFileSync(path.join(outDir, 'results.json'), 'utf8')) as Report;
		expect(report.quick).toBe(true);
		expect(Number.isNaN(Date.parse(report.date))).toBe(false);
		expect(report.machine.cores).toBeGreaterThan(0);
		expect(report.machine.cpuModel).not.toBe('');
		expect(report.machine.node).toMatch(/^v\d+/);
		expect(report.machine.libzmq).toMatch(/^\d+\.\d+\.\d+$/);
		expect(report.modules.map((module) => module.module)).toEqual(['ingest', 'cost', 'scale', 'ui', 'startup', 'resilience', 'fidelity', 'membership', 'record']);
	});

	test('every figure has a value field, its runs, and a verdict wherever it has a target', () => {
		const report = JSON.parse(readFileSync(path.join(outDir, 'results.json'), 'utf8')) as Report;
		const figures = new Map(report.modules.flatMap((module) => module.figures).map((item) => [item.id, item]));
		for (const id of [...Object.keys(REQUIRED_TARGETS), ...REQUIRED_FIGURES]) {
			expect(figures.has(id), id).toBe(true);
		}

		for (const [id, value] of Object.entries(REQUIRED_TARGETS)) {
			expect(figures.get(id)!.target?.value, id).toBe(value);
		}

		for (const item of figures.values()) {
			expect(item.label, item.id).not.toBe('');
			expect(Array.isArray(item.runs), item.id).toBe(true);
			expect(item.value === null || typeof item.value === 'number', item.id).toBe(true);
			if (item.target !== undefined) {
				expect(typeof item.met, item.id).toBe('boolean');
			}
		}

		// A quick run still measures: most figures carry a number, not "not measured".
		const measured = [...figures.values()].filter((item) => typeof item.value === 'number');
		expect(measured.length, stderr).toBeGreaterThan(figures.size / 2);
	});

	test('results.md lists the machine and every figure with its target and verdict', () => {
		const markdown = readFileSync(path.join(outDir, 'results.md'), 'utf8');
		const report = JSON.parse(readFileSync(path.join(outDir, 'results.json'), 'utf8')) as Report;
		expect(markdown).toContain('## Machine');
		expect(markdown).toContain(report.machine.libzmq);
		expect(markdown).toContain('| figure | value | target | met |');
		for (const item of report.modules.flatMap((module) => module.figures)) {
			expect(markdown, item.id).toContain(`\`${item.id}\``);
			if (item.target !== undefined) {
				const row = markdown.split('\n').find((line) => line.startsWith(`| ${item.label} |`));
				expect(row, item.id).toBeDefined();
				expect(row).toContain(item.target.text);
				expect(row).toMatch(item.met ? /\| yes \|$/ : /\| NO \|$/);
			}
		}

		// The optimisations' story is told once, in optimizations.md: results.md links it, no copy.
		expect(markdown).toContain('[`optimizations.md`](optimizations.md)');
		expect(markdown).not.toContain('(before → after)');
	});
});
