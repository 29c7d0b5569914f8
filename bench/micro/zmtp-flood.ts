/**
End-to-end receive rate of one subscriber flooded by a pyzmq PUB in a child process (libzmq 4.3.4,
another core): the ZMTP engine's ZmtpSubscriber against a bare zeromq.js Subscriber `for await`
loop, alternated in the same run. Messages are ~150-byte single frames.

Reports, per receiver, the median over the runs of messages per wall second and messages per
CPU-second of this process (user + system of all its threads, so libzmq's I/O thread counts).

Usage (after `npx tsc -p tsconfig.bench.json`):
  node dist-bench/bench/micro/zmtp-flood.js [--seconds S] [--runs N]
*/

import {spawn} from 'node:child_process';
import net from 'node:net';
import process from 'node:process';
import * as zmq from 'zeromq';
import {ZmtpSubscriber} from '@chorus-tui/zmtp';

function flag(name: string, fallback: number): number {
	const index = process.argv.indexOf(`--${name}`);
	return index === -1 ? fallback : Number(process.argv[index + 1]);
}

const seconds = flag('seconds', 3);
const runs = flag('runs', 3);
const WARMUP_MS = 500;

const FLOOD = `
import json, sys, time, zmq
pub = zmq.Context.instance().socket(zmq.PUB)
pub.setsockopt(zmq.SNDHWM, 100000)
pub.bind(sys.argv[1])
body = json.dumps({"v": 1, "node_id": "peer-0017", "incarnation": 1764130000000, "lamport_time": 123456,
                   "phase": 1.23456789, "omega": 3.14159, "hz": 10, "endpoint": "tcp://127.0.0.1:5555"}).encode()
deadline = time.time() + float(sys.argv[2])
send = pub.send
while time.time() < deadline:
    for _ in range(1000):
        send(body)
`;

async function freePort(): Promise<number> {
	return new Promise((resolve) => {
		const server = net.createServer().listen(0, '127.0.0.1', () => {
			const {port} = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

type Measure = {perSecond: number; perCpuSecond: number};

async function measure(receive: (endpoint: string, count: () => void) => () => void): Promise<Measure> {
	const endpoint = `tcp://127.0.0.1:${await freePort()}`;
	const floodSeconds = seconds + WARMUP_MS / 1000 + 2;
	const flood = spawn('/usr/bin/python3', ['-c', FLOOD, endpoint, String(floodSeconds)], {stdio: 'inherit'});
	await new Promise((resolve) => setTimeout(resolve, 300));
	let received = 0;
	const stop = receive(endpoint, () => {
		received++;
	});
	try {
		await new Promise((resolve) => setTimeout(resolve, WARMUP_MS + 500));
		const startCount = received;
		const cpuBefore = process.cpuUsage();
		const started = performance.now();
		await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
		const elapsed = (performance.now() - started) / 1000;
		const cpu = process.cpuUsage(cpuBefore);
		const count = received - startCount;
		return {perSecond: count / elapsed, perCpuSecond: count / ((cpu.user + cpu.system) / 1e6)};
	} finally {
		stop();
		flood.kill('SIGKILL');
	}
}

/** Drained every 5 ms, as a node drains on its ticks. */
function zmtpReceiver(endpoint: string, count: () => void): () => void {
	const subscriber = new ZmtpSubscriber({
		endpoint,
		maxMessageBytes: 65_536,
		highWaterMark: 100_000,
		reconnectIntervalMs: 100,
		connectTimeoutMs: 1000,
		onEvent() {},
	});
	subscriber.connect();
	let bytes = 0;
	const timer = setInterval(() => {
		// Polled, as a node reads: what arrived since the last interval is read here.
		subscriber.fetch();
		for (let frames = subscriber.receive(); frames !== undefined; frames = subscriber.receive()) {
			bytes += frames[0]!.length;
			count();
		}
	}, 5);
	return () => {
		clearInterval(timer);
		subscriber.close();
	};
}

function zeromqReceiver(endpoint: string, count: () => void): () => void {
	const subscriber = new zmq.Subscriber({linger: 0});
	subscriber.subscribe();
	subscriber.connect(endpoint);
	void (async () => {
		try {
			let bytes = 0;
			for await (const [frame] of subscriber) {
				bytes += frame!.length;
				count();
			}
		} catch {
			// Closed.
		}
	})();

	return () => {
		subscriber.close();
	};
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const format = (value: number) => Math.round(value).toLocaleString('en');
const results: Record<string, Measure[]> = {zmtp: [], 'zeromq.js': []};
for (let run = 0; run < runs; run++) {
	results.zmtp!.push(await measure(zmtpReceiver));
	results['zeromq.js']!.push(await measure(zeromqReceiver));
}

for (const [name, measures] of Object.entries(results)) {
	console.log(
		`${name.padEnd(10)} ${format(median(measures.map((m) => m.perSecond))).padStart(10)} msgs/s  ` +
			`${format(median(measures.map((m) => m.perCpuSecond))).padStart(10)} msgs/CPU-s  ` +
			`(runs: ${measures.map((m) => format(m.perSecond)).join(', ')})`,
	);
}
