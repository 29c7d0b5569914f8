/**
Fidelity (issue 15): does the mesh follow Kuramoto theory? Full meshes of 50 nodes over inproc, noise
off, a fixed ω set and fixed initial phases, K swept, beside an ideal all-to-all RK4 simulation of
the same oscillators and beside the infinite-N self-consistency curve.
*/

import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {renderRofK, type Series} from '../lib/fidelity-plot.js';
import {Measurements, type BenchContext, type BenchModule, type ModuleOutput} from '../lib/module.js';
import {BENCH_DIST_DIR, BENCH_SOURCE_DIR} from '../lib/paths.js';
import {Child} from '../lib/proc.js';
import {criticalCoupling, crossing, observe, population, selfConsistentR, simulateReference, type Observation} from '../lib/reference-kuramoto.js';

export type FidelityRun = {id: string; coupling: number; hz: number; delayMs: number};
export type MeshObservation = Observation & {
	lateP99Ms: number;
	cpuShare: number;
	/** The reference started from the mesh's own phases once formed (formedAtS), over the same window. */
	formedReference: Observation;
	formedAtS: number;
};
export type FidelitySettings = {n: number; seed: number; formS: number; warmupS: number; windowS: number; sampleEveryMs: number; meshesAtOnce: number};

const SPREAD_RAD_PER_S = 0.3;
const K_SWEEP = [0.2, 0.4, 0.5, 0.6, 0.8, 1, 1.5, 2.5];
const K_LOCKED = [0.6, 0.8, 1, 1.5, 2.5];
const DELAY_MS = 200;
const ONSET_LEVELS = [0.4, 0.5, 0.6];
export const PLOT_PATH = path.join(BENCH_SOURCE_DIR, 'media', 'fidelity-r-of-k.svg');
/** The full tables (markdown tables do not fit in the results' method list). */
export const TABLES_PATH = path.join(BENCH_SOURCE_DIR, 'fidelity.md');

export const fidelity: BenchModule = {
	name: 'fidelity',
	title: '7. Fidelity: the mesh against Kuramoto theory (N = 50, inproc, σ = 0)',
	figures: [
		{id: 'fidelity.omega-error', label: 'worst |Ω − Ω_ref| / Ω_ref, K >= 0.8, at 5, 10 and 20 Hz', unit: '%', target: {comparison: '<=', value: 1, text: '<= 1 %'}},
		{id: 'fidelity.r-error', label: 'worst |r − r_ref| over the K sweep (10 Hz)', unit: '', target: {comparison: '<=', value: 0.03, text: '<= 0.03'}},
		{id: 'fidelity.onset-error', label: 'worst error of the K where r crosses 0.4, 0.5, 0.6 (10 Hz)', unit: '%', target: {comparison: '<=', value: 5, text: '<= 5 %'}},
		{id: 'fidelity.delay-omega-error', label: `worst |Ω − Ω_ref| / Ω_ref with ${DELAY_MS} ms delay on every link, K 1 and 2.5`, unit: '%', target: {comparison: '<=', value: 2, text: '<= 2 %'}},
		{id: 'fidelity.delay-r-error', label: `worst |r − r_ref| with ${DELAY_MS} ms delay on every link, K 1 and 2.5`, unit: '', target: {comparison: '<=', value: 0.02, text: '<= 0.02'}},
	],
	run: async (context) => runFidelity(context, path.join(BENCH_DIST_DIR, 'workers', 'fidelity-mesh.js')),
};

export function fidelityPlan(quick: boolean): {settings: FidelitySettings; runs: FidelityRun[]} {
	if (quick) {
		return {
			settings: {n: 5, seed: 2026, formS: 1, warmupS: 2, windowS: 2, sampleEveryMs: 200, meshesAtOnce: 3},
			runs: [
				{id: 'hz10-k1', coupling: 1, hz: 10, delayMs: 0},
				{id: 'hz10-k2.5', coupling: 2.5, hz: 10, delayMs: 0},
				{id: 'delay-k2.5', coupling: 2.5, hz: 10, delayMs: DELAY_MS},
			],
		};
	}

	const runs: FidelityRun[] = [];
	for (const coupling of K_SWEEP) {
		runs.push({id: `hz10-k${coupling}`, coupling, hz: 10, delayMs: 0});
	}

	// A 20 Hz mesh costs twice a 10 Hz one: with two meshes at once, each runs beside a 5 Hz one.
	for (const coupling of K_LOCKED) {
		runs.push({id: `hz20-k${coupling}`, coupling, hz: 20, delayMs: 0}, {id: `hz5-k${coupling}`, coupling, hz: 5, delayMs: 0});
	}

	for (const coupling of [1, 2.5]) {
		runs.push({id: `delay-k${coupling}`, coupling, hz: 10, delayMs: DELAY_MS});
	}

	return {settings: {n: 50, seed: 2026, formS: 1, warmupS: 25, windowS: 10, sampleEveryMs: 200, meshesAtOnce: 1}, runs};
}

