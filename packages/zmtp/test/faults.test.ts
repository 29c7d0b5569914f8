/**
The ZMTP engine when things go wrong: oversize frames, restarts, garbage and CURVE clients, mute
servers, refused dials, wrong socket types, bind errors, and both high-water marks.
*/

import net from 'node:net';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {encodeFrame} from '../src/frame.js';
import {OUR_GREETING} from '../src/greeting.js';
import {MAX_SUBSCRIPTIONS, ZmtpPublisher, type ZmtpPublisherEvent, type ZmtpPublisherOptions} from '../src/publisher.js';
import type {ZmtpSubscriber, ZmtpSubscriberEvent, ZmtpSubscriberOptions} from '../src/subscriber.js';
import {Cleanups, eventually, freePort, loopback, sleep, startSubscriber} from './helpers.js';

const cleanups = new Cleanups();
afterEach(async () => {
	await cleanups.run();
});

/** Small frames only, so that the oversize tests need no large payloads. */
function subscriber(endpoint: string, overrides: Partial<ZmtpSubscriberOptions> = {}): {sub: ZmtpSubscriber; events: ZmtpSubscriberEvent[]} {
	return startSubscriber(cleanups, endpoint, {maxMessageBytes: 1000, ...overrides});
}

async function xpublisher(endpoint: string): Promise<zmq.XPublisher> {
	const xpub = new zmq.XPublisher({linger: 0});
	cleanups.add(() => xpub.close());
	await xpub.bind(endpoint);
	return xpub;
}

/** A ZmtpPublisher with one zeromq.js XSUB connected to it, both closed by the cleanups. */
async function publisherWithXsub(options: ZmtpPublisherOptions): Promise<{pub: ZmtpPublisher; xsub: zmq.XSubscriber}> {
	const pub = new ZmtpPublisher(options);
	cleanups.add(() => pub.close());
	const endpoint = await pub.bind(loopback(await freePort()));
	const xsub = new zmq.XSubscriber({linger: 0});
	cleanups.add(() => xsub.close());
	xsub.connect(endpoint);
	await eventually('subscriber up', () => pub.subscriberCount === 1);
	return {pub, xsub};
}

const types = (events: Array<{type: string}>) => events.map((event) => event.type);

/** A raw TCP client of a ZmtpPublisher; resolves with whether the server closed it. */
async function rawClient(endpoint: string, bytes: Buffer): Promise<net.Socket> {
	const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
	const socket = net.connect({host: '127.0.0.1', port});
	cleanups.add(() => socket.destroy());
	socket.on('error', () => {});
	// Read (and discard) what the server sends, so that its closing is seen.
	socket.resume();
	socket.write(bytes);
	return socket;
}

