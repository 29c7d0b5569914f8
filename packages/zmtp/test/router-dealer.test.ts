/**
Conformance of ROUTER and DEALER against the reference implementation, libzmq (zeromq.js in this
process), on loopback, both ways: their DEALER and REQ to our ROUTER, our DEALER to their ROUTER; the
routing envelope, multipart messages, what waits for a link, redials after the peer restarts, and the
bounds (message size and parts, connections, sends to a peer that is gone or not yet there).
*/

import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {ZmtpDealer, type ZmtpDealerEvent, type ZmtpDealerOptions} from '../src/dealer.js';
import {ZmtpRouter, type ZmtpRouterEvent, type ZmtpRouterOptions} from '../src/router.js';
import {Cleanups, eventually, freePort, loopback} from './helpers.js';

const cleanups = new Cleanups();
afterEach(async () => {
	await cleanups.run();
});

type Received = {routingId: Buffer; frames: string[]};

/** Our ROUTER, bound on a free port, that answers every message with `reply:` and its last frame unless `echo` is false. */
async function startRouter(overrides: Partial<ZmtpRouterOptions> = {}, echo = true): Promise<{router: ZmtpRouter; endpoint: string; received: Received[]; events: ZmtpRouterEvent[]}> {
	const received: Received[] = [];
	const events: ZmtpRouterEvent[] = [];
	const router: ZmtpRouter = new ZmtpRouter({
		onMessage(routingId, frames) {
			received.push({routingId: Buffer.from(routingId), frames: frames.map(String)});
			if (echo) {
				// Back through the same envelope: a REQ's empty delimiter stays before the body.
				router.send(routingId, [...frames.slice(0, -1), `reply:${frames.at(-1)!.toString()}`]);
			}
		},
		onEvent(event) {
			events.push(event);
		},
		...overrides,
	});
	cleanups.add(() => {
		router.close();
	});
	const endpoint = await router.bind(loopback(await freePort()));
	return {router, endpoint, received, events};
}

function startDealer(endpoint: string, overrides: Partial<ZmtpDealerOptions> = {}): {dealer: ZmtpDealer; replies: string[][]; events: ZmtpDealerEvent[]} {
	const replies: string[][] = [];
	const events: ZmtpDealerEvent[] = [];
	const dealer = new ZmtpDealer({
		endpoint,
		onMessage(frames) {
			replies.push(frames.map(String));
		},
		onEvent(event) {
			events.push(event);
		},
		...overrides,
	});
	cleanups.add(() => {
		dealer.close();
	});
	dealer.connect();
	return {dealer, replies, events};
}

function zmqDealer(endpoint: string, options: ConstructorParameters<typeof zmq.Dealer>[0] = {}): zmq.Dealer {
	const dealer = new zmq.Dealer({linger: 0, ...options});
	cleanups.add(() => {
		dealer.close();
	});
	dealer.connect(endpoint);
	return dealer;
}

describe('libzmq to our ROUTER', () => {
	it('hands up a DEALER\'s multipart messages with a routing id per connection, and routes replies back to each', async () => {
		const {endpoint, received, events} = await startRouter();
		const one = zmqDealer(endpoint);
		const two = zmqDealer(endpoint);
		await one.send(['a', 'first']);
		await two.send(['b', 'second']);
		expect((await one.receive()).map(String)).toEqual(['a', 'reply:first']);
		expect((await two.receive()).map(String)).toEqual(['b', 'reply:second']);
		expect(received.map((message) => message.frames.join(' ')).sort((a, b) => a.localeCompare(b))).toEqual(['a first', 'b second']);
		// libzmq's form: five bytes, a zero byte first; one per connection.
		const ids = received.map((message) => message.routingId);
		expect(ids.every((id) => id.length === 5 && id[0] === 0)).toBe(true);
		expect(ids[0]!.equals(ids[1]!)).toBe(false);
		expect(events.filter((event) => event.type === 'connect')).toHaveLength(2);
		one.close();
		await eventually('the closed DEALER is reported gone', () => events.some((event) => event.type === 'disconnect'));
	});

	it('keeps a REQ socket\'s empty delimiter, so that REQ gets its reply', async () => {
		const {endpoint, received} = await startRouter();
		const request = new zmq.Request({linger: 0});
		cleanups.add(() => {
			request.close();
		});
		request.connect(endpoint);
		await request.send('hello');
		expect((await request.receive()).map(String)).toEqual(['reply:hello']);
		expect(received[0]!.frames).toEqual(['', 'hello']);
	});

	it('closes a connection whose message is over the size bound or has too many parts, counts it, and serves the others', async () => {
		const {endpoint, events} = await startRouter({maxMessageBytes: 1024, maxMessageParts: 8});
		const big = zmqDealer(endpoint);
		await big.send([Buffer.alloc(600), Buffer.alloc(600)]);
		await eventually('oversize refused', () => events.some((event) => event.type === 'client-refused' && event.reason === 'oversize'));
		const parts = zmqDealer(endpoint);
		await parts.send(Array.from({length: 20}, () => Buffer.alloc(0)));
		await eventually('too many parts refused', () => events.some((event) => event.type === 'client-refused' && event.reason === 'too-many-parts'));
		const good = zmqDealer(endpoint);
		await good.send('still here');
		expect((await good.receive()).map(String)).toEqual(['reply:still here']);
	});

	it('refuses a connection past maxConnections and a peer of the wrong socket type', async () => {
		const {router, endpoint, events} = await startRouter({maxConnections: 1});
		const first = zmqDealer(endpoint);
		await first.send('in');
		await first.receive();
		zmqDealer(endpoint);
		await eventually('the second is refused', () => events.some((event) => event.type === 'client-refused' && event.reason === 'max-connections'));
		expect(router.connectionCount).toBe(1);
		first.close();
		await eventually('the first has gone', () => router.connectionCount === 0);
		const publisher = new zmq.Publisher({linger: 0});
		cleanups.add(() => {
			publisher.close();
		});
		publisher.connect(endpoint);
		await eventually('a PUB is refused at its handshake', () => events.some((event) => event.type === 'client-handshake-failed'));
	});

	it('drops a message for a routing id that is not connected, as libzmq does', async () => {
		const {router} = await startRouter();
		expect(router.send(Buffer.from([0, 1, 2, 3, 4]), ['nobody'])).toBe(false);
	});
});