type WorkerResult = {type: string; id: string; formedAtS: number; formedPhases: number[]; times: number[]; r: number[]; psi: number[]; lateP99Ms: number; cpuShare: number};

/** Run the plan's meshes, `meshesAtOnce` in one worker process at a time. */
export async function measureMeshes(workerPath: string, settings: FidelitySettings, runs: readonly FidelityRun[], log: (line: string) => void): Promise<Map<string, MeshObservation>> {
	const results = new Map<string, MeshObservation>();
	for (let start = 0; start < runs.length; start += settings.meshesAtOnce) {
		const batch = runs.slice(start, start + settings.meshesAtOnce);
		const config = {n: settings.n, seed: settings.seed, formS: settings.formS, warmupS: settings.warmupS, windowS: settings.windowS, sampleEveryMs: settings.sampleEveryMs, runs: batch};
		const worker = new Child(process.execPath, [workerPath, JSON.stringify(config)], {
			keepLines: false,
			onLine(text) {
				try {
					const line = JSON.parse(text) as WorkerResult;
					if (line.type === 'result') {
						const run = batch.find((candidate) => candidate.id === line.id)!;
						const formedReference = simulateReference({
							omegasRadPerS: population(settings.n, settings.seed).omegasRadPerS,
							initialPhasesRad: line.formedPhases,
							coupling: run.coupling,
							dtS: 0.01,
							fromS: settings.warmupS - line.formedAtS,
							toS: settings.warmupS + settings.windowS - line.formedAtS,
							sampleEveryS: settings.sampleEveryMs / 1000,
						});
						results.set(line.id, {...observe(line.times, line.r, line.psi), lateP99Ms: line.lateP99Ms, cpuShare: line.cpuShare, formedReference, formedAtS: line.formedAtS});
					}
				} catch {}
			},
		});

		const {code} = await worker.exited;
		for (const run of batch) {
			const result = results.get(run.id);
			log(`fidelity ${run.id}: ${result === undefined ? `no result (exit ${code}: ${worker.stderr.trim().split('\n').at(-1) ?? ''})` : `r ${result.rMean.toFixed(3)} ± ${result.rStd.toFixed(3)}, Ω ${result.omegaRadPerS.toFixed(4)}, p99 late ${result.lateP99Ms} ms`}`);
		}
	}

	return results;
}

export type FidelityReport = {
	settings: FidelitySettings;
	omegaBar: number;
	reference: Record<string, Observation>;
	mesh: Record<string, MeshObservation>;
};

