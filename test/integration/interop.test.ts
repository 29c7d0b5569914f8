/**
Wire compatibility with the original Python nodes, both ways.
*/

import {spawn} from 'node:child_process';
import path from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {HeadlessProcess, peerOf, stopAll} from '../helpers/headless-process.js';
import {RawPeer} from '../helpers/nodes.js';
import {freePorts, loopback} from '../helpers/ports.js';

const running = new Set<HeadlessProcess>();
const cleanups: Array<() => void> = [];
afterEach(async () => {
	await stopAll(running);
	running.clear();
	for (const cleanup of cleanups.splice(0)) {
		cleanup();
	}
});

const LEGACY_FRAME = '{"node_id": "ee15c401", "phase": 0.0, "lamport_time": 64}';

describe('interoperability with the original Python nodes', () => {
	it('accepts the exact legacy message sent as one frame by a plain ZeroMQ publisher', async () => {
		const peer = await new RawPeer().bind();
		cleanups.push(() => peer.close());
		const [port] = await freePorts(1);
		const subscribed = peer.waitForSubscriber();
		const node = new HeadlessProcess(['--demo', '0', '--bind', String(port), '--peer', peer.endpoint, '--report-ms', '100']);
		running.add(node);
		await subscribed;
		await peer.send(LEGACY_FRAME);

		const joined = await node.waitForEvent('peer-joined', 'ee15c401', 5000);
		expect(joined.incarnation).toBe(0);
		const snapshot = await node.waitForSnapshot((line) => peerOf(line, 'ee15c401') !== undefined, 3000);
		expect(peerOf(snapshot, 'ee15c401')).toMatchObject({lamport: 64, state: expect.stringMatching(/alive|suspect/)});
		expect(snapshot.node.lamport).toBeGreaterThan(64);
		expect(snapshot.stats).toMatchObject({received: 1, admitted: 1});
	});

	it('sends messages that a legacy reader parses: node_id string, phase number, lamport_time integer', async () => {
		const [port] = await freePorts(1);
		const node = new HeadlessProcess(['--demo', '0', '--bind', String(port), '--report-ms', '1000']);
		running.add(node);
		await node.waitForEvent('node-started', undefined, 10_000);
		const subscriber = new zmq.Subscriber({linger: 0});
		cleanups.push(() => subscriber.close());
		subscriber.subscribe();
		subscriber.connect(loopback(port!));
		for (let count = 0; count < 20; count++) {
			const frames = await subscriber.receive();
			expect(frames).toHaveLength(1);
			const message = JSON.parse(frames[0]!.toString('utf8'));
			expect(typeof message.node_id).toBe('string');
			expect(typeof message.phase).toBe('number');
			expect(Number.isInteger(message.lamport_time)).toBe(true);
		}
	});

	it('shares a mesh with a node written like the original Python script, both ways', async () => {
		const [nodePort, legacyPort] = await freePorts(2);
		const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/legacy_node.py');
		const legacy = spawn('/usr/bin/python3', [fixture, String(legacyPort), String(nodePort), 'py-legacy', '30'], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		cleanups.push(() => legacy.kill('SIGKILL'));
		let legacyStderr = '';
		legacy.stderr.on('data', (chunk: Buffer) => {
			legacyStderr += chunk.toString();
		});
		const heardByLegacy: any[] = [];
		createInterface({input: legacy.stdout}).on('line', (line) => heardByLegacy.push(JSON.parse(line)));

		const node = new HeadlessProcess(['--demo', '0', '--id', 'ts-node', '--bind', String(nodePort), '--peer', String(legacyPort), '--report-ms', '200']);
		running.add(node);
		await node.waitForEvent('peer-joined', 'py-legacy', 10_000).catch((error: unknown) => {
			throw new Error(`${(error as Error).message}; python stderr: ${legacyStderr}`);
		});
		const snapshot = await node.waitForSnapshot((line) => peerOf(line, 'py-legacy')?.state === 'alive', 5000);
		expect(peerOf(snapshot, 'py-legacy').incarnation).toBe(0);

		const deadline = performance.now() + 5000;
		while (!heardByLegacy.some((message) => message.from === 'ts-node') && performance.now() < deadline) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}

		const fromUs = heardByLegacy.filter((message) => message.from === 'ts-node');
		expect(fromUs.length, `python stderr: ${legacyStderr}`).toBeGreaterThan(0);
		expect(typeof fromUs[0].phase).toBe('number');
		expect(Number.isInteger(fromUs[0].lamport_time)).toBe(true);
	});
});
