/**
How a link is read once it is up: only when fetch() asks (one wake-up per tick instead of one per
message), yet nothing is lost, and a backlog larger than the socket buffers comes in whole and in
order. 'polled' (the default, what a node uses) reads inside fetch(); 'on-demand' restarts the event
loop's reading; and 'polled' where the socket has no descriptor (Windows; emulated here by mocking
descriptorOf) falls back to on-demand and behaves exactly like it.
*/

import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest';
import type * as Descriptor from '../src/descriptor.js';
import {ZmtpPublisher} from '../src/publisher.js';
import type {ZmtpReading, ZmtpSubscriber, ZmtpSubscriberEvent, ZmtpSubscriberOptions} from '../src/subscriber.js';
import {Cleanups, eventually, freePort, loopback, sleep, startSubscriber} from './helpers.js';

/** Set by a case to make every socket look descriptor-less, as on Windows. */
const platform = vi.hoisted(() => ({noDescriptors: false}));

vi.mock('../src/descriptor.js', async (importOriginal) => {
	const original = await importOriginal<typeof Descriptor>();
	return {
		...original,
		descriptorOf: (socket: Parameters<typeof original.descriptorOf>[0]) => (platform.noDescriptors ? undefined : original.descriptorOf(socket)),
	};
});

const cleanups = new Cleanups();
afterEach(async () => {
	await cleanups.run();
	platform.noDescriptors = false;
});

type Case = {
	name: string;
	reading: ZmtpReading;
	/** How the link actually reads. */
	behaves: ZmtpReading;
	noDescriptors: boolean;
};

const cases: Case[] = [
	{name: 'polled', reading: 'polled', behaves: 'polled', noDescriptors: false},
	{name: 'on-demand', reading: 'on-demand', behaves: 'on-demand', noDescriptors: false},
	{name: 'polled without a descriptor (falls back to on-demand)', reading: 'polled', behaves: 'on-demand', noDescriptors: true},
];

async function pair(
	reading: ZmtpReading,
	overrides: Partial<ZmtpSubscriberOptions> = {},
): Promise<{pub: ZmtpPublisher; sub: ZmtpSubscriber; events: ZmtpSubscriberEvent[]; endpoint: string}> {
	const pub = new ZmtpPublisher({highWaterMark: 100_000});
	cleanups.add(() => pub.close());
	const endpoint = await pub.bind(loopback(await freePort()));
	// Fetched by the test alone: what arrives between fetches must stay in the socket.
	const {sub, events} = startSubscriber(cleanups, endpoint, {highWaterMark: 100_000, reading, ...overrides}, {fetchEveryMs: 0});
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
async function fetchAndWait(sub: ZmtpSubscriber, reading: ZmtpReading, expected: number): Promise<void> {
	const restarted = sub.fetch();
	expect(restarted).toBe(reading === 'on-demand');
	if (reading === 'polled') {
		expect(sub.queued).toBe(expected);
	} else {
		await eventually(`${expected} message(s) are read`, () => sub.queued === expected);
	}
}

describe.each(cases)('ZmtpSubscriber reading $name', ({reading: option, behaves: reading, noDescriptors}) => {
	beforeEach(() => {
		platform.noDescriptors = noDescriptors;
	});

	const pairOf = async (overrides: Partial<ZmtpSubscriberOptions> = {}) => pair(option, overrides);

	it('leaves what arrives in the socket until fetch(), then has all of it in order', async () => {
		const {pub, sub} = await pairOf();
		// The read that completed the handshake emptied the socket: reading is stopped now.
		for (let index = 0; index < 5; index++) {
			pub.send(`message ${index}`);
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
		const {pub, sub} = await pairOf();
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
		const {pub, sub} = await pairOf({highWaterMark: 20});
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
		const {pub, sub, events, endpoint} = await pairOf();
		pub.send('before');
		await sleep(50);
		pub.close();
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
