/**
`chorus_order_parameter{scope="global"}`: the mesh's r over every member's own phase, exported by an
observer with `--metrics` (it pulls every member's `view` once a second) and by no member.

Three headless members with frozen phases (`--coupling 0 --omega 0 --noise 0`, each seeded
differently), so the true global r is a fixed number the test computes from the members' own NDJSON
snapshots, and an observer joined through the first. The seeds are chosen so that r is far from 1
and each member moves it: an observer that left a member out or counted itself (its own phase turns
at the default ω) would be off by far more than the tolerance. A member with `--metrics` has no
global series; after a member is stopped, the observer's r is that of the two left.
*/

import {performance} from 'node:perf_hooks';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {HeadlessProcess, stopAll} from '../helpers/headless-process.js';
import {freePorts, loopback} from '../helpers/ports.js';
import {sampleValue, scrape} from './scrape.js';

const SEEDS = [1, 2, 9];
/** The observer's pull carries each phase to one instant with ω 0 and no noise: it is the phase, to the float. */
const TOLERANCE = 1e-6;

const members: HeadlessProcess[] = [];
let observer: HeadlessProcess;
let observerMetrics: number;
let memberMetrics: number;

function orderParameter(phases: readonly number[]): number {
	const x = phases.reduce((sum, phase) => sum + Math.cos(phase), 0) / phases.length;
	const y = phases.reduce((sum, phase) => sum + Math.sin(phase), 0) / phases.length;
	return Math.hypot(x, y);
}

/** A member's phase from its NDJSON: frozen, so any snapshot says it. */
function phaseOf(member: HeadlessProcess): number {
	return member.lastSnapshot()!.node.phase as number;
}

/** Scrape every 200 ms until `done` holds; the last value, or an error naming what was awaited and what was seen. */
async function pollGlobalR(port: number, done: (r: number | undefined) => boolean, timeoutMs: number, what: string): Promise<number | undefined> {
	const deadline = performance.now() + timeoutMs;
	let r = await globalR(port);
	while (!done(r)) {
		if (performance.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last global r ${r}`);
		}

		await new Promise((resolve) => {
			setTimeout(resolve, 200);
		});
		r = await globalR(port);
	}

	return r;
}

/** The global series, or undefined while the observer exports none. */
async function globalR(port: number): Promise<number | undefined> {
	const {families} = await scrape(port);
	const scopes = families.get('chorus_order_parameter')!.metrics.map((sample) => sample.labels?.['scope']);
	return scopes.includes('global') ? sampleValue(families, 'chorus_order_parameter', {scope: 'global'}) : undefined;
}

beforeAll(async () => {
	const ports = await freePorts(4 + (SEEDS.length * 2));
	const [observerData, observerControl, observerPort, metricsPort, ...memberPorts] = ports as [number, number, number, number, ...number[]];
	observerMetrics = observerPort;
	memberMetrics = metricsPort;
	const frozen = ['--coupling', '0', '--omega', '0', '--noise', '0', '--report-ms', '200'];
	for (const [index, seed] of SEEDS.entries()) {
		const data = memberPorts[index * 2]!;
		const control = memberPorts[(index * 2) + 1]!;
		const join = index === 0 ? [] : ['--join', loopback(memberPorts[0]!)];
		const metrics = index === 0 ? ['--metrics', String(memberMetrics)] : [];
		members.push(new HeadlessProcess(['--demo', '0', '--id', `frozen-${index + 1}`, '--seed', String(seed), ...frozen, '--bind', loopback(data), '--control', String(control), ...join, ...metrics]));
	}

	observer = new HeadlessProcess(['--demo', '0', '--id', 'global-observer', '--observe', '--bind', loopback(observerData), '--control', String(observerControl), '--join', loopback(memberPorts[0]!), '--metrics', String(observerMetrics), '--report-ms', '1000']);
	// Every member hears the other two, and the observer has joined.
	for (const member of members) {
		await member.waitForSnapshot((snapshot) => snapshot.peers.filter((peer: any) => peer.state === 'alive').length === SEEDS.length - 1, 20_000);
	}

	await observer.waitForSnapshot((snapshot) => (snapshot.members ?? []).filter((member: any) => member.id.startsWith('frozen-')).length === SEEDS.length, 20_000);
}, 40_000);

afterAll(async () => {
	await stopAll([observer, ...members]);
}, 30_000);

describe('chorus_order_parameter{scope="global"}', () => {
	it('is, on the observer, the r of every member\'s own phase (each of them, and not its own)', async () => {
		const phases = members.map((member) => phaseOf(member));
		const expected = orderParameter(phases);
		// The seeds make the test able to fail: a mesh near r = 1 would hide a member left out.
		expect(expected).toBeLessThan(0.9);
		for (const leftOut of phases.keys()) {
			expect(Math.abs(orderParameter(phases.filter((_, index) => index !== leftOut)) - expected)).toBeGreaterThan(0.05);
		}

		const value = await pollGlobalR(observerMetrics, (r) => r !== undefined, 15_000, 'the observer to export a global r');
		expect(value).toBeCloseTo(expected, 5);
		expect(Math.abs(value! - expected)).toBeLessThan(TOLERANCE);
	});

	it('is not exported by a member: only an observer pulls the whole mesh', async () => {
		const {families} = await scrape(memberMetrics);
		expect(families.get('chorus_order_parameter')!.metrics.map((sample) => sample.labels?.['scope'])).toEqual(['local']);
	});

	it('follows the mesh: a member that stops leaves the r of the others', async () => {
		const expected = orderParameter(members.slice(0, 2).map((member) => phaseOf(member)));
		await members[2]!.stop();
		// Membership marks it dead (suspect, then dead) and the watch drops it from r.
		const value = await pollGlobalR(observerMetrics, (r) => r !== undefined && Math.abs(r - expected) < TOLERANCE, 30_000, `the observer's r to become that of the two left (${expected.toFixed(4)})`);
		expect(Math.abs(value! - expected)).toBeLessThan(TOLERANCE);
	}, 40_000);
});
