/**
The transport's one read call, `poll`, over each engine: whatever way the links read (a polled tcp://
socket, an in-memory queue, zeromq.js), a caller polls and gets the frames, fairly shared. And
zeromq.js, a native addon, is loaded only where a libzmq socket is made.
*/

import {execFile} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {afterEach, describe, expect, it} from 'vitest';
import type {EngineChoice} from '../../../source/mesh/net/engine/select.js';
import {Transport} from '../../../source/mesh/net/transport.js';
import {sleep} from '../../helpers/nodes.js';
import {freePort, loopback} from '../../helpers/ports.js';

const open: Transport[] = [];
afterEach(async () => {
	await Promise.all(open.splice(0).map(async (transport) => transport.close()));
});

async function transport(bindEndpoint: string, engine: EngineChoice = 'builtin'): Promise<Transport> {
	const created = new Transport({bindEndpoint, engine});
	open.push(created);
	await created.start();
	return created;
}

/** Like the shared `eventually`, for a condition that has to await. */
async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	while (!(await condition())) {
		if (performance.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
		}

		await sleep(20);
	}
}

let inprocCount = 0;

describe.each<[string, EngineChoice, () => Promise<string>]>([
	['tcp:// on the built-in engine (polled links)', 'builtin', async () => loopback(await freePort())],
	['inproc:// on the in-memory bus', 'builtin', async () => `inproc://transport-test-${++inprocCount}`],
	['tcp:// on libzmq', 'libzmq', async () => loopback(await freePort())],
])('Transport.poll, %s', (_name, engine, endpoint) => {
	it('hands what two publishers sent to onFrames, each link its fair share of the budget', async () => {
		const [a, b] = [await transport(await endpoint(), engine), await transport(await endpoint(), engine)];
		const receiver = await transport(await endpoint(), engine);
		receiver.addPeer(a.endpoint);
		receiver.addPeer(b.endpoint);
		const received: string[] = [];
		const onFrames = (frames: Buffer[], from: string) => {
			received.push(`${from === a.endpoint ? 'a' : 'b'}:${frames[0]!.toString()}`);
		};

		// A PUB drops what it sends before the subscription arrives: publish until both links deliver.
		await until('both links deliver', async () => {
			await a.publish('probe');
			await b.publish('probe');
			await receiver.poll(1000, onFrames);
			return received.includes('a:probe') && received.includes('b:probe');
		}, 10_000);
		await sleep(100);
		await receiver.poll(1000, onFrames);
		received.length = 0;

		for (let index = 0; index < 10; index++) {
			await a.publish(`${index}`);
			await b.publish(`${index}`);
		}

		// A budget of 4 over two links: two from each, oldest first, and more remain.
		await sleep(200);
		expect(await receiver.poll(4, onFrames)).toBe(true);
		expect(received.sort()).toEqual(['a:0', 'a:1', 'b:0', 'b:1']);
		await until('the rest', async () => {
			await receiver.poll(100, onFrames);
			return received.length === 20;
		});
	});
});

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/mesh/net/transport.js');

/** In a fresh process (the built code): start a transport on `engine` bound to `bindEndpoint`, and say whether zeromq.js was loaded. */
async function loadsZeromq(engine: EngineChoice, bindEndpoint: string, peer?: string): Promise<boolean> {
	const script = `
		const {Transport} = await import(${JSON.stringify(DIST)});
		const transport = new Transport({bindEndpoint: ${JSON.stringify(bindEndpoint)}, engine: ${JSON.stringify(engine)}});
		await transport.start();
		${peer === undefined ? '' : `transport.addPeer(${JSON.stringify(peer)});`}
		await transport.poll(10, () => {});
		await new Promise((resolve) => setTimeout(resolve, 100));
		const {readFileSync} = await import('node:fs');
		console.log(readFileSync('/proc/self/maps', 'utf8').includes('zeromq') ? 'loaded' : 'not loaded');
		await transport.close();
		process.exit(0);
	`;
	const {stdout} = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
	return stdout.trim() === 'loaded';
}

describe('zeromq.js is loaded only when needed', () => {
	it('not for tcp:// and inproc:// on the built-in engines', async () => {
		expect(await loadsZeromq('builtin', loopback(await freePort()), `inproc://lazy-${process.pid}`)).toBe(false);
	});

	it('for --engine libzmq, and for an ipc:// peer', async () => {
		expect(await loadsZeromq('libzmq', loopback(await freePort()))).toBe(true);
		expect(await loadsZeromq('builtin', loopback(await freePort()), `ipc:///tmp/chorus-lazy-${process.pid}.sock`)).toBe(true);
	});
});