/** Measure, compare, write the plot; `CHORUS_FIDELITY_BEFORE` names an earlier report (JSON) to show beside. */
export async function runFidelity(context: BenchContext, workerPath: string): Promise<ModuleOutput> {
	const measurements = new Measurements();
	const {settings, runs} = fidelityPlan(context.quick);
	const {omegasRadPerS, initialPhasesRad} = population(settings.n, settings.seed);
	const omegaBar = omegasRadPerS.reduce((sum, omega) => sum + omega, 0) / settings.n;
	const reference: Record<string, Observation> = {};
	for (const coupling of new Set(runs.map((run) => run.coupling))) {
		reference[String(coupling)] = simulateReference({
			omegasRadPerS,
			initialPhasesRad,
			coupling,
			dtS: 0.01,
			fromS: settings.warmupS,
			toS: settings.warmupS + settings.windowS,
			sampleEveryS: settings.sampleEveryMs / 1000,
		});
	}

	const mesh = Object.fromEntries(await measureMeshes(workerPath, settings, runs, context.log));
	const report: FidelityReport = {settings, omegaBar, reference, mesh};
	if (process.env['CHORUS_FIDELITY_OUT']) {
		writeFileSync(process.env['CHORUS_FIDELITY_OUT'], `${JSON.stringify(report)}\n`);
	}

	const beforePath = process.env['CHORUS_FIDELITY_BEFORE'];
	const before = beforePath !== undefined && existsSync(beforePath) ? (JSON.parse(readFileSync(beforePath, 'utf8')) as FidelityReport) : undefined;
	const compared = compare(report);
	measurements.set('fidelity.omega-error', [compared.omegaErrorPct]);
	measurements.set('fidelity.r-error', [compared.rError]);
	measurements.set('fidelity.onset-error', [compared.onsetErrorPct]);
	measurements.set('fidelity.delay-omega-error', [compared.delayOmegaErrorPct]);
	measurements.set('fidelity.delay-r-error', [compared.delayRError]);
	if (!context.quick) {
		mkdirSync(path.dirname(PLOT_PATH), {recursive: true});
		writeFileSync(PLOT_PATH, plot(report, before));
		writeFileSync(TABLES_PATH, tablesDocument(report, before));
	}

	const method = [
		`N = ${settings.n} ChorusNode instances per mesh, full mesh over inproc:// in one worker process (bench/workers/fidelity-mesh.ts), ${settings.meshesAtOnce === 1 ? 'one mesh at a time' : `${settings.meshesAtOnce} meshes at once in that process (their ticks interleave on one event loop)`}; the p99 tick lateness of each run is listed. ω_i = π + ${SPREAD_RAD_PER_S}·x_i, x_i standard normal from seed ${settings.seed} (ω̄ = ${omegaBar.toFixed(4)} rad/s), initial phases uniform from the same seed, σ = 0, default TTL.`,
		`r: the order parameter of every node's own phase, read at one instant every ${settings.sampleEveryMs} ms; mean ± std over ${settings.windowS} s after ${settings.warmupS} s. Ω: the least-squares slope of the unwrapped mean-field phase ψ over the same samples.`,
		`Reference: the same ω integrated all-to-all with RK4, dt 0.01 s, dθi/dt = ωi + (K/N)·Σj sin(θj − θi) (the node's normalisation, N counting itself), sampled at the same instants; once from the fixed initial phases at t = 0, and once per run from that mesh's own phases at ${settings.formS} s, when every node has heard every other. The targets are judged against the second: a node cannot couple before its peers' first messages reach it (its first tick runs alone, and the first ticks see only the peers that ticked before), and near Kc that start alone moves the 10-s mean of r by a few hundredths (the reference itself moves by up to 0.04 when its initial phases move by ±0.05 rad). Theory: the infinite-N self-consistency curve for ω ~ N(π, ${SPREAD_RAD_PER_S}²), Kc = s·√(8/π) = ${criticalCoupling(SPREAD_RAD_PER_S).toFixed(3)}.`,
		`Delay: setInboundFault('all', {delayMs: ${DELAY_MS}}) on every node, compared with the undelayed reference.`,
		'The machine is shared (other engineers build and test on its 2 cores at the same time): every figure was taken under that load.',
		`Every run, before and after, with both references: ${path.relative(BENCH_SOURCE_DIR, TABLES_PATH)}; plot: ${path.relative(BENCH_SOURCE_DIR, PLOT_PATH)}.`,
	];
	return {values: measurements.values, warnings: measurements.warnings, method};
}

type Comparison = {omegaErrorPct: number; rError: number; onsetErrorPct: number; delayOmegaErrorPct: number; delayRError: number};

const pct = (value: number, of: number) => (100 * Math.abs(value - of)) / of;
const worst = (values: number[]) => (values.length === 0 ? Number.NaN : Math.max(...values.map((value) => (Number.isNaN(value) ? Number.POSITIVE_INFINITY : value))));

