// `--metrics`: a real node process serves /metrics and /healthz over HTTP; the body is parsed with a
// real exposition-format parser and checked against the node's own NDJSON snapshots.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {HeadlessProcess, stopAll} from '../helpers/headless-process.js';
import {freePorts, loopback} from '../helpers/ports.js';
import {REJECT_REASONS} from '../../source/mesh/model/wire.js';
import {PEER_STATES} from '../../source/mesh/model/peer-table.js';
import {LATENESS_BUCKETS_S} from '../../source/report/metrics.js';
import {scrape, sampleValue} from './scrape.js';

const processes: HeadlessProcess[] = [];
let node: HeadlessProcess;
let peer: HeadlessProcess;
let metricsPort: number;

beforeAll(async () => {
	const [nodePort, peerPort, port, nodeControl, observerPort, observerControl] = await freePorts(6);
	metricsPort = port!;
	node = new HeadlessProcess(['--demo', '0', '--id', 'metrics-a', '--bind', loopback(nodePort!), '--control', String(nodeControl), '--peer', loopback(peerPort!), '--report-ms', '200', '--metrics', String(metricsPort), '--metrics-peer-labels']);
	peer = new HeadlessProcess(['--demo', '0', '--id', 'metrics-b', '--bind', loopback(peerPort!), '--peer', loopback(nodePort!), '--report-ms', '1000']);
	// An observer (--observe) that joins the node: listed among its members as alive, counted apart.
	const observer = new HeadlessProcess(['--demo', '0', '--id', 'metrics-obs', '--observe', '--bind', loopback(observerPort!), '--control', String(observerControl), '--join', loopback(nodePort!), '--report-ms', '1000']);
	processes.push(node, peer, observer);
	// Both ways admitted: the counters have something to count; and the observer is listed.
	await node.waitForSnapshot((snapshot) => snapshot.peers.some((entry: any) => entry.id === 'metrics-b' && entry.state === 'alive') && snapshot.stats.admitted > 5
		&& (snapshot.members ?? []).some((member: any) => member.id === 'metrics-obs' && member.observer === true), 20_000);
}, 30_000);

afterAll(async () => {
	await stopAll(processes);
});

/** Metric families every scrape must carry, with their Prometheus type. */
const EXPECTED: Record<string, string> = {
	chorus_order_parameter: 'GAUGE',
	chorus_peers: 'GAUGE',
	chorus_members: 'GAUGE',
	chorus_messages_received_total: 'COUNTER',
	chorus_messages_admitted_total: 'COUNTER',
	chorus_messages_rejected_total: 'COUNTER',
	chorus_fault_dropped_total: 'COUNTER',
	chorus_ticks_total: 'COUNTER',
	chorus_tick_lateness_seconds: 'HISTOGRAM',
	chorus_lamport_time: 'GAUGE',
	chorus_phase_radians: 'GAUGE',
	chorus_faults_active: 'GAUGE',
	chorus_build_info: 'GAUGE',
	// prom-client's default process metrics.
	process_cpu_seconds_total: 'COUNTER',
	process_resident_memory_bytes: 'GAUGE',
	nodejs_eventloop_lag_seconds: 'GAUGE',
};

