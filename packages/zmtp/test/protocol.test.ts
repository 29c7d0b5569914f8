/**
The ZMTP engine against hand-made peers that speak raw bytes: what libzmq peers seldom do (PING,
ZMTP 3.1 SUBSCRIBE commands, a broken stream after the handshake), IPv6, and a CURVE client.
*/

import net from 'node:net';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {encodeReady, parseCommand} from '../src/commands.js';
import {encodeCommand, encodeFrame, FLAG_COMMAND} from '../src/frame.js';
import {FrameDecoder} from '../src/frame-decoder.js';
import {GreetingReader, OUR_GREETING} from '../src/greeting.js';
import {ZmtpPublisher, type ZmtpPublisherEvent} from '../src/publisher.js';
import type {ZmtpSubscriber, ZmtpSubscriberEvent} from '../src/subscriber.js';
import {Cleanups, eventually, freePort, loopback, startSubscriber} from './helpers.js';

const cleanups = new Cleanups();
afterEach(async () => {
	await cleanups.run();
});

/** One side of a raw ZMTP conversation: greets with `socketType`, records the frames it gets. */
class RawPeer {
	readonly frames: Array<{command: boolean; name?: string; body: Buffer}> = [];
	readonly #greeting = new GreetingReader();
	readonly #decoder = new FrameDecoder({maxFrameBytes: 1 << 20, maxCommandBytes: 1 << 20}, (flags, body) => {
		const command = (flags & FLAG_COMMAND) !== 0;
		this.frames.push({command, name: command ? parseCommand(body)?.name : undefined, body: Buffer.from(body)});
	});

	constructor(readonly socket: net.Socket, socketType: string) {
		socket.on('error', () => {});
		socket.on('data', (chunk: Buffer) => {
			if (!this.#greeting.done) {
				chunk = chunk.subarray(this.#greeting.feed(chunk));
			}

			this.#decoder.push(chunk);
		});
		socket.write(Buffer.concat([OUR_GREETING, encodeReady(socketType)]));
		cleanups.add(() => socket.destroy());
	}

	commands(name: string): Buffer[] {
		return this.frames.filter((frame) => frame.name === name).map((frame) => parseCommand(frame.body)!.data);
	}

	messages(): string[] {
		return this.frames.filter((frame) => !frame.command).map((frame) => frame.body.toString());
	}
}

/** A raw server that accepts one connection and speaks as `socketType`. */
async function rawServer(socketType: string): Promise<{endpoint: string; peer: Promise<RawPeer>}> {
	const port = await freePort();
	let accept!: (peer: RawPeer) => void;
	const peer = new Promise<RawPeer>((resolve) => {
		accept = resolve;
	});
	const server = net.createServer((socket) => accept(new RawPeer(socket, socketType)));
	cleanups.add(() => server.close());
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
	return {endpoint: loopback(port), peer};
}

function subscriber(endpoint: string): {sub: ZmtpSubscriber; events: ZmtpSubscriberEvent[]} {
	return startSubscriber(cleanups, endpoint, {maxMessageBytes: 1000, highWaterMark: 100, subscribe: 'topic'});
}