/** Where r crosses each onset level, for the mesh and for its references, over the 10 Hz sweep. */
export function onsets(report: FidelityReport): Array<{level: number; mesh: number; formed: number; fromStart: number}> {
	const sweep = K_SWEEP.filter((k) => report.mesh[`hz10-k${k}`] !== undefined);
	const runs = sweep.map((k) => report.mesh[`hz10-k${k}`]!);
	return ONSET_LEVELS.map((level) => ({
		level,
		mesh: crossing(sweep, runs.map((run) => run.rMean), level),
		formed: crossing(sweep, runs.map((run) => run.formedReference.rMean), level),
		fromStart: crossing(sweep, sweep.map((k) => report.reference[String(k)]!.rMean), level),
	}));
}

/** Every figure against the reference started from the mesh's own formed state (see the method). */
export function compare(report: FidelityReport): Comparison {
	const {mesh} = report;
	const omegaErrors: number[] = [];
	const rErrors: number[] = [];
	const delayOmega: number[] = [];
	const delayR: number[] = [];
	for (const [id, observed] of Object.entries(mesh)) {
		const {coupling, hz, delayed} = parseId(id);
		const ideal = observed.formedReference;
		if (delayed) {
			delayOmega.push(pct(observed.omegaRadPerS, ideal.omegaRadPerS));
			delayR.push(Math.abs(observed.rMean - ideal.rMean));
			continue;
		}

		if (coupling >= 0.8) {
			omegaErrors.push(pct(observed.omegaRadPerS, ideal.omegaRadPerS));
		}

		if (hz === 10) {
			rErrors.push(Math.abs(observed.rMean - ideal.rMean));
		}
	}

	return {
		omegaErrorPct: worst(omegaErrors),
		rError: worst(rErrors),
		onsetErrorPct: worst(onsets(report).map((onset) => pct(onset.mesh, onset.formed))),
		delayOmegaErrorPct: worst(delayOmega),
		delayRError: worst(delayR),
	};
}

function parseId(id: string): {coupling: number; hz: number; delayed: boolean} {
	const match = /^(?:hz(\d+)|delay)-k([\d.]+)$/.exec(id)!;
	return {coupling: Number(match[2]), hz: match[1] === undefined ? 10 : Number(match[1]), delayed: match[1] === undefined};
}

const f = (value: number | undefined, digits: number) => (value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits));
const signedPct = (value: number | undefined, of: number | undefined) =>
	value === undefined || of === undefined || !Number.isFinite(value) || !Number.isFinite(of) ? 'n/a' : `${value >= of ? '+' : '−'}${f(Math.abs((100 * (value - of)) / of), 1)} %`;
/** r ± std, then (the reference from its formed state), then Ω's error against that reference. */
const runCell = (observed: MeshObservation | undefined) =>
	observed === undefined
		? 'n/a'
		: `${f(observed.rMean, 3)} ± ${f(observed.rStd, 3)} (${f(observed.formedReference.rMean, 3)}), Ω ${signedPct(observed.omegaRadPerS, observed.formedReference.omegaRadPerS)}`;

