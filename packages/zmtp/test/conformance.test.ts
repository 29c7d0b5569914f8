/**
Conformance: the engine against the reference implementation, libzmq, on loopback. zeromq.js
(libzmq 4.3.5) runs in this process and pyzmq (Debian's python3-zmq, libzmq 4.3.4) in a child
process, in both directions: their PUB to our SUB and our PUB to their SUB. Also: peers announcing
ZMTP 3.0 and 3.1 (libzmq announces 3.1; a 3.0 peer is emulated with raw bytes), subscription
prefixes and cancels, reconnects after either side restarts, the high-water marks, and frames over
the size limit in both directions.
*/

import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import net from 'node:net';
import {createInterface} from 'node:readline';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {encodeReady, parseCommand} from '../src/commands.js';
import {encodeCommand, encodeFrame, FLAG_COMMAND} from '../src/frame.js';
import {FrameDecoder} from '../src/frame-decoder.js';
import {GreetingReader, OUR_GREETING} from '../src/greeting.js';
import {ZmtpPublisher} from '../src/publisher.js';
import type {ZmtpSubscriber, ZmtpSubscriberEvent, ZmtpSubscriberOptions} from '../src/subscriber.js';
import {Cleanups, eventually, freePort, loopback, sleep, startSubscriber} from './helpers.js';

const cleanups = new Cleanups();
afterEach(async () => {
	await cleanups.run();
});

function subscriber(endpoint: string, overrides: Partial<ZmtpSubscriberOptions> = {}): {sub: ZmtpSubscriber; events: ZmtpSubscriberEvent[]} {
	return startSubscriber(cleanups, endpoint, overrides);
}

/** Everything queued now, as arrays of strings. */
function drain(sub: ZmtpSubscriber): Buffer[][] {
	const messages: Buffer[][] = [];
	for (let frames = sub.receive(); frames !== undefined; frames = sub.receive()) {
		messages.push(frames);
	}

	return messages;
}

/**
A PUB drops what it sends before the subscription reaches it, so send probes until one arrives.
Returns the messages that came with the probe that got through, probes left out.
*/
async function untilFlowing(sub: ZmtpSubscriber, sendProbe: () => unknown, isProbe: (frames: Buffer[]) => boolean): Promise<Buffer[][]> {
	const other: Buffer[][] = [];
	await eventually('a probe gets through', () => {
		void sendProbe();
		let seen = false;
		for (const frames of drain(sub)) {
			if (isProbe(frames)) {
				seen = true;
			} else {
				other.push(frames);
			}
		}

		return seen;
	});
	return other;
}

const isProbe = (frames: Buffer[]) => frames[0]?.toString() === 'probe';

/** Receive from a zeromq.js socket until `last` arrives; probes are left out. */
async function receiveUntil(socket: zmq.Subscriber | zmq.XSubscriber, last: string): Promise<string[]> {
	const received: string[] = [];
	for (;;) {
		const [frame] = await socket.receive();
		const text = frame!.toString();
		if (!text.endsWith('probe')) {
			received.push(text);
		}

		if (text === last) {
			return received;
		}
	}
}

/** Publish `probe` (matching the subscription) every 10 ms until the zeromq.js socket receives one. */
async function probeUntilReceived(publisher: ZmtpPublisher, socket: zmq.Subscriber | zmq.XSubscriber, probe: string): Promise<void> {
	const timer = setInterval(() => publisher.send(probe), 10);
	try {
		for (;;) {
			const [frame] = await socket.receive();
			if (frame!.toString() === probe) {
				break;
			}
		}
	} finally {
		clearInterval(timer);
	}

	// Probes still in flight arrive later; receiveUntil leaves them out.
}

async function zmqSubscriber<T extends zmq.Subscriber | zmq.XSubscriber>(socket: T, endpoint: string): Promise<T> {
	cleanups.add(() => socket.close());
	socket.connect(endpoint);
	return socket;
}

async function ourPublisher(): Promise<{publisher: ZmtpPublisher; endpoint: string}> {
	const publisher = new ZmtpPublisher({highWaterMark: 1000});
	cleanups.add(() => publisher.close());
	const endpoint = await publisher.bind(loopback(await freePort()));
	return {publisher, endpoint};
}

