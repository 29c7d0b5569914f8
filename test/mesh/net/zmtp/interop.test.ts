/**
The ZMTP engine against real libzmq peers on loopback: zeromq.js (libzmq 4.3.5) in this process and
pyzmq (Debian's python3-zmq, libzmq 4.3.4) in a child process, both directions.
*/

import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';
import {createInterface} from 'node:readline';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {ZmtpPublisher} from '../../../../source/mesh/net/zmtp/publisher.js';
import type {ZmtpSubscriber, ZmtpSubscriberEvent, ZmtpSubscriberOptions} from '../../../../source/mesh/net/zmtp/subscriber.js';
import {freePort, loopback} from '../../../helpers/ports.js';
import {Cleanups, eventually, sleep, startSubscriber} from './helpers.js';

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
		// eslint-disable-next-line no-await-in-loop
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
			// eslint-disable-next-line no-await-in-loop
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
		await untilFlowing(sub, () => publisher.send('probe'), isProbe);

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
