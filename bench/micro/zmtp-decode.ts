/**
Micro-benchmark of the ZMTP engine's receive path without sockets: a stream of N single-frame
messages (a typical wire message of ours, ~150 bytes) cut into 64 KiB chunks, as socket reads
deliver them, fed to the FrameDecoder, each frame queued as a one-frame message and taken off the
queue again, as ZmtpSubscriber does.

Usage (after `npx tsc -p tsconfig.bench.json`):
  node dist-bench/bench/micro/zmtp-decode.js [--messages N] [--runs N] [--chunk BYTES]

Prints messages per second and per CPU-second (user + system of the whole process), median of the runs.
*/

import process from 'node:process';
import {encodeFrame, FLAG_MORE, FrameDecoder} from '@chorus-tui/zmtp/protocol';

function flag(name: string, fallback: number): number {
	const index = process.argv.indexOf(`--${name}`);
	return index === -1 ? fallback : Number(process.argv[index + 1]);
}

const messages = flag('messages', 1_000_000);
const runs = flag('runs', 5);
const chunkBytes = flag('chunk', 65_536);

const body = Buffer.from(
	JSON.stringify({v: 1, node_id: 'peer-0017', incarnation: 1_764_130_000_000, lamport_time: 123_456, phase: 1.234_567_89, omega: 3.141_59, hz: 10, endpoint: 'tcp://127.0.0.1:5555'}),
);
const stream = Buffer.concat(Array.from({length: messages}, () => encodeFrame(body, 0)));
const chunks: Buffer[] = [];
for (let offset = 0; offset < stream.length; offset += chunkBytes) {
	// Fresh buffers, as each socket read brings.
	chunks.push(Buffer.from(stream.subarray(offset, offset + chunkBytes)));
}

function run(): {perSecond: number; perCpuSecond: number} {
	const queue: Buffer[][] = [];
	let head = 0;
	let taken = 0;
	let bytes = 0;
	const decoder = new FrameDecoder({maxFrameBytes: 65_536, maxCommandBytes: 65_536}, (flags, frame) => {
		if ((flags & FLAG_MORE) === 0) {
			queue.push([frame]);
		}
	});
	const cpuBefore = process.cpuUsage();
	const started = process.hrtime.bigint();
	for (const chunk of chunks) {
		decoder.push(chunk);
		// Take what one read brought, as the node's drain would.
		while (head < queue.length) {
			const frames = queue[head++]!;
			bytes += frames[0]!.length;
			taken++;
		}

		queue.length = 0;
		head = 0;
	}

	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	const cpu = process.cpuUsage(cpuBefore);
	if (taken !== messages || bytes !== messages * body.length) {
		throw new Error(`decoded ${taken} messages, expected ${messages}`);
	}

	return {perSecond: messages / seconds, perCpuSecond: messages / ((cpu.user + cpu.system) / 1e6)};
}

const results = Array.from({length: runs}, run);
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
	`zmtp decode: ${messages} messages of ${body.length} bytes in ${chunkBytes}-byte chunks: ` +
		`${Math.round(median(results.map((result) => result.perSecond))).toLocaleString('en')} msgs/s, ` +
		`${Math.round(median(results.map((result) => result.perCpuSecond))).toLocaleString('en')} msgs/CPU-s (median of ${runs})`,
);