describe('/metrics', () => {
	it('serves the Prometheus text format with the chorus_ families, their types and base units', async () => {
		const {status, contentType, families} = await scrape(metricsPort);
		expect(status).toBe(200);
		expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
		for (const [name, type] of Object.entries(EXPECTED)) {
			expect(families.get(name)?.type, name).toBe(type);
		}

		for (const family of families.values()) {
			if (!family.name.startsWith('chorus_')) {
				continue;
			}

			// Conventions: counters end in _total, nothing counts in milliseconds or degrees.
			expect(family.type === 'COUNTER', family.name).toBe(family.name.endsWith('_total'));
			expect(family.name).not.toMatch(/_(ms|milliseconds|degrees|minutes)(_|$)/);
			expect(family.help.length, family.name).toBeGreaterThan(10);
		}

		// Low cardinality: every state once, every reject reason once, scopes local only (no control plane here).
		expect(families.get('chorus_peers')!.metrics.map((sample) => sample.labels?.['state'])).toEqual(PEER_STATES);
		expect(families.get('chorus_messages_rejected_total')!.metrics.map((sample) => sample.labels?.['reason'])).toEqual(REJECT_REASONS);
		expect(families.get('chorus_order_parameter')!.metrics.map((sample) => sample.labels?.['scope'])).toEqual(['local']);
		expect(sampleValue(families, 'chorus_peers', {state: 'alive'})).toBe(1);
		const r = sampleValue(families, 'chorus_order_parameter', {scope: 'local'});
		expect(r).toBeGreaterThanOrEqual(0);
		expect(r).toBeLessThanOrEqual(1);
		expect(Math.abs(sampleValue(families, 'chorus_phase_radians'))).toBeLessThanOrEqual(Math.PI + 1e-9);
		expect(families.get('chorus_build_info')!.metrics[0]!.labels).toEqual({version: expect.stringMatching(/^\d+\.\d+\.\d+/)});

		// The histogram: cumulative buckets in seconds, ending at +Inf = count.
		const lateness = families.get('chorus_tick_lateness_seconds')!.metrics[0]!;
		// (A JavaScript object lists integer keys such as "1" first: sort by the bound.)
		const buckets = Object.entries(lateness.buckets!)
			.map(([le, count]) => [le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(count)] as const)
			.sort((a, b) => a[0] - b[0]);
		expect(buckets.map(([le]) => le)).toEqual([...LATENESS_BUCKETS_S, Number.POSITIVE_INFINITY]);
		for (let index = 1; index < buckets.length; index++) {
			expect(buckets[index]![1]).toBeGreaterThanOrEqual(buckets[index - 1]![1]);
		}

		expect(buckets.at(-1)![1]).toBe(Number(lateness.count));
		expect(Number(lateness.count)).toBeGreaterThan(5);
	});

	it('counts exactly what the NDJSON snapshots count, read between two of them', async () => {
		// Counters only grow: a scrape taken between two snapshots lies between their values.
		const before = await node.waitForSnapshot(() => true, 5000, node.lines.length);
		const {families} = await scrape(metricsPort);
		const after = await node.waitForSnapshot(() => true, 5000, node.lines.length);
		const within = (name: string, read: (stats: any) => number) => {
			const value = sampleValue(families, name);
			expect(value, name).toBeGreaterThanOrEqual(read(before.stats));
			expect(value, name).toBeLessThanOrEqual(read(after.stats));
		};

		within('chorus_messages_received_total', (stats) => stats.received);
		within('chorus_messages_admitted_total', (stats) => stats.admitted);
		within('chorus_fault_dropped_total', (stats) => stats.faultDropped);
		within('chorus_ticks_total', (stats) => stats.ticks);
		expect(sampleValue(families, 'chorus_messages_received_total')).toBeGreaterThan(5);
		const rejected = families.get('chorus_messages_rejected_total')!.metrics.reduce((sum, sample) => sum + Number(sample.value), 0);
		const sumOf = (stats: any) => Object.values(stats.rejected as Record<string, number>).reduce((sum, count) => sum + count, 0);
		expect(rejected).toBeGreaterThanOrEqual(sumOf(before.stats));
		expect(rejected).toBeLessThanOrEqual(sumOf(after.stats));
		// Gauges of the moment: the Lamport clock between the two snapshots' clocks.
		expect(sampleValue(families, 'chorus_lamport_time')).toBeGreaterThanOrEqual(before.node.lamport);
		expect(sampleValue(families, 'chorus_lamport_time')).toBeLessThanOrEqual(after.node.lamport);
		expect(sampleValue(families, 'chorus_faults_active')).toBe(0);
		// Members by state from the snapshot's membership; the observer, listed as alive, is counted apart.
		const members = after.members as Array<{id: string; state: string; observer?: true}>;
		const memberSamples = families.get('chorus_members')!.metrics;
		expect(memberSamples.map((sample) => sample.labels?.['state'])).toEqual(['alive', 'suspect', 'dead', 'observer']);
		expect(members.find((member) => member.id === 'metrics-obs')).toMatchObject({state: 'alive', observer: true});
		for (const state of ['alive', 'suspect', 'dead']) {
			expect(sampleValue(families, 'chorus_members', {state}), state).toBe(members.filter((member) => member.state === state && member.observer !== true).length);
		}

		// Itself and metrics-b alive; the observer only under its own state.
		expect(sampleValue(families, 'chorus_members', {state: 'alive'})).toBe(2);
		expect(sampleValue(families, 'chorus_members', {state: 'observer'})).toBe(1);
		expect(families.get('chorus_members')!.help).toMatch(/observer/);
	});

	it('adds per-peer series only with --metrics-peer-labels', async () => {
		const {families} = await scrape(metricsPort);
		const diff = sampleValue(families, 'chorus_peer_phase_difference_radians', {peer: 'metrics-b'});
		expect(Math.abs(diff)).toBeLessThanOrEqual(Math.PI + 1e-9);
		expect(sampleValue(families, 'chorus_peer_last_seen_age_seconds', {peer: 'metrics-b'})).toBeLessThan(5);
		// Every other family stays free of a peer label.
		for (const family of families.values()) {
			if (!family.name.startsWith('chorus_peer_')) {
				expect(family.metrics.every((sample) => sample.labels?.['peer'] === undefined), family.name).toBe(true);
			}
		}
	});

	it('answers OpenMetrics when the scraper asks for it, and the text format again after', async () => {
		const open = await scrape(metricsPort, '/metrics', 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1');
		expect(open.status).toBe(200);
		expect(open.contentType).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
		expect(open.body.endsWith('# EOF\n')).toBe(true);
		// OpenMetrics names a counter family without _total and its sample with it.
		expect(open.families.get('chorus_messages_received')?.type).toBe('COUNTER');
		expect(Number(open.families.get('chorus_messages_received_total')?.metrics[0]?.value)).toBeGreaterThan(0);
		expect(open.families.get('chorus_tick_lateness_seconds')?.type).toBe('HISTOGRAM');

		// prom-client renames counters in place when it renders OpenMetrics: the text format must not change.
		const text = await scrape(metricsPort);
		expect(text.families.get('chorus_messages_received_total')?.type).toBe('COUNTER');
		expect(text.body).not.toContain('# EOF');
		const refused = await scrape(metricsPort, '/metrics', 'application/openmetrics-text;q=0,text/plain');
		expect(refused.contentType).toMatch(/^text\/plain/);
	});

	it('refuses other paths and methods without harm', async () => {
		expect((await scrape(metricsPort, '/nope')).status).toBe(404);
		const post = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {method: 'POST', body: 'x'.repeat(100_000)});
		expect(post.status).toBe(405);
		expect((await scrape(metricsPort)).status).toBe(200);
	});
});

