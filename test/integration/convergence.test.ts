import {afterAll, describe, expect, it} from 'vitest';
import {HeadlessProcess, stopAll} from '../helpers/headless-process.js';
import {freePorts} from '../helpers/ports.js';

const running: HeadlessProcess[] = [];
afterAll(async () => stopAll(running));

describe('a mesh of 8 headless nodes on loopback', () => {
	it('started with random phases reaches r >= 0.95 within 10 s with the defaults', async () => {
		const ports = await freePorts(8);
		for (const [index, port] of ports.entries()) {
			running.push(
				new HeadlessProcess([
					'--demo', '0', '--bind', String(port), '--report-ms', '200',
					'--peer', ports.filter((other) => other !== port).join(','),
					'--seed', String(1000 + index),
				]),
			);
		}

		const started = await Promise.all(running.map(async (node) => node.waitForEvent('node-started', undefined, 15_000)));
		const allStartedAt = Math.max(...started.map((line) => line.receivedAtMs));
		const initialPhases = await Promise.all(running.map(async (node) => (await node.waitForSnapshot(() => true, 5000)).node.phase as number));
		expect(new Set(initialPhases.map((phase) => phase.toFixed(2))).size).toBeGreaterThan(4);

		const synced = await Promise.all(
			running.map(async (node) =>
				node.waitForSnapshot((snapshot) => snapshot.peers.length === 7 && snapshot.node.r >= 0.95, 10_000, node.lines.length),
			),
		);
		const slowestMs = Math.max(...synced.map((line) => line.receivedAtMs - allStartedAt));
		console.log(`8 nodes: every node reported r >= 0.95 within ${Math.round(slowestMs)} ms of the last start`);
		expect(slowestMs).toBeLessThan(10_000);
	}, 40_000);
});
