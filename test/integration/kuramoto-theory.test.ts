/**
The mesh against the Kuramoto results that have a closed form, over real sockets (TCP loopback, in
one process), noise off. With this project's normalisation (K/N, N counting the node itself), two
nodes obey dΔθ/dt = Δω − K·sin Δθ: they lock at sin Δθ = Δω/K when |Δω| < K, and otherwise Δθ
slips at the beat frequency √(Δω² − K²). Any number of locked nodes turn at Ω = ω̄.

Phases are read off the wire: every message carries the phase and the instant it was taken
(`sent_ms`), so two nodes' phases are compared at the same instant.
*/

import {spawn} from 'node:child_process';
import path from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {wrapPhase} from '../../source/mesh/model/kuramoto.js';
import {ChorusNode} from '../../source/mesh/node.js';
import {HeadlessProcess, peerOf, stopAll} from '../helpers/headless-process.js';
import {sleep, testNodeOptions} from '../helpers/nodes.js';
import {freePorts} from '../helpers/ports.js';

type Heard = {id: string; phaseRad: number; sentMs: number};

const nodes: ChorusNode[] = [];
const cleanups: Array<() => void> = [];
const processes = new Set<HeadlessProcess>();
afterEach(async () => {
	for (const cleanup of cleanups.splice(0)) {
		cleanup();
	}

	await Promise.all(nodes.splice(0).map(async (node) => node.stop()));
	await stopAll(processes);
	processes.clear();
});

/** Start a full mesh of nodes with these ω (K, hz shared), noise off, and listen to all of them. */
async function mesh(omegasRadPerS: number[], initialPhasesRad: number[], coupling: number, hz = 10): Promise<{heard: Heard[]; ids: string[]}> {
	const options = await Promise.all(
		omegasRadPerS.map(async (omegaRadPerS, index) =>
			testNodeOptions({id: `osc-${index}`, omegaRadPerS, initialPhaseRad: initialPhasesRad[index], coupling, hz, noiseSigma: 0, faultSeed: index + 1}),
		),
	);
	for (const [index, own] of options.entries()) {
		nodes.push(new ChorusNode({...own, peerEndpoints: options.filter((_other, other) => other !== index).map((other) => other.bindEndpoint)}));
	}

	const heard: Heard[] = [];
	const listener = new zmq.Subscriber({linger: 0});
	cleanups.push(() => listener.close());
	listener.subscribe();
	for (const own of options) {
		listener.connect(own.bindEndpoint);
	}

	void (async () => {
		try {
			for await (const [frame] of listener) {
				const message = JSON.parse(frame!.toString('utf8')) as {node_id: string; phase: number; sent_ms?: number};
				if (message.sent_ms !== undefined) {
					heard.push({id: message.node_id, phaseRad: message.phase, sentMs: message.sent_ms});
				}
			}
		} catch {}
	})();

	await Promise.all(nodes.map(async (node) => node.start()));
	return {heard, ids: options.map((own) => own.id)};
}

/**
Δθ = θ_b − θ_a at each of b's messages sent in [fromMs, toMs): a's latest earlier phase carried to
that instant at `rateRadPerS` (exact for a locked pair; over under a tick otherwise).
*/
function differences(heard: readonly Heard[], a: string, b: string, rateRadPerS: number, fromMs: number, toMs: number): Array<{tMs: number; deltaRad: number}> {
	const out: Array<{tMs: number; deltaRad: number}> = [];
	let latestA: Heard | undefined;
	for (const message of [...heard].sort((x, y) => x.sentMs - y.sentMs)) {
		if (message.id === a) {
			latestA = message;
		} else if (message.id === b && latestA !== undefined && message.sentMs >= fromMs && message.sentMs < toMs) {
			const aNow = latestA.phaseRad + (rateRadPerS * (message.sentMs - latestA.sentMs)) / 1000;
			out.push({tMs: message.sentMs, deltaRad: wrapPhase(message.phaseRad - aNow)});
		}
	}

	return out;
}

function firstSentMs(heard: readonly Heard[]): number {
	return Math.min(...heard.map((message) => message.sentMs));
}