describe('ZmtpSubscriber with a raw peer', () => {
	it('answers PING with PONG echoing the context, skips unknown commands, then drops a broken stream as protocol', async () => {
		const {endpoint, peer: accepted} = await rawServer('XPUB');
		const {sub, events} = subscriber(endpoint);
		const peer = await accepted;
		await eventually('handshake', () => events.length > 0);
		expect(events).toEqual([{type: 'handshake'}]);
		await eventually('our READY and subscription', () => peer.messages().length > 0);
		expect(peer.commands('READY')).toEqual([Buffer.from('\u000BSocket-Type\u0000\u0000\u0000\u0003SUB', 'latin1')]);
		expect(peer.messages()).toEqual(['\u0001topic']);

		// PING: TTL (2 bytes) then context.
		peer.socket.write(
			Buffer.concat([
				encodeCommand('PING', Buffer.from('\u0000\u0064ctx-42', 'latin1')),
				encodeCommand('FUTURE', Buffer.from('ignored')),
				encodeFrame(Buffer.from('topic-1'), 0),
			]),
		);
		await eventually('PONG', () => peer.commands('PONG').length > 0);
		expect(peer.commands('PONG')).toEqual([Buffer.from('ctx-42')]);
		await eventually('topic-1', () => sub.readable);
		expect(sub.receive()).toEqual([Buffer.from('topic-1')]);

		peer.socket.write(Buffer.from([0xf0, 1, 0]));
		await eventually('dropped', () => events.length > 1);
		expect(events[1]).toEqual({type: 'dropped', reason: 'protocol', detail: expect.stringMatching(/reserved flag/)});
	});

	it('refuses a peer that sends a message before READY, as handshake-failed', async () => {
		const port = await freePort();
		const server = net.createServer((socket) => {
			socket.on('error', () => {});
			socket.write(Buffer.concat([OUR_GREETING, encodeFrame(Buffer.from('too soon'), 0)]));
		});
		cleanups.add(() => server.close());
		await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
		const {events} = subscriber(loopback(port));
		await eventually('handshake-failed', () => events.length > 0);
		expect(events[0]).toEqual({type: 'handshake-failed', reason: expect.stringMatching(/before READY/)});
	});
});

describe('ZmtpPublisher with raw and CURVE clients', () => {
	it('accepts ZMTP 3.1 SUBSCRIBE and CANCEL commands', async () => {
		const publisher = new ZmtpPublisher({highWaterMark: 100});
		cleanups.add(() => publisher.close());
		const endpoint = await publisher.bind('tcp://127.0.0.1:*');
		const port = Number(endpoint.split(':').at(-1));
		const peer = new RawPeer(net.connect({host: '127.0.0.1', port}), 'SUB');
		peer.socket.write(Buffer.concat([encodeCommand('SUBSCRIBE', Buffer.from('a')), encodeCommand('SUBSCRIBE', Buffer.from('b'))]));
		await eventually('subscribed', () => publisher.send('a-probe') === 1);
		peer.socket.write(encodeCommand('CANCEL', Buffer.from('a')));
		await eventually('a cancelled', () => publisher.send('a-probe') === 0);
		publisher.send('b-1');
		await eventually('b-1', () => peer.messages().includes('b-1'));
		expect(peer.commands('READY')).toEqual([Buffer.from('\u000BSocket-Type\u0000\u0000\u0000\u0003PUB', 'latin1')]);
	});

	it('reports a CURVE client as client-handshake-failed and keeps serving', async () => {
		const events: ZmtpPublisherEvent[] = [];
		const publisher = new ZmtpPublisher({highWaterMark: 100, onEvent: (event) => events.push(event)});
		cleanups.add(() => publisher.close());
		const endpoint = await publisher.bind(loopback(await freePort()));
		const server = zmq.curveKeyPair();
		const client = zmq.curveKeyPair();
		const curve = new zmq.Subscriber({linger: 0, curveServerKey: server.publicKey, curvePublicKey: client.publicKey, curveSecretKey: client.secretKey});
		cleanups.add(() => curve.close());
		curve.subscribe();
		curve.connect(endpoint);
		await eventually('refusal', () => events.length > 0);
		expect(events[0]).toMatchObject({type: 'client-handshake-failed', reason: expect.stringMatching(/CURVE/)});
		expect(publisher.subscriberCount).toBe(0);
	});

	it('speaks over IPv6 loopback both ways', async () => {
		const publisher = new ZmtpPublisher({highWaterMark: 100});
		cleanups.add(() => publisher.close());
		const endpoint = await publisher.bind('tcp://[::1]:*');
		expect(endpoint).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
		const {sub, events} = subscriber(endpoint);
		await eventually('handshake', () => events.length > 0);
		await eventually('topic over IPv6', () => {
			publisher.send('topic-v6');
			return sub.readable;
		});
		expect(sub.receive()).toEqual([Buffer.from('topic-v6')]);
	});
});