describe('our DEALER to libzmq', () => {
	it('sends what waited for the link, gets the ROUTER\'s replies, and comes back after the ROUTER restarts', async () => {
		const port = await freePort();
		const endpoint = loopback(port);
		const {dealer, replies, events} = startDealer(endpoint, {reconnectIntervalMs: 50, reconnectIntervalMaxMs: 200});
		// Nobody there yet: the message waits.
		expect(dealer.send(['early', 'one'])).toBe(true);
		const serve = async (router: zmq.Router, count: number) => {
			for (let index = 0; index < count; index++) {
				const [id, ...frames] = await router.receive();
				await router.send([id!, ...frames.slice(0, -1), `reply:${frames.at(-1)!.toString()}`]);
			}
		};

		let router = new zmq.Router({linger: 0});
		await router.bind(endpoint);
		await serve(router, 1);
		await eventually('the reply to what waited', () => replies.length === 1);
		expect(replies[0]).toEqual(['early', 'reply:one']);
		router.close();
		await eventually('the link is lost', () => events.some((event) => event.type === 'disconnect'));
		router = new zmq.Router({linger: 0});
		cleanups.add(() => {
			router.close();
		});
		await router.bind(endpoint);
		await eventually('redialled', () => dealer.connected, 5000);
		dealer.send(['again']);
		await serve(router, 1);
		await eventually('a reply after the restart', () => replies.length === 2);
		expect(replies[1]).toEqual(['reply:again']);
	});

	it('closes a link whose reply is over the bound, redials, and refuses sends past the waiting bound', async () => {
		const endpoint = loopback(await freePort());
		const router = new zmq.Router({linger: 0});
		cleanups.add(() => {
			router.close();
		});
		await router.bind(endpoint);
		const {dealer, replies, events} = startDealer(endpoint, {maxMessageBytes: 1000, reconnectIntervalMs: 50});
		dealer.send('big please');
		const [id] = await router.receive();
		await router.send([id!, Buffer.alloc(5000)]);
		await eventually('dropped oversize', () => events.some((event) => event.type === 'dropped' && event.reason === 'oversize'));
		await eventually('redialled', () => events.filter((event) => event.type === 'handshake').length >= 2, 5000);
		dealer.send('small please');
		const [id2] = await router.receive();
		await router.send([id2!, 'small']);
		await eventually('the small reply', () => replies.length === 1);
		expect(replies).toEqual([['small']]);

		const nowhere = startDealer(loopback(await freePort()), {sendHighWaterMark: 3});
		expect([1, 2, 3, 4].map((index) => nowhere.dealer.send(String(index)))).toEqual([true, true, true, false]);
	});
});

describe('our DEALER to our ROUTER', () => {
	it('exchanges requests and replies in order', async () => {
		const {endpoint} = await startRouter();
		const {dealer, replies} = startDealer(endpoint);
		for (let index = 0; index < 100; index++) {
			dealer.send(String(index));
		}

		await eventually('every reply', () => replies.length === 100);
		expect(replies.map((frames) => frames[0])).toEqual(Array.from({length: 100}, (_, index) => `reply:${index}`));
	});
});