describe('zeromq.js publishers to a ZmtpSubscriber', () => {
	it('receives single-frame, multipart and 300-byte (long-size) messages byte for byte', async () => {
		const endpoint = loopback(await freePort());
		const publisher = new zmq.Publisher({linger: 0});
		cleanups.add(() => publisher.close());
		await publisher.bind(endpoint);
		const {sub, events} = subscriber(endpoint);
		await eventually('handshake', () => events.some((event) => event.type === 'handshake'));
		await untilFlowing(sub, async () => publisher.send('probe'), isProbe);

		const everyByte = Buffer.from(Array.from({length: 256}, (_, index) => index));
		const long = Buffer.alloc(300, 0xab);
		await publisher.send('{"node_id": "ee15c401", "phase": 0.0, "lamport_time": 64}');
		await publisher.send(['head', everyByte, Buffer.alloc(0)]);
		await publisher.send(long);
		await publisher.send('last');
		const received: Buffer[][] = [];
		await eventually('all four messages', () => {
			received.push(...drain(sub).filter((frames) => !isProbe(frames)));
			return received.length >= 4;
		});
		expect(received).toEqual([
			[Buffer.from('{"node_id": "ee15c401", "phase": 0.0, "lamport_time": 64}')],
			[Buffer.from('head'), everyByte, Buffer.alloc(0)],
			[long],
			[Buffer.from('last')],
		]);
		expect(sub.readable).toBe(false);
		expect(sub.receive()).toBeUndefined();
		expect(events).toEqual([{type: 'handshake'}]);
	});

	it('sends its subscription as ZMTP 3.0 does (1, then the prefix), which an XPUB sees and a PUB applies', async () => {
		const endpoint = loopback(await freePort());
		const xpub = new zmq.XPublisher({linger: 0});
		cleanups.add(() => xpub.close());
		await xpub.bind(endpoint);
		const {sub, events} = subscriber(endpoint, {subscribe: 'abc'});
		const [subscription] = await xpub.receive();
		expect(subscription).toEqual(Buffer.from('\u0001abc'));
		await eventually('handshake', () => events.some((event) => event.type === 'handshake'));

		// The XPUB filters by our subscription: only abc… gets through.
		await xpub.send('xyz-1');
		await xpub.send('abc-1');
		await xpub.send('ab');
		await xpub.send('abc-2');
		const received: string[] = [];
		await eventually('abc-2', () => {
			received.push(...drain(sub).map((frames) => frames[0]!.toString()));
			return received.includes('abc-2');
		});
		expect(received).toEqual(['abc-1', 'abc-2']);
	});
});

describe('a ZmtpPublisher to zeromq.js subscribers', () => {
	it('filters by prefix, several subscriptions at once', async () => {
		const {publisher, endpoint} = await ourPublisher();
		const socket = await zmqSubscriber(new zmq.Subscriber({linger: 0, receiveTimeout: 5000}), endpoint);
		socket.subscribe('a', 'b');
		await probeUntilReceived(publisher, socket, 'a-probe');
		expect(publisher.subscriberCount).toBe(1);
		for (const text of ['c-1', 'a-1', 'b-1', '', 'x', 'a-end']) {
			publisher.send(text);
		}

		expect(await receiveUntil(socket, 'a-end')).toEqual(['a-1', 'b-1', 'a-end']);
	});

	it('honours a cancel from an XSUB, and keeps a prefix subscribed twice until cancelled twice', async () => {
		const {publisher, endpoint} = await ourPublisher();
		const socket = await zmqSubscriber(new zmq.XSubscriber({linger: 0, receiveTimeout: 5000}), endpoint);
		await socket.send(Buffer.from('\u0001t'));
		await socket.send(Buffer.from('\u0001t'));
		await socket.send(Buffer.from('\u0001u'));
		await probeUntilReceived(publisher, socket, 'u-probe');
		await socket.send(Buffer.from('\u0000t'));
		await socket.send(Buffer.from('\u0000u'));
		await socket.send(Buffer.from('\u0001v'));
		// v's subscription follows the cancels on the same connection: once v flows they are applied.
		await probeUntilReceived(publisher, socket, 'v-probe');
		for (const text of ['t-still', 'u-gone', 'v-end']) {
			publisher.send(text);
		}

		expect(await receiveUntil(socket, 'v-end')).toEqual(['t-still', 'v-end']);
	});

	it('reaches a ZmtpSubscriber too (the engine on both ends)', async () => {
		const {publisher, endpoint} = await ourPublisher();
		const {sub, events} = subscriber(endpoint, {subscribe: 'keep'});
		await eventually('handshake', () => events.some((event) => event.type === 'handshake'));
		await untilFlowing(sub, () => publisher.send('keep-probe'), (frames) => frames[0]!.toString() === 'keep-probe');
		expect(publisher.send('drop-1')).toBe(0);
		expect(publisher.send('keep-1')).toBe(1);
		expect(publisher.send(Buffer.alloc(70_000, 1))).toBe(0);
		const received: string[] = [];
		await eventually('keep-1', () => {
			received.push(...drain(sub).map((frames) => frames[0]!.toString()));
			return received.includes('keep-1');
		});
		expect(received.filter((text) => text !== 'keep-probe')).toEqual(['keep-1']);
	});
});

