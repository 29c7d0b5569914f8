/**
Reading on demand, as a node reads: once the link is up the subscriber reads only when fetch() asks
(one wake-up per tick instead of one per message), yet loses nothing, and a backlog larger than
the socket buffers comes in whole and in order.
*/

import {afterEach, describe, expect, it} from 'vitest';
import {ZmtpPublisher} from '../../source/mesh/zmtp/publisher.js';
import {ZmtpSubscriber, type ZmtpSubscriberEvent} from '../../source/mesh/zmtp/subscriber.js';
import {freePort, loopback} from '../helpers/ports.js';
import {Cleanups, eventually, sleep} from './zmtp-helpers.js';

const cleanups = new Cleanups();
afterEach(async () => {
	await cleanups.run();
});

async function pair(): Promise<{pub: ZmtpPublisher; sub: ZmtpSubscriber}> {
	const pub = new ZmtpPublisher({highWaterMark: 100_000});
	cleanups.add(() => pub.close());
	const endpoint = await pub.bind(loopback(await freePort()));
	const events: ZmtpSubscriberEvent[] = [];
	const sub = new ZmtpSubscriber({
		endpoint,
		maxMessageBytes: 65_536,
		highWaterMark: 100_000,
		reconnectIntervalMs: 100,
		connectTimeoutMs: 1000,
		readOnDemand: true,
		onEvent: (event) => events.push(event),
	});
	cleanups.add(() => sub.close());
	sub.connect();
	await eventually('the link is up and the publisher has its subscriber', () => events.some((event) => event.type === 'handshake') && pub.subscriberCount === 1);
	return {pub, sub};
}

function receiveAll(sub: ZmtpSubscriber): string[] {
	const bodies: string[] = [];
	for (let frames = sub.receive(); frames !== undefined; frames = sub.receive()) {
		bodies.push(frames.map((frame) => frame.toString()).join('|'));
	}

	return bodies;
}

describe('ZmtpSubscriber reading on demand', () => {
	it('leaves what arrives in the socket until fetch(), then has all of it in order', async () => {
		const {pub, sub} = await pair();
		// The read that completed the handshake emptied the socket: reading is stopped now.
		for (let index = 0; index < 5; index++) {
			pub.send(`message ${index}`);
			// eslint-disable-next-line no-await-in-loop
			await sleep(20);
		}

		await sleep(100);
		expect(sub.queued).toBe(0);
		expect(sub.fetch()).toBe(true);
		await eventually('the five messages are read', () => sub.queued === 5);
		expect(receiveAll(sub)).toEqual([0, 1, 2, 3, 4].map((index) => `message ${index}`));

		// A fetch that finds nothing leaves reading on until the next arrival, which ends it again.
		pub.send('later');
		await sleep(100);
		expect(sub.queued).toBe(0);
		sub.fetch();
		await eventually('the later message is read', () => sub.queued === 1);
		sub.fetch();
		await sleep(50);
		pub.send('next');
		await eventually('a message after an empty fetch is read as it comes', () => sub.queued === 2);
		pub.send('after that');
		await sleep(100);
		expect(sub.queued).toBe(2);
		expect(receiveAll(sub)).toEqual(['later', 'next']);
	});

	it('reads a backlog larger than the socket buffers (1 MB) in order, fetch after fetch', async () => {
		const {pub, sub} = await pair();
		const body = 'x'.repeat(1000);
		for (let index = 0; index < 1000; index++) {
			pub.send(`${index} ${body}`);
		}

		// As a node's pump does under a flood: fetch again while a backlog lasts.
		await eventually('all 1000 messages are read', () => {
			sub.fetch();
			return sub.queued === 1000;
		}, 10_000);
		const bodies = receiveAll(sub);
		expect(bodies.map((text) => Number(text.split(' ')[0]))).toEqual(Array.from({length: 1000}, (_unused, index) => index));
	});
});