/** The result tables as markdown lines (before beside after when an earlier report is given). */
export function table(report: FidelityReport, before?: FidelityReport): string[] {
	const {mesh, reference} = report;
	const columns = before ? ['before', 'after'] : ['mesh'];
	const reports = before ? [before, report] : [report];
	const lines: string[] = [
		'',
		`10 Hz. Each mesh cell: r mean ± std over the window (r of the reference started from that mesh's own phases at ${report.settings.formS} s), and Ω's error against that reference.${before ? ' Before: the scheme of commit 2186e57.' : ''}`,
		'',
		`| K | r theory (N = ∞) | reference from t = 0: r, Ω | ${columns.join(' | ')} |`,
		`| --- | --- | --- | ${columns.map(() => '---').join(' | ')} |`,
	];
	for (const k of K_SWEEP) {
		const ideal = reference[String(k)];
		if (ideal === undefined || mesh[`hz10-k${k}`] === undefined) {
			continue;
		}

		lines.push(`| ${k} | ${f(selfConsistentR(k, SPREAD_RAD_PER_S), 3)} | ${f(ideal.rMean, 3)} ± ${f(ideal.rStd, 3)}, ${f(ideal.omegaRadPerS, 3)} | ${reports.map((one) => runCell(one.mesh[`hz10-k${k}`])).join(' | ')} |`);
	}

	lines.push('', `K at which r crosses ${ONSET_LEVELS.join(' / ')} (10 Hz sweep, linear between the K above):`, '');
	for (const [index, one] of reports.entries()) {
		lines.push(
			`- ${columns[index]}: ${onsets(one)
				.map((onset) => `r = ${onset.level}: mesh ${f(onset.mesh, 3)}, reference from its formed state ${f(onset.formed, 3)} (${signedPct(onset.mesh, onset.formed)}), reference from t = 0 ${f(onset.fromStart, 3)} (${signedPct(onset.mesh, onset.fromStart)})`)
				.join('; ')}.`,
		);
	}

	lines.push('', 'Against hz (each cell as above):', '', `| K | hz | ${columns.join(' | ')} |`, `| --- | --- | ${columns.map(() => '---').join(' | ')} |`);
	for (const k of K_LOCKED) {
		for (const hz of [5, 10, 20]) {
			if (mesh[`hz${hz}-k${k}`] !== undefined) {
				lines.push(`| ${k} | ${hz} | ${reports.map((one) => runCell(one.mesh[`hz${hz}-k${k}`])).join(' | ')} |`);
			}
		}
	}

	lines.push('', `With ${DELAY_MS} ms injected delay on every link (10 Hz), against the undelayed reference (each cell as above):`, '', `| K | ${columns.join(' | ')} |`, `| --- | ${columns.map(() => '---').join(' | ')} |`);
	for (const k of [1, 2.5]) {
		if (mesh[`delay-k${k}`] !== undefined) {
			lines.push(`| ${k} | ${reports.map((one) => runCell(one.mesh[`delay-k${k}`])).join(' | ')} |`);
		}
	}

	for (const [index, one] of reports.entries()) {
		const late = Object.values(one.mesh).map((observed) => observed.lateP99Ms).sort((a, b) => a - b);
		lines.push('', `p99 tick lateness of the median node (${columns[index]}), over the runs: ${f(late[0], 0)}–${f(late.at(-1), 0)} ms (median ${f(late[late.length >> 1], 0)} ms), on the shared machine.`);
	}

	return lines;
}

/** The tables as a document of their own, written by the benchmark from its own numbers. */
export function tablesDocument(report: FidelityReport, before?: FidelityReport): string {
	return [
		'# Fidelity: the mesh against Kuramoto theory',
		'',
		'Written by `npm run bench -- --only fidelity` (bench/modules/fidelity.ts); the method is in results.md. The machine is shared: every figure was taken while other work ran on its 2 cores.',
		...table(report, before),
		'',
		`![r(K)](${path.relative(BENCH_SOURCE_DIR, PLOT_PATH)})`,
		'',
	].join('\n');
}

function plot(report: FidelityReport, before?: FidelityReport): string {
	const theory: Series['points'] = [];
	for (let k = 0; k <= 2.5 + 1e-9; k += 0.02) {
		theory.push({k, r: selfConsistentR(k, SPREAD_RAD_PER_S)});
	}

	const series: Series[] = [
		{label: 'theory, N = ∞ (self-consistency)', color: '#999999', points: theory, dashed: true},
		{label: `reference RK4, N = ${report.settings.n}`, color: '#1f77b4', points: K_SWEEP.filter((k) => report.reference[String(k)]).map((k) => ({k, r: report.reference[String(k)]!.rMean, std: report.reference[String(k)]!.rStd})), markers: true},
		{label: 'reference RK4 from the formed mesh', color: '#17becf', points: K_SWEEP.filter((k) => report.mesh[`hz10-k${k}`]).map((k) => ({k, r: report.mesh[`hz10-k${k}`]!.formedReference.rMean})), dashed: true},
	];
	if (before) {
		series.push({label: 'mesh before (commit 2186e57)', color: '#ff7f0e', points: meshPoints(before), markers: true, dashed: true});
	}

	series.push({label: `mesh, ${report.settings.n} nodes, 10 Hz`, color: '#d62728', points: meshPoints(report), markers: true});
	return renderRofK('r(K): mesh, reference simulation and theory (ω = π + 0.3·N(0,1), σ = 0)', series, 2.5);
}

function meshPoints(report: FidelityReport): Series['points'] {
	return K_SWEEP.filter((k) => report.mesh[`hz10-k${k}`]).map((k) => ({k, r: report.mesh[`hz10-k${k}`]!.rMean, std: report.mesh[`hz10-k${k}`]!.rStd}));
}
