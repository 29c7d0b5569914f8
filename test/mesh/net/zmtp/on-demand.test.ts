/**
Reading on demand, as a node reads: once the link is up the subscriber reads only when fetch() asks
(one wake-up per tick instead of one per message), yet loses nothing, and a backlog larger than
the socket buffers comes in whole and in order. 'polled' (what a node uses) reads inside fetch();
'on-demand' (its fallback where the socket has no descriptor) restarts the event loop's reading.
*/

import {afterEach, describe, expect, it} from 'vitest';
import {ZmtpPublisher} from '../../../../source/mesh/net/zmtp/publisher.js';
import type {ZmtpSubscriber, ZmtpSubscriberEvent, ZmtpSubscriberOptions} from '../../../../source/mesh/net/zmtp/subscriber.js';
import {freePort, loopback} from '../../../helpers/ports.js';
import {Cleanups, eventually, sleep, startSubscriber} from './helpers.js';

const cleanups = new Cleanups();
afterEach(async () => {
	await cleanups.run();
});

type Reading = NonNullable<ZmtpSubscriberOptions['reading']>;

async function pair(
	reading: Reading,
	overrides: Partial<ZmtpSubscriberOptions> = {},
): Promise<{pub: ZmtpPublisher; sub: ZmtpSubscriber; events: ZmtpSubscriberEvent[]; endpoint: string}> {
	const pub = new ZmtpPublisher({highWaterMark: 100_000});
	cleanups.add(() => pub.close());
	const endpoint = await pub.bind(loopback(await freePort()));
	const {sub, events} = startSubscriber(cleanups, endpoint, {highWaterMark: 100_000, reading, ...overrides});
	await eventually('the link is up and the publisher has its subscriber', () => events.some((event) => event.type === 'handshake') && pub.subscriberCount === 1);
	return {pub, sub, events, endpoint};
}

function receiveAll(sub: ZmtpSubscriber): string[] {
	const bodies: string[] = [];
	for (let frames = sub.receive(); frames !== undefined; frames = sub.receive()) {
		bodies.push(frames.map((frame) => frame.toString()).join('|'));
	}

	return bodies;
}

/** fetch(), then wait for what it started, as a node's tick does: a polled link needs no wait. */
async function fetchAndWait(sub: ZmtpSubscriber, reading: Reading, expected: number): Promise<void> {
	const restarted = sub.fetch();
	expect(restarted).toBe(reading === 'on-demand');
	if (reading === 'polled') {
		expect(sub.queued).toBe(expected);
	} else {
		await eventually(`${expected} message(s) are read`, () => sub.queued === expected);
	}
}

describe.each<Reading>(['polled', 'on-demand'])('ZmtpSubscriber reading %s', (reading) => {
	it('leaves what arrives in the socket until fetch(), then has all of it in order', async () => {
		const {pub, sub} = await pair(reading);
		// The read that completed the handshake emptied the socket: reading is stopped now.
		for (let index = 0; index < 5; index++) {
			pub.send(`message ${index}`);
			// eslint-disable-next-line no-await-in-loop
			await sleep(20);
		}

		await sleep(100);
		expect(sub.queued).toBe(0);
		await fetchAndWait(sub, reading, 5);
		expect(receiveAll(sub)).toEqual([0, 1, 2, 3, 4].map((index) => `message ${index}`));

		pub.send('later');
		await sleep(100);
		expect(sub.queued).toBe(0);
		await fetchAndWait(sub, reading, 1);
		// A fetch that finds nothing.
		sub.fetch();
		await sleep(50);
		if (reading === 'on-demand') {
			// Its reading stays on until the next arrival, which ends it again.
			pub.send('next');
			await eventually('a message after an empty fetch is read as it comes', () => sub.queued === 2);
		} else {
			pub.send('next');
			await sleep(100);
			expect(sub.queued).toBe(1);
			await fetchAndWait(sub, reading, 2);
		}

		pub.send('after that');
		await sleep(100);
		expect(sub.queued).toBe(2);
		expect(receiveAll(sub)).toEqual(['later', 'next']);
	});

	it('reads a backlog larger than the socket buffers (1 MB) in order, fetch after fetch', async () => {
		const {pub, sub} = await pair(reading);
		const body = 'x'.repeat(1000);
		for (let index = 0; index < 1000; index++) {
			pub.send(`${index} ${body}`);
		}

		// As a node's pump does under a flood: fetch again while a backlog lasts.
		await eventually(
			'all 1000 messages are read',
			() => {
				sub.fetch();
				return sub.queued === 1000;
			},
			10_000,
		);
		const bodies = receiveAll(sub);
		expect(bodies.map((text) => Number(text.split(' ')[0]))).toEqual(Array.from({length: 1000}, (_unused, index) => index));
	});

	it('stops reading at its high-water mark and takes the rest, in order, once the queue has room', async () => {
		const {pub, sub} = await pair(reading, {highWaterMark: 20});
		const body = 'y'.repeat(1000);
		for (let index = 0; index < 500; index++) {
			pub.send(`${index} ${body}`);
		}

		const numbers: number[] = [];
		await eventually(
			'all 500 messages are received',
			() => {
				sub.fetch();
				// Never far above the mark: one read's worth (64 KiB, about 64 of these) at most.
				expect(sub.queued).toBeLessThanOrEqual(20 + 70);
				for (let frames = sub.receive(); frames !== undefined; frames = sub.receive()) {
					numbers.push(Number(frames[0]!.toString().split(' ')[0]));
				}

				return numbers.length === 500;
			},
			10_000,
		);
		expect(numbers).toEqual(Array.from({length: 500}, (_unused, index) => index));
	});

	it('notices a publisher that went away, at the latest at the next fetch, and dials it again', async () => {
		const {pub, sub, events, endpoint} = await pair(reading);
		pub.send('before');
		await sleep(50);
		await pub.close();
		await eventually('the disconnect is reported', () => {
			sub.fetch();
			return events.some((event) => event.type === 'disconnect');
		});
		expect(receiveAll(sub)).toEqual(['before']);

		const again = new ZmtpPublisher({highWaterMark: 1000});
		cleanups.add(() => again.close());
		await again.bind(endpoint);
		await eventually('the link is up again', () => events.filter((event) => event.type === 'handshake').length === 2 && again.subscriberCount === 1);
		again.send('after');
		await eventually('the message of the new publisher is read', () => {
			sub.fetch();
			return sub.queued === 1;
		});
		expect(receiveAll(sub)).toEqual(['after']);
	});
});