describe('ZmtpSubscriber faults', () => {
	it('drops the link on a frame over maxMessageBytes, delivers nothing of it, and does not redial', async () => {
		const endpoint = loopback(await freePort());
		const xpub = await xpublisher(endpoint);
		const {sub, events} = subscriber(endpoint);
		await xpub.receive();
		await xpub.send('fine');
		await xpub.send(Buffer.alloc(1001, 1));
		await xpub.send('after');
		await eventually('dropped', () => events.some((event) => event.type === 'dropped'));
		expect(events).toEqual([{type: 'handshake'}, {type: 'dropped', reason: 'oversize', detail: expect.stringMatching(/1001-byte/)}]);
		expect(sub.receive()).toEqual([Buffer.from('fine')]);
		expect(sub.receive()).toBeUndefined();
		await sleep(400);
		expect(types(events)).toEqual(['handshake', 'dropped']);

		// The owner decides when to dial again.
		sub.connect();
		await eventually('handshake again', () => types(events).length === 3);
		expect(types(events)).toEqual(['handshake', 'dropped', 'handshake']);
	});

	it('counts a multipart message by its sum: frames within the limit that add up over it are dropped', async () => {
		const endpoint = loopback(await freePort());
		const xpub = await xpublisher(endpoint);
		const {sub, events} = subscriber(endpoint);
		await xpub.receive();
		await xpub.send([Buffer.alloc(600), Buffer.alloc(600)]);
		await eventually('dropped', () => events.some((event) => event.type === 'dropped'));
		expect(events[1]).toMatchObject({type: 'dropped', reason: 'oversize'});
		expect(sub.readable).toBe(false);
	});

	it('reports a publisher restart as disconnect, then handshakes again by itself', async () => {
		const endpoint = loopback(await freePort());
		const first = new zmq.XPublisher({linger: 0});
		await first.bind(endpoint);
		const {sub, events} = subscriber(endpoint);
		await first.receive();
		first.close();
		await eventually('disconnect', () => types(events).includes('disconnect'));

		const second = await xpublisher(endpoint);
		const [subscription] = await second.receive();
		expect(subscription).toEqual(Buffer.from([1]));
		await eventually('second handshake', () => types(events).filter((type) => type === 'handshake').length === 2);
		await second.send('back');
		await eventually('a message after the restart', () => sub.readable);
		expect(sub.receive()).toEqual([Buffer.from('back')]);
		// Between the two links only failed redials may appear.
		expect(types(events).filter((type) => type !== 'connect-failed')).toEqual(['handshake', 'disconnect', 'handshake']);
	});

	it('counts a server that accepts TCP but never greets as connect-failed within connectTimeoutMs, and redials', async () => {
		const port = await freePort();
		const accepted: net.Socket[] = [];
		const server = net.createServer((socket) => accepted.push(socket));
		cleanups.add(() => {
			server.close();
			for (const socket of accepted) {
				socket.destroy();
			}
		});
		await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
		const started = performance.now();
		const {events} = subscriber(loopback(port), {connectTimeoutMs: 300});
		await eventually('connect-failed', () => events.length > 0);
		const elapsedMs = performance.now() - started;
		expect(events[0]).toEqual({type: 'connect-failed', code: 'ETIMEDOUT'});
		expect(elapsedMs).toBeGreaterThanOrEqual(250);
		expect(elapsedMs).toBeLessThan(2000);
		await eventually('a redial', () => accepted.length >= 2);
	});

	it('reports a refused dial as connect-failed ECONNREFUSED and keeps redialling', async () => {
		const {events} = subscriber(loopback(await freePort()));
		await eventually('two failed dials', () => events.length >= 2);
		expect(events.slice(0, 2)).toEqual([
			{type: 'connect-failed', code: 'ECONNREFUSED'},
			{type: 'connect-failed', code: 'ECONNREFUSED'},
		]);
	});

	it('refuses a peer of the wrong socket type (PULL) with handshake-failed and no redial', async () => {
		const endpoint = loopback(await freePort());
		const pull = new zmq.Pull({linger: 0});
		cleanups.add(() => pull.close());
		await pull.bind(endpoint);
		const {events} = subscriber(endpoint);
		await eventually('handshake-failed', () => events.length > 0);
		await sleep(300);
		expect(events).toEqual([{type: 'handshake-failed', reason: expect.stringMatching(/PULL/)}]);
	});

	it('refuses a CURVE server with handshake-failed', async () => {
		const endpoint = loopback(await freePort());
		const keys = zmq.curveKeyPair();
		const pub = new zmq.Publisher({linger: 0, curveServer: true, curveSecretKey: keys.secretKey});
		cleanups.add(() => pub.close());
		await pub.bind(endpoint);
		const {events} = subscriber(endpoint);
		await eventually('handshake-failed', () => events.length > 0);
		expect(events[0]).toEqual({type: 'handshake-failed', reason: expect.stringMatching(/CURVE/)});
	});

	it('stops reading at its high-water mark, so the queue stays bounded, and resumes as it is read', async () => {
		const endpoint = loopback(await freePort());
		const pub = new zmq.Publisher({linger: 0, sendHighWaterMark: 1000});
		cleanups.add(() => pub.close());
		await pub.bind(endpoint);
		const {sub, events} = subscriber(endpoint, {highWaterMark: 50});
		await eventually('handshake', () => events.length > 0);
		const body = Buffer.alloc(100, 2);
		let sent = 0;
		let flooding = true;
		const flood = (async () => {
			while (flooding && sent < 200_000) {
				await pub.send(body);
				sent++;
			}
		})();
		cleanups.add(async () => {
			flooding = false;
			await flood.catch(() => {});
		});
		await eventually('the queue fills', () => sub.queued >= 50);
		await sleep(300);
		// One read's worth beyond the mark at most (a 64 KiB read holds ~640 of these).
		const queued = sub.queued;
		expect(queued).toBeLessThan(50 + 1000);
		expect(sent).toBeGreaterThan(queued);
		let read = 0;
		while (sub.receive() !== undefined) {
			read++;
		}

		expect(read).toBe(queued);
		await eventually('reading resumed', () => sub.queued > 0);
		flooding = false;
	});
});