describe('two nodes over real sockets follow the two-oscillator Kuramoto result', () => {
	it('lock at sin Δθ = Δω/K when |Δω| < K (within 0.02 rad)', async () => {
		const omegaA = Math.PI;
		const deltaOmega = 0.5;
		const coupling = 1;
		const {heard, ids} = await mesh([omegaA, omegaA + deltaOmega], [0, 0.4], coupling);
		await sleep(8000);
		const startMs = firstSentMs(heard);
		const locked = differences(heard, ids[0]!, ids[1]!, omegaA + deltaOmega / 2, startMs + 5000, startMs + 8000);
		const meanRad = locked.reduce((sum, sample) => sum + sample.deltaRad, 0) / locked.length;
		const expected = Math.asin(deltaOmega / coupling);
		console.log(`lock: Δθ ${meanRad.toFixed(4)} rad over ${locked.length} samples, theory ${expected.toFixed(4)} rad`);
		expect(locked.length).toBeGreaterThan(20);
		expect(Math.abs(meanRad - expected)).toBeLessThan(0.02);
		// Locked: it stays put.
		expect(Math.max(...locked.map((sample) => Math.abs(sample.deltaRad - expected)))).toBeLessThan(0.04);
	}, 30_000);

	it('drift at the beat frequency √(Δω² − K²) when |Δω| > K (within 5 %)', async () => {
		const omegaA = Math.PI;
		const deltaOmega = 2;
		const coupling = 1;
		const {heard, ids} = await mesh([omegaA, omegaA + deltaOmega], [0, 0], coupling);
		await sleep(12_500);
		const startMs = firstSentMs(heard);
		// Unwrap Δθ (it moves under 0.4 rad a tick) and time its whole turns.
		const samples = differences(heard, ids[0]!, ids[1]!, omegaA + deltaOmega / 2, startMs + 500, startMs + 12_500);
		let unwrapped = samples[0]!.deltaRad;
		const turns: number[] = [];
		for (let index = 1; index < samples.length; index++) {
			const step = wrapPhase(samples[index]!.deltaRad - samples[index - 1]!.deltaRad);
			const before = unwrapped;
			unwrapped += step;
			// Δθ crossing an odd multiple of π (its fastest point): interpolate the instant.
			const turn = Math.floor((unwrapped + Math.PI) / (2 * Math.PI));
			if (turn > Math.floor((before + Math.PI) / (2 * Math.PI))) {
				const level = turn * 2 * Math.PI - Math.PI;
				const fraction = (level - before) / (unwrapped - before);
				turns.push(samples[index - 1]!.tMs + fraction * (samples[index]!.tMs - samples[index - 1]!.tMs));
			}
		}

		const beatRadPerS = (2 * Math.PI * (turns.length - 1)) / ((turns.at(-1)! - turns[0]!) / 1000);
		const expected = Math.sqrt(deltaOmega ** 2 - coupling ** 2);
		console.log(`drift: beat ${beatRadPerS.toFixed(4)} rad/s over ${turns.length - 1} turns, theory ${expected.toFixed(4)} rad/s`);
		expect(turns.length).toBeGreaterThanOrEqual(3);
		expect(Math.abs(beatRadPerS / expected - 1)).toBeLessThan(0.05);
	}, 30_000);
});

describe('three nodes over real sockets', () => {
	it('lock at the collective frequency Ω = ω̄ (within 1 %)', async () => {
		const omegas = [2.8, 3, 3.5];
		const omegaBar = (2.8 + 3 + 3.5) / 3;
		const {heard, ids} = await mesh(omegas, [0, 1, -1], 1.5);
		await sleep(10_000);
		const startMs = firstSentMs(heard);
		for (const id of ids) {
			// Each node's own phase, unwrapped from its messages between 5 s and 10 s: its frequency.
			const own = heard.filter((message) => message.id === id && message.sentMs >= startMs + 5000 && message.sentMs < startMs + 10_000);
			let turned = 0;
			for (let index = 1; index < own.length; index++) {
				turned += wrapPhase(own[index]!.phaseRad - own[index - 1]!.phaseRad);
			}

			const frequency = turned / ((own.at(-1)!.sentMs - own[0]!.sentMs) / 1000);
			console.log(`three nodes: ${id} turns at ${frequency.toFixed(4)} rad/s, ω̄ ${omegaBar.toFixed(4)}`);
			expect(Math.abs(frequency / omegaBar - 1)).toBeLessThan(0.01);
		}
	}, 30_000);
});

describe('a legacy peer that sends no timestamp', () => {
	it('is coupled as before, shown in the NDJSON, and reads our stamped messages', async () => {
		const [nodePort, legacyPort] = await freePorts(2);
		const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/legacy_node.py');
		const legacy = spawn('/usr/bin/python3', [fixture, String(legacyPort), String(nodePort), 'py-legacy', '30'], {stdio: ['ignore', 'pipe', 'pipe']});
		cleanups.push(() => legacy.kill('SIGKILL'));
		const heardByLegacy: Array<{from: string; phase: number}> = [];
		createInterface({input: legacy.stdout}).on('line', (line) => heardByLegacy.push(JSON.parse(line) as {from: string; phase: number}));
		const node = new HeadlessProcess(['--demo', '0', '--id', 'ts-node', '--bind', String(nodePort), '--peer', String(legacyPort), '--report-ms', '200']);
		processes.add(node);
		await node.waitForEvent('peer-joined', 'py-legacy', 20_000);
		// The legacy node's phase grows by 0.1 a message: it keeps its own pace, and ours is pulled.
		const snapshot = await node.waitForSnapshot((line) => peerOf(line, 'py-legacy')?.state === 'alive' && line.stats.admitted >= 10, 15_000);
		expect(Number.isFinite(snapshot.node.phase)).toBe(true);
		expect(snapshot.node.r).toBeGreaterThanOrEqual(0);
		expect(snapshot.node.r).toBeLessThanOrEqual(1);
		expect(Number.isFinite(peerOf(snapshot, 'py-legacy').phaseDiff)).toBe(true);
		await sleep(500);
		const fromUs = heardByLegacy.filter((message) => message.from === 'ts-node');
		expect(fromUs.length).toBeGreaterThan(0);
		expect(typeof fromUs[0]!.phase).toBe('number');
	}, 45_000);
});
