/**
The `control` field: in every message of a node's first seconds and right after it changes, then in
one message a second, and a node that hears it keeps it in between. A real node, a real ZeroMQ
subscriber reading its frames, and a second node hearing it on loopback.
*/

import {afterEach, describe, expect, it} from 'vitest';
import * as zmq from 'zeromq';
import {decode} from '../../source/mesh/model/wire.js';
import {ChorusNode} from '../../source/mesh/node.js';
import {eventually, sleep, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';

const started: ChorusNode[] = [];
const sockets: zmq.Subscriber[] = [];
afterEach(async () => {
	for (const socket of sockets.splice(0)) {
		socket.close();
	}

	await Promise.all(started.splice(0).map(async (node) => node.stop()));
});

type Frame = {atMs: number; control: string | undefined};

describe('the control endpoint a node announces', () => {
	it('rides in every message of the first seconds, then once a second, and at once when it changes; a listener keeps it', async () => {
		const a = new ChorusNode(await testNodeOptions({id: 'a', bindEndpoint: loopback(await freePort()), hz: 10, ttlMs: 5000}));
		a.announceControl('tcp://127.0.0.1:5999');
		started.push(a);
		await a.start();
		const startedMs = performance.now();
		const subscriber = new zmq.Subscriber({linger: 0});
		sockets.push(subscriber);
		subscriber.connect(a.endpoint);
		subscriber.subscribe();
		const b = new ChorusNode(await testNodeOptions({id: 'b', bindEndpoint: loopback(await freePort()), hz: 10, ttlMs: 5000, peerEndpoints: [a.endpoint]}));
		started.push(b);
		await b.start();

		const frames: Frame[] = [];
		let reading = true;
		const read = (async () => {
			for await (const [frame] of subscriber) {
				const result = decode(frame!);
				if (result.ok) {
					frames.push({atMs: performance.now() - startedMs, control: result.message.control});
				}

				if (!reading) {
					return;
				}
			}
		})();

		await sleep(6000);
		a.announceControl('tcp://127.0.0.1:6000');
		await eventually('a message with the new endpoint', () => frames.some((frame) => frame.control === 'tcp://127.0.0.1:6000'), 2000, 10);
		reading = false;
		subscriber.close();
		await read.catch(() => undefined);

		// The slow joiner may miss the first few; what arrives in the first 2.5 s (under 30 ticks however
		// late they run) all carries it.
		const changed = frames.findIndex((frame) => frame.control === 'tcp://127.0.0.1:6000');
		const beforeChange = frames.slice(0, changed);
		const early = beforeChange.filter((frame) => frame.atMs < 2500);
		expect(early.length).toBeGreaterThan(10);
		expect(early.every((frame) => frame.control === 'tcp://127.0.0.1:5999')).toBe(true);
		// Then one message in ten (hz 10: once a second), counted in messages, not in seconds, so that a
		// slow machine's late ticks cannot move it.
		const thinFrom = beforeChange.findIndex((frame) => frame.control === undefined);
		expect(thinFrom).toBeGreaterThan(0);
		const thinned = beforeChange.slice(thinFrom);
		expect(thinned.length).toBeGreaterThanOrEqual(20);
		const carrying = thinned.filter((frame) => frame.control === 'tcp://127.0.0.1:5999').length;
		expect(carrying).toBeGreaterThanOrEqual(Math.floor(thinned.length / 10) - 1);
		expect(carrying).toBeLessThanOrEqual(Math.ceil(thinned.length / 10) + 1);
		// The change is in the first message after it, not a second later.
		const changedAtMs = frames[changed]!.atMs;
		expect(changedAtMs - beforeChange.at(-1)!.atMs).toBeLessThan(500);
		// b heard messages without the field in between, and kept what it was told, then took the new one.
		expect(b.heardPeers().find((peer) => peer.id === 'a')?.control).toMatch(/^tcp:\/\/127\.0\.0\.1:(5999|6000)$/);
		await eventually('b has the new endpoint', () => b.heardPeers().find((peer) => peer.id === 'a')?.control === 'tcp://127.0.0.1:6000', 2000, 10);
	});
});
