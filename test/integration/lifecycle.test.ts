import {spawnSync} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {describe, expect, it} from 'vitest';
import {ChorusNode} from '../../source/mesh/node.js';
import {eventually, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';

const distNode = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/mesh/node.js');

describe('node lifecycle', () => {
	it('runs several nodes in one process, and they find each other', async () => {
		const ports = [await freePort(), await freePort(), await freePort()];
		const nodes = await Promise.all(
			ports.map(async (port, index) =>
				new ChorusNode(
					await testNodeOptions({
						id: `n${index}`,
						bindEndpoint: loopback(port),
						peerEndpoints: ports.filter((other) => other !== port).map(loopback),
					}),
				),
			),
		);
		try {
			await Promise.all(nodes.map(async (node) => node.start()));
			await eventually('every node sees two alive peers', () =>
				nodes.every((node) => node.snapshot().peers.filter((peer) => peer.state === 'alive').length === 2), 10_000);
		} finally {
			await Promise.all(nodes.map(async (node) => node.stop()));
		}

		expect(nodes.every((node) => !node.running)).toBe(true);
	});

	it('summarises tick lateness over the last latenessWindowTicks ticks: a stall drops out once that many ticks have passed', async () => {
		const make = async (latenessWindowTicks?: number) =>
			new ChorusNode(await testNodeOptions({bindEndpoint: loopback(await freePort()), ...(latenessWindowTicks === undefined ? {} : {latenessWindowTicks})}));
		const short = await make(5);
		const long = await make();
		try {
			await Promise.all([short.start(), long.start()]);
			// Hold the event loop: the next tick of each node is about 300 ms late.
			const until = performance.now() + 300;
			while (performance.now() < until) {
				// Busy on purpose.
			}

			await eventually('both nodes recorded the late tick', () => short.snapshot().stats.tickLateMs.max >= 200 && long.snapshot().stats.tickLateMs.max >= 200, 5000);
			const ticks = short.snapshot().stats.ticks;
			await eventually('ten ticks more', () => short.snapshot().stats.ticks >= ticks + 10, 5000);
			expect(short.snapshot().stats.tickLateMs.max).toBeLessThan(200);
			expect(long.snapshot().stats.tickLateMs.max).toBeGreaterThanOrEqual(200);
		} finally {
			await Promise.all([short.stop(), long.stop()]);
		}
	});

	it('leaves no timer or socket behind after stop: a process that starts and stops a node exits by itself', () => {
		const script = `
			import {ChorusNode} from ${JSON.stringify(distNode)};
			const node = new ChorusNode({id: 'x', bindEndpoint: 'tcp://127.0.0.1:*', peerEndpoints: ['tcp://127.0.0.1:1'],
				ttlMs: 5000, hz: 10, coupling: 2.5, noiseSigma: 0.05, omegaRadPerS: 3, maxPeers: 10,
				maxLamportJump: 1e6, evictionGraceMs: 3000, legacyAdmission: false});
			await node.start();
			await new Promise((resolve) => setTimeout(resolve, 300));
			await node.stop();
			console.log(JSON.stringify(process.getActiveResourcesInfo()));
		`;
		const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8', timeout: 10_000});
		expect(result.status, result.stderr).toBe(0);
		expect(result.signal).toBeNull();
		const resources = JSON.parse(result.stdout.trim()) as string[];
		expect(resources.filter((resource) => resource === 'Timeout' || resource === 'Immediate')).toEqual([]);
	});
});