/** A python3 child with Debian's python3-zmq. `import zmq` failing fails the test: CI installs it. */
function python(script: string, args: string[]): {child: ChildProcessWithoutNullStreams; lines: string[]; stderr: () => string} {
	const child = spawn('/usr/bin/python3', ['-c', script, ...args], {stdio: ['pipe', 'pipe', 'pipe']});
	cleanups.add(() => child.kill('SIGKILL'));
	const lines: string[] = [];
	let stderr = '';
	child.stderr.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
	createInterface({input: child.stdout}).on('line', (line) => lines.push(line));
	return {child, lines, stderr: () => stderr};
}

const PY_PUB = `
import sys, time, zmq
pub = zmq.Context.instance().socket(zmq.PUB)
pub.bind(sys.argv[1])
print("bound", flush=True)
for i in range(2000):
    pub.send_json({"node_id": "py", "phase": 0.5, "lamport_time": i})
    pub.send_multipart([b"py", str(i).encode(), b"x" * 300])
    time.sleep(0.005)
`;

const PY_SUB = `
import sys, zmq
sub = zmq.Context.instance().socket(zmq.SUB)
sub.setsockopt(zmq.RCVTIMEO, 8000)
sub.setsockopt(zmq.SUBSCRIBE, sys.argv[2].encode())
sub.connect(sys.argv[1])
for _ in range(5):
    frames = sub.recv_multipart()
    print(b"|".join(frames).decode(), flush=True)
`;

describe('pyzmq (libzmq 4.3.4) interop', () => {
	it('a pyzmq PUB reaches a ZmtpSubscriber: send_json and a multipart with a long frame', async () => {
		const endpoint = loopback(await freePort());
		const py = python(PY_PUB, [endpoint]);
		await eventually(`python bound (stderr: ${py.stderr()})`, () => py.lines.includes('bound') || py.stderr().length > 0, 10_000);
		expect(py.stderr()).toBe('');
		const {sub, events} = subscriber(endpoint);
		const received: Buffer[][] = [];
		await eventually('ten messages from pyzmq', () => {
			received.push(...drain(sub));
			return received.length >= 10;
		}, 10_000);
		expect(events[0]).toEqual({type: 'handshake'});
		const json = received.find((frames) => frames.length === 1)!;
		expect(JSON.parse(json[0]!.toString())).toMatchObject({node_id: 'py', phase: 0.5});
		const multipart = received.find((frames) => frames.length === 3)!;
		expect(multipart[0]!.toString()).toBe('py');
		expect(multipart[2]).toEqual(Buffer.alloc(300, 'x'));
	});

	it('a ZmtpPublisher reaches a pyzmq SUB, which filters by its prefix', async () => {
		const {publisher, endpoint} = await ourPublisher();
		const py = python(PY_SUB, [endpoint, 'keep']);
		const timer = setInterval(() => {
			publisher.send('drop-me');
			publisher.send(['keep', 'x'.repeat(300)].join('-'));
		}, 10);
		cleanups.add(() => clearInterval(timer));
		await eventually(`five lines from pyzmq (stderr: ${py.stderr()})`, () => py.lines.length >= 5 || py.stderr().length > 0, 10_000);
		expect(py.stderr()).toBe('');
		expect(py.lines).toHaveLength(5);
		for (const line of py.lines) {
			expect(line).toBe(`keep-${'x'.repeat(300)}`);
		}
	});
});

