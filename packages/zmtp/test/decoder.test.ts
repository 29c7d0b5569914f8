/**
The ZMTP engine's pure parts: frame decoding under any chunking, the greeting reader, endpoints.
*/

import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {EndpointError, formatTcpEndpoint, parseTcpEndpoint} from '../src/endpoint.js';
import {encodeCommand, encodeFrame, encodeMessage, FLAG_COMMAND, FLAG_MORE} from '../src/frame.js';
import {FrameDecoder, type ZmtpStreamError} from '../src/frame-decoder.js';
import {GreetingReader, OUR_GREETING} from '../src/greeting.js';

const LIMITS = {maxFrameBytes: 1 << 20, maxCommandBytes: 1 << 16};

/** Decode `stream` fed in pieces cut at `cuts`, regrouping frames into messages by MORE. */
function decodeInPieces(stream: Buffer, cuts: number[]): Buffer[][] {
	const messages: Buffer[][] = [];
	let parts: Buffer[] = [];
	const decoder = new FrameDecoder(LIMITS, (flags, body) => {
		// Copy: a view of a chunk must stay right even after later chunks arrive.
		parts.push(Buffer.from(body));
		if ((flags & FLAG_MORE) === 0) {
			messages.push(parts);
			parts = [];
		}
	});
	let from = 0;
	for (const cut of [...cuts.filter((at) => at > 0 && at < stream.length)].sort((a, b) => a - b)) {
		decoder.push(stream.subarray(from, cut));
		from = cut;
	}

	decoder.push(stream.subarray(from));
	return messages;
}

describe('ZMTP frame decoder', () => {
	it('decodes any message sequence, split into any chunks, to the same messages', () => {
		const frame = fc.oneof(
			fc.uint8Array({maxLength: 40}),
			// Around the short/long size boundary.
			fc.integer({min: 250, max: 300}).map((size) => new Uint8Array(size).fill(size & 0xff)),
			fc.uint8Array({minLength: 256, maxLength: 2000}),
		);
		const messages = fc.array(fc.array(frame, {minLength: 1, maxLength: 4}), {minLength: 1, maxLength: 20});
		fc.assert(
			fc.property(messages, fc.array(fc.nat(), {maxLength: 40}), (sequence, rawCuts) => {
				const stream = Buffer.concat(sequence.map((frames) => encodeMessage(frames)));
				const cuts = rawCuts.map((cut) => cut % (stream.length + 1));
				const decoded = decodeInPieces(stream, cuts);
				expect(decoded.map((frames) => frames.map((part) => part.toString('hex')))).toEqual(
					sequence.map((frames) => frames.map((part) => Buffer.from(part).toString('hex'))),
				);
			}),
			{numRuns: 300},
		);
	});

	it('decodes a stream fed one byte at a time, including a long-size frame', () => {
		const long = Buffer.alloc(300, 7);
		const stream = Buffer.concat([encodeMessage([Buffer.from('a'), long]), encodeMessage([Buffer.alloc(0)])]);
		const cuts = Array.from({length: stream.length}, (_, index) => index);
		expect(decodeInPieces(stream, cuts)).toEqual([[Buffer.from('a'), long], [Buffer.alloc(0)]]);
	});

	it('hands a frame that lies inside one chunk out as a view of it, not a copy', () => {
		const chunk = encodeFrame(Buffer.from('hello'), 0);
		let body: Buffer | undefined;
		new FrameDecoder(LIMITS, (_flags, frame) => {
			body = frame;
		}).push(chunk);
		expect(body?.buffer).toBe(chunk.buffer);
		expect(body?.toString()).toBe('hello');
	});

	it('refuses an oversized frame as soon as its header arrives, and takes one of exactly the limit', () => {
		const frames: Buffer[] = [];
		const decoder = new FrameDecoder({maxFrameBytes: 100, maxCommandBytes: 100}, (_flags, body) => frames.push(body));
		decoder.push(encodeFrame(Buffer.alloc(100, 5), 0));
		expect(frames).toEqual([Buffer.alloc(100, 5)]);
		frames.length = 0;
		// Only the 9-byte header of a 1 MiB frame: refused before any of the body is buffered.
		const header = encodeFrame(Buffer.alloc(1 << 20), 0).subarray(0, 9);
		expect(() => {
			decoder.push(header);
		}).toThrow(expect.objectContaining({reason: 'oversize'}));
		expect(frames).toEqual([]);
	});

	it('refuses reserved flag bits, a command with MORE, and an 8-byte size beyond 2^53', () => {
		const attempt = (bytes: number[]) => {
			try {
				new FrameDecoder(LIMITS, () => {}).push(Buffer.from(bytes));
				return undefined;
			} catch (error) {
				return (error as ZmtpStreamError).reason;
			}
		};

		expect(attempt([0x80, 0])).toBe('protocol');
		expect(attempt([FLAG_COMMAND | FLAG_MORE, 0])).toBe('protocol');
		expect(attempt([0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).toBe('oversize');
	});

	it('passes command frames through with their flag', () => {
		const seen: number[] = [];
		new FrameDecoder(LIMITS, (flags) => seen.push(flags)).push(encodeCommand('PING', Buffer.from([0, 0])));
		expect(seen).toEqual([FLAG_COMMAND]);
	});
});

describe('ZMTP greeting reader', () => {
	it('accepts our own greeting fed in pieces, as libzmq sends it (10 bytes, then the rest)', () => {
		const reader = new GreetingReader();
		expect(reader.feed(OUR_GREETING.subarray(0, 10))).toBe(10);
		expect(reader.done).toBe(false);
		// A chunk that runs past the greeting: only the greeting's bytes are taken.
		const rest = Buffer.concat([OUR_GREETING.subarray(10), Buffer.from([4, 0])]);
		expect(reader.feed(rest)).toBe(54);
		expect(reader.greeting).toEqual({major: 3, minor: 0, mechanism: 'NULL'});
	});

	it('refuses ZMTP 1.0/2.0 peers at the first telling byte, and other mechanisms', () => {
		const first = new GreetingReader();
		first.feed(Buffer.from([0x01, 0x00]));
		expect(first.failure).toMatch(/ZMTP 1\.0/);

		const zmtp2 = new GreetingReader();
		zmtp2.feed(Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 1]));
		expect(zmtp2.failure).toMatch(/ZMTP 1\.x/);

		const curve = Buffer.from(OUR_GREETING);
		curve.fill(0, 12, 32);
		curve.write('CURVE', 12, 'latin1');
		const reader = new GreetingReader();
		reader.feed(curve);
		expect(reader.failure).toMatch(/CURVE/);
	});
});