describe('ZmtpPublisher faults', () => {
	async function publisher(events: ZmtpPublisherEvent[] = [], highWaterMark = 1000): Promise<{pub: ZmtpPublisher; endpoint: string}> {
		const pub = new ZmtpPublisher({highWaterMark, onEvent: (event) => events.push(event), handshakeTimeoutMs: 500});
		cleanups.add(() => pub.close());
		const endpoint = await pub.bind(loopback(await freePort()));
		return {pub, endpoint};
	}

	it('refuses garbage, a CURVE greeting, a REQ socket and a mute client, and goes on serving others', async () => {
		const events: ZmtpPublisherEvent[] = [];
		const {pub, endpoint} = await publisher(events);
		const good = new zmq.Subscriber({linger: 0, receiveTimeout: 5000});
		cleanups.add(() => good.close());
		good.subscribe();
		good.connect(endpoint);

		const garbage = await rawClient(endpoint, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
		const curveGreeting = Buffer.from(OUR_GREETING);
		curveGreeting.fill(0, 12, 32);
		curveGreeting.write('CURVE', 12, 'latin1');
		const curve = await rawClient(endpoint, curveGreeting);
		const request = new zmq.Request({linger: 0});
		cleanups.add(() => request.close());
		request.connect(endpoint);
		await rawClient(endpoint, Buffer.alloc(0));
		await eventually('four refusals', () => events.length >= 4);
		const reasons = events.map((event) => event.reason).join('\n');
		expect(reasons).toMatch(/ZMTP 1\.0/);
		expect(reasons).toMatch(/CURVE/);
		expect(reasons).toMatch(/REQ/);
		expect(events).toContainEqual({type: 'client-handshake-failed', reason: 'no handshake in time', code: 'ETIMEDOUT'});
		await eventually('the raw clients were closed', () => garbage.destroyed);
		await eventually('the CURVE client was closed', () => curve.destroyed);

		const timer = setInterval(() => pub.send('still-here'), 10);
		cleanups.add(() => clearInterval(timer));
		const [frame] = await good.receive();
		expect(frame?.toString()).toBe('still-here');
		expect(pub.subscriberCount).toBe(1);
	});

	it('closes an established subscriber that sends a frame over maxIncomingBytes', async () => {
		const {pub, xsub} = await publisherWithXsub({highWaterMark: 10, maxIncomingBytes: 100});
		await xsub.send(Buffer.alloc(101, 1));
		await eventually('closed', () => pub.droppedClients === 1);
	});

	it('closes a subscriber that asks for more than MAX_SUBSCRIPTIONS distinct prefixes', async () => {
		const {pub, xsub} = await publisherWithXsub({highWaterMark: 10});
		for (let index = 0; index < MAX_SUBSCRIPTIONS; index++) {
			await xsub.send(Buffer.from(`\u0001p${index}`));
		}

		await eventually('the last prefix within the cap is honoured', () => pub.send(`p${MAX_SUBSCRIPTIONS - 1}`) === 1);
		expect(pub.droppedClients).toBe(0);
		await xsub.send(Buffer.from('\u0001one-too-many'));
		await eventually('closed', () => pub.droppedClients === 1);
	});

	it('drops, never queues, past a subscriber high-water mark, and never blocks', async () => {
		const {pub, endpoint} = await publisher([], 10);
		const sub = new zmq.Subscriber({linger: 0});
		cleanups.add(() => sub.close());
		sub.subscribe();
		sub.connect(endpoint);
		await eventually('subscribed', () => pub.send('probe') === 1);
		await sleep(20);
		// In one synchronous burst the first send goes straight to the kernel and the rest are corked
		// until the tick ends, so they stay queued: the mark is accepted after the first, the rest dropped.
		let accepted = 0;
		for (let index = 0; index < 1000; index++) {
			accepted += pub.send(`burst-${index}`);
		}

		expect(accepted).toBeGreaterThanOrEqual(10);
		expect(accepted).toBeLessThanOrEqual(11);
		await sleep(20);
		expect(pub.send('later')).toBe(1);
	});

	it('writes a message larger than the kernel takes at once whole, and the next one after it', async () => {
		const {pub, endpoint} = await publisher([], 10);
		// A polled subscriber that does not fetch leaves everything in the kernel, which soon stops taking more.
		const {sub, events} = startSubscriber(cleanups, endpoint, {maxMessageBytes: 16 * 1024 * 1024, reading: 'polled'}, {fetchEveryMs: 0});
		await eventually('subscribed', () => events.some((event) => event.type === 'handshake') && pub.subscriberCount === 1);
		const large = Buffer.alloc(8 * 1024 * 1024);
		for (let index = 0; index < large.length; index += 4) {
			large.writeUInt32LE(index, index);
		}

		expect(pub.send(large)).toBe(1);
		await sleep(20);
		expect(pub.send('after')).toBe(1);
		const received: Buffer[] = [];
		await eventually(
			'both messages arrive',
			() => {
				sub.fetch();
				for (let frames = sub.receive(); frames !== undefined; frames = sub.receive()) {
					received.push(frames[0]!);
				}

				return received.length === 2;
			},
			10_000,
		);
		expect(received[0]!.equals(large)).toBe(true);
		expect(received[1]!.toString()).toBe('after');
	});

	it('rejects bind with the errno code: in use, not available, malformed', async () => {
		const {endpoint} = await publisher();
		const other = new ZmtpPublisher({highWaterMark: 10});
		cleanups.add(() => other.close());
		await expect(other.bind(endpoint)).rejects.toMatchObject({code: 'EADDRINUSE'});
		// 192.0.2.1 is TEST-NET-1, never a local address: bind fails without any packet sent.
		await expect(other.bind('tcp://192.0.2.1:5555')).rejects.toMatchObject({code: 'EADDRNOTAVAIL'});
		await expect(other.bind('tcp://127.0.0.1')).rejects.toMatchObject({code: 'EINVAL'});
		const bound = await other.bind('tcp://127.0.0.1:*');
		expect(bound).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
		expect(bound).not.toBe('tcp://127.0.0.1:0');
	});

	it('tolerates encodeFrame of a short and a long body as the wire expects', () => {
		expect(encodeFrame(Buffer.from('ab'), 0)).toEqual(Buffer.from([0, 2, 97, 98]));
		expect(encodeFrame(Buffer.alloc(256), 1).subarray(0, 9)).toEqual(Buffer.from([3, 0, 0, 0, 0, 0, 0, 1, 0]));
	});
});