/** A greeting like ours (NULL, as-server 0) that announces ZMTP 3.`minor`. */
function greeting(minor: number): Buffer {
	const bytes = Buffer.from(OUR_GREETING);
	bytes[11] = minor;
	return bytes;
}

/** One side of a raw ZMTP conversation over `socket`: the peer's greeting, then its frames as they come. */
class RawZmtp {
	readonly greeting = new GreetingReader();
	readonly frames: Array<{command: boolean; name?: string; body: Buffer}> = [];
	readonly #decoder = new FrameDecoder({maxFrameBytes: 1 << 20, maxCommandBytes: 1 << 20}, (flags, body) => {
		const command = (flags & FLAG_COMMAND) !== 0;
		this.frames.push({command, name: command ? parseCommand(body)?.name : undefined, body: Buffer.from(body)});
	});

	constructor(
		readonly socket: net.Socket,
		minor: number,
		socketType: string,
	) {
		socket.on('error', () => {});
		socket.on('data', (chunk: Buffer) => {
			if (!this.greeting.done) {
				chunk = chunk.subarray(this.greeting.feed(chunk));
			}

			this.#decoder.push(chunk);
		});
		socket.write(Buffer.concat([greeting(minor), encodeReady(socketType)]));
		cleanups.add(() => socket.destroy());
	}

	messages(): string[] {
		return this.frames.filter((frame) => !frame.command).map((frame) => frame.body.toString('latin1'));
	}

	commands(name: string): string[] {
		return this.frames.filter((frame) => frame.name === name).map((frame) => parseCommand(frame.body)!.data.toString('latin1'));
	}
}

/** A raw TCP server whose first connection speaks ZMTP 3.`minor` as `socketType`. */
async function rawServer(minor: number, socketType: string): Promise<{endpoint: string; peer: Promise<RawZmtp>}> {
	const port = await freePort();
	let accept!: (peer: RawZmtp) => void;
	const peer = new Promise<RawZmtp>((resolve) => {
		accept = resolve;
	});
	const server = net.createServer((socket) => {
		accept(new RawZmtp(socket, minor, socketType));
	});
	cleanups.add(() => server.close());
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
	return {endpoint: loopback(port), peer};
}

describe('ZMTP 3.0 and 3.1 peers', () => {
	it('libzmq announces ZMTP 3.1', async () => {
		const endpoint = loopback(await freePort());
		const publisher = new zmq.Publisher({linger: 0});
		cleanups.add(() => publisher.close());
		await publisher.bind(endpoint);
		const peer = new RawZmtp(net.connect({host: '127.0.0.1', port: Number(endpoint.split(':').at(-1))}), 0, 'SUB');
		await eventually('its greeting', () => peer.greeting.greeting);
		expect(peer.greeting.greeting).toEqual({major: 3, minor: 1, mechanism: 'NULL'});
	});

	// What our publisher must understand: libzmq subscribes with a message when the publisher said 3.0
	// (as ours does), with a SUBSCRIBE command when it said 3.1 (RFC 37).
	it.each([
		[0, 'a message, 1 then the prefix', (peer: RawZmtp) => peer.messages(), ['\u0001abc']],
		[1, 'a SUBSCRIBE command', (peer: RawZmtp) => peer.commands('SUBSCRIBE'), ['abc']],
	])('a libzmq SUB subscribes to a ZMTP 3.%i publisher with %s', async (minor, _how, subscriptions, expected) => {
		const {endpoint, peer: accepted} = await rawServer(minor, 'PUB');
		const socket = new zmq.Subscriber({linger: 0});
		cleanups.add(() => socket.close());
		socket.subscribe('abc');
		socket.connect(endpoint);
		const peer = await accepted;
		await eventually('the subscription', () => subscriptions(peer).length > 0);
		expect(subscriptions(peer)).toEqual(expected);
	});

	it.each([0, 1])('a ZMTP 3.%i subscriber gets what it subscribed to from a ZmtpPublisher, in its own form', async (minor) => {
		const {publisher, endpoint} = await ourPublisher();
		const peer = new RawZmtp(net.connect({host: '127.0.0.1', port: Number(endpoint.split(':').at(-1))}), minor, 'SUB');
		const subscribe = (prefix: string) => (minor === 0 ? encodeFrame(Buffer.from(`\u0001${prefix}`), 0) : encodeCommand('SUBSCRIBE', Buffer.from(prefix)));
		const cancel = (prefix: string) => (minor === 0 ? encodeFrame(Buffer.from(`\u0000${prefix}`), 0) : encodeCommand('CANCEL', Buffer.from(prefix)));
		peer.socket.write(Buffer.concat([subscribe('a'), subscribe('b')]));
		await eventually('subscribed', () => publisher.send('a-probe') === 1);
		peer.socket.write(cancel('a'));
		await eventually('a cancelled', () => publisher.send('a-probe') === 0);
		publisher.send('c-1');
		publisher.send('b-1');
		await eventually('b-1', () => peer.messages().includes('b-1'));
		expect(peer.messages().filter((text) => text !== 'a-probe')).toEqual(['b-1']);
		expect(peer.greeting.greeting).toEqual({major: 3, minor: 0, mechanism: 'NULL'});
	});

	it.each([0, 1])('a ZMTP 3.%i publisher gets our subscription as a 3.0 message and reaches a ZmtpSubscriber', async (minor) => {
		const {endpoint, peer: accepted} = await rawServer(minor, 'PUB');
		const {sub, events} = subscriber(endpoint, {subscribe: 'topic'});
		const peer = await accepted;
		await eventually('our subscription', () => peer.messages().length > 0);
		// We announce 3.0, so a 3.1 peer talks 3.0 to us: the subscription is a message either way.
		expect(peer.messages()).toEqual(['\u0001topic']);
		peer.socket.write(Buffer.concat([encodeFrame(Buffer.from('topic-1'), 0), encodeFrame(Buffer.from('topic-2'), 0)]));
		const received: string[] = [];
		await eventually('both messages', () => {
			received.push(...drain(sub).map((frames) => frames[0]!.toString()));
			return received.length === 2;
		});
		expect(received).toEqual(['topic-1', 'topic-2']);
		expect(events).toEqual([{type: 'handshake'}]);
	});
});