describe('/healthz', () => {
	it('is 200 while the node ticks on time, 503 after a freeze (SIGSTOP) until it has ticked on time again', async () => {
		const healthz = async () => {
			const response = await fetch(`http://127.0.0.1:${metricsPort}/healthz`, {signal: AbortSignal.timeout(15_000)});
			return {status: response.status, report: await response.json() as {status: string; lastLateMs: number}};
		};

		const lateBefore = await scrape(metricsPort);
		const frozenTicksBefore = Number(lateBefore.families.get('chorus_tick_lateness_seconds')!.metrics[0]!.count)
			- Number(lateBefore.families.get('chorus_tick_lateness_seconds')!.metrics[0]!.buckets!['1']);
		expect((await healthz()).status).toBe(200);

		node.child.kill('SIGSTOP');
		// A probe sent during the freeze: the kernel accepts the connection; the answer comes after SIGCONT.
		const probe = healthz();
		await new Promise((resolve) => {
			setTimeout(resolve, 1500);
		});
		node.child.kill('SIGCONT');
		const during = await probe;
		expect(during.status).toBe(503);
		expect(['late', 'stalled']).toContain(during.report.status);

		// Once ticks are on time again (RECOVERY_TICKS = 10, a second at 10 Hz), healthy again.
		const recoveredBy = performance.now() + 10_000;
		let last = during;
		while (last.status !== 200 && performance.now() < recoveredBy) {
			await new Promise((resolve) => {
				setTimeout(resolve, 100);
			});
			last = await healthz();
		}

		expect(last.status).toBe(200);
		expect(last.report.status).toBe('ok');
		// The frozen tick is in the histogram, above the 1 s bucket: it sees every tick, not a window.
		const lateAfter = await scrape(metricsPort);
		const family = lateAfter.families.get('chorus_tick_lateness_seconds')!.metrics[0]!;
		expect(Number(family.count) - Number(family.buckets!['1'])).toBeGreaterThan(frozenTicksBefore);
	}, 30_000);
});