describe('tcp:// endpoints', () => {
	it('parses hosts, IPv6 in brackets, * and port 0 for a bind', () => {
		expect(parseTcpEndpoint('tcp://127.0.0.1:5555', 'connect')).toEqual({host: '127.0.0.1', port: 5555});
		expect(parseTcpEndpoint('tcp://[::1]:5555', 'connect')).toEqual({host: '::1', port: 5555});
		expect(parseTcpEndpoint('tcp://localhost:1', 'connect')).toEqual({host: 'localhost', port: 1});
		expect(parseTcpEndpoint('tcp://*:*', 'bind')).toEqual({host: '0.0.0.0', port: 0});
		expect(parseTcpEndpoint('tcp://127.0.0.1:0', 'bind')).toEqual({host: '127.0.0.1', port: 0});
		expect(formatTcpEndpoint('::1', 80)).toBe('tcp://[::1]:80');
		expect(formatTcpEndpoint('127.0.0.1', 80)).toBe('tcp://127.0.0.1:80');
	});

	it('refuses malformed endpoints with code EINVAL', () => {
		for (const bad of ['ipc:///tmp/x', 'tcp://', 'tcp://host', 'tcp://::1:5', 'tcp://[::1:5', 'tcp://h:99999', 'tcp://h:x', 'tcp://a;b:5', 'tcp://*:5']) {
			expect(() => parseTcpEndpoint(bad, 'connect'), bad).toThrow(EndpointError);
		}

		expect(() => parseTcpEndpoint('tcp://h:0', 'connect')).toThrow(expect.objectContaining({code: 'EINVAL'}));
	});
});