describe('reconnects', () => {
	it('a zeromq.js SUB comes back to a ZmtpPublisher restarted on the same port', async () => {
		const {publisher, endpoint} = await ourPublisher();
		const socket = await zmqSubscriber(new zmq.Subscriber({linger: 0, receiveTimeout: 5000, reconnectInterval: 50}), endpoint);
		socket.subscribe();
		await probeUntilReceived(publisher, socket, 'first-probe');
		publisher.close();
		const again = new ZmtpPublisher({highWaterMark: 1000});
		cleanups.add(() => again.close());
		expect(await again.bind(endpoint)).toBe(endpoint);
		await probeUntilReceived(again, socket, 'second-probe');
		again.send('after-restart');
		expect(await receiveUntil(socket, 'after-restart')).toContain('after-restart');
	});

	it('a ZmtpSubscriber comes back to a pyzmq PUB restarted on the same port', async () => {
		const endpoint = loopback(await freePort());
		const first = python(PY_PUB, [endpoint]);
		const {sub, events} = subscriber(endpoint);
		await eventually(`a message from the first pyzmq (stderr: ${first.stderr()})`, () => drain(sub).length > 0, 10_000);
		first.child.kill('SIGKILL');
		await eventually('the disconnect', () => events.some((event) => event.type === 'disconnect'));
		drain(sub);
		const second = python(PY_PUB, [endpoint]);
		await eventually(`a message from the second pyzmq (stderr: ${second.stderr()})`, () => drain(sub).length > 0, 10_000);
		expect(events.filter((event) => event.type !== 'connect-failed').map((event) => event.type)).toEqual(['handshake', 'disconnect', 'handshake']);
	});
});

const PY_FLOOD = `
import sys, zmq
pub = zmq.Context.instance().socket(zmq.PUB)
pub.setsockopt(zmq.SNDHWM, 100000)
pub.bind(sys.argv[1])
i = 0
while True:
    pub.send(b"%d %s" % (i, b"f" * 200))
    i += 1
`;

/** The sequence numbers of "n …" messages. */
const numbers = (messages: Buffer[][]) => messages.map((frames) => Number(frames[0]!.toString('latin1').split(' ')[0]));

function increasing(values: number[]): boolean {
	return values.every((value, index) => index === 0 || value > values[index - 1]!);
}

describe('high-water marks', () => {
	it('a ZmtpSubscriber flooded by pyzmq stops reading at its mark, loses no order, and reads on once taken from', async () => {
		const endpoint = loopback(await freePort());
		const py = python(PY_FLOOD, [endpoint]);
		const {sub} = subscriber(endpoint, {highWaterMark: 50});
		await eventually(`the queue fills (stderr: ${py.stderr()})`, () => sub.queued >= 50, 10_000);
		await sleep(200);
		// One read's worth beyond the mark at most: 64 KiB holds about 300 of these.
		expect(sub.queued).toBeLessThan(50 + 330);
		const first = numbers(drain(sub));
		expect(increasing(first)).toBe(true);
		await eventually('reading resumed', () => sub.queued >= 50);
		const second = numbers(drain(sub));
		expect(increasing([...first, ...second])).toBe(true);
	});

	it('a ZmtpPublisher never waits for a zeromq.js SUB that does not read: it drops past the mark, in order', async () => {
		const publisher = new ZmtpPublisher({highWaterMark: 100});
		cleanups.add(() => publisher.close());
		const endpoint = await publisher.bind(loopback(await freePort()));
		const socket = await zmqSubscriber(new zmq.Subscriber({linger: 0, receiveHighWaterMark: 100, receiveTimeout: 300}), endpoint);
		socket.subscribe('');
		await probeUntilReceived(publisher, socket, 'probe');
		// Far more than the kernel's buffers and both marks hold, one send per turn as a node sends per tick.
		const total = 20_000;
		const body = 'p'.repeat(1000);
		const started = performance.now();
		for (let index = 0; index < total; index++) {
			publisher.send(`${index} ${body}`);
			if (index % 100 === 99) {
				await new Promise((resolve) => setImmediate(resolve));
			}
		}

		expect(performance.now() - started).toBeLessThan(5000);
		const received: number[] = [];
		for (;;) {
			try {
				const [frame] = await socket.receive();
				const text = frame!.toString('latin1');
				if (text !== 'probe') {
					received.push(Number(text.split(' ')[0]));
				}
			} catch {
				break;
			}
		}

		expect(received.length).toBeGreaterThan(0);
		expect(received.length).toBeLessThan(total);
		expect(increasing(received)).toBe(true);
	});
});

const PY_OVERSIZE = `
import sys, time, zmq
pub = zmq.Context.instance().socket(zmq.PUB)
pub.bind(sys.argv[1])
i = 0
while True:
    pub.send(b"small-%d" % i)
    if i % 20 == 19:
        pub.send(b"o" * 2000)
    i += 1
    time.sleep(0.005)
`;

describe('frames over the size limit', () => {
	it('a ZmtpSubscriber drops a pyzmq PUB that sends one, delivers nothing of it, and leaves the redial to its owner', async () => {
		const endpoint = loopback(await freePort());
		const py = python(PY_OVERSIZE, [endpoint]);
		const {sub, events} = subscriber(endpoint, {maxMessageBytes: 1000});
		await eventually(`dropped (stderr: ${py.stderr()})`, () => events.some((event) => event.type === 'dropped'), 10_000);
		expect(events.at(-1)).toMatchObject({type: 'dropped', reason: 'oversize'});
		const received = drain(sub);
		expect(received.every((frames) => frames[0]!.length <= 1000)).toBe(true);
		const eventsAfterDrop = events.length;
		await sleep(300);
		expect(events).toHaveLength(eventsAfterDrop);
		sub.connect();
		await eventually('a handshake on the redial', () => events.slice(eventsAfterDrop).some((event) => event.type === 'handshake'));
	});

	it('a zeromq.js SUB with maxMessageSize closes on one of ours; the publisher forgets it and serves the others', async () => {
		const {publisher, endpoint} = await ourPublisher();
		const small = await zmqSubscriber(new zmq.Subscriber({linger: 0, maxMessageSize: 1000, receiveTimeout: 5000}), endpoint);
		small.subscribe();
		const large = await zmqSubscriber(new zmq.Subscriber({linger: 0, receiveTimeout: 5000}), endpoint);
		large.subscribe();
		await probeUntilReceived(publisher, small, 'probe-small');
		await probeUntilReceived(publisher, large, 'probe-large');
		expect(publisher.subscriberCount).toBe(2);
		publisher.send(Buffer.alloc(2000, 0x6f));
		await eventually('the small subscriber is gone', () => publisher.subscriberCount === 1);
		publisher.send('after');
		expect(await receiveUntil(large, 'after')).toContain('after');
	});
});
