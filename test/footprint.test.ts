/**
Footprint: a headless node loads only what its mode uses. A real `chorus-tui --headless` process
with the control plane on and CURVE off serves control requests (from libzmq, in this process) yet
never maps zeromq's native addon (read from /proc/PID/maps) and never resolves zeromq, Ink or React
(a module resolve hook, registered through NODE_OPTIONS, logs every URL the process resolves). The
same checks see the addon and the modules when a mode does load them, so they can fail.
*/

import {readFileSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {spawnSync} from 'node:child_process';
import * as zmq from 'zeromq';
import {afterAll, afterEach, describe, expect, it} from 'vitest';
import {HeadlessProcess, stopAll} from './helpers/headless-process.js';
import {freePort, loopback} from './helpers/ports.js';
import {resolveRecorder} from './helpers/resolve-log.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const directory = mkdtempSync(path.join(tmpdir(), 'chorus-footprint-'));
const processes: HeadlessProcess[] = [];
afterEach(async () => {
	await stopAll(processes.splice(0));
});
afterAll(() => {
	rmSync(directory, {recursive: true, force: true});
});

/** NODE_OPTIONS that make a process log every URL it resolves to `log`. */
function recordingOptions(name: string): {log: string; env: NodeJS.ProcessEnv} {
	const {log, importUrl} = resolveRecorder(directory, name);
	return {log, env: {NODE_OPTIONS: `--import=${importUrl}`}};
}

/** Packages of node_modules among the resolved URLs, once each. */
function packagesResolved(log: string): string[] {
	const names = readFileSync(log, 'utf8')
		.split('\n')
		.map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1])
		.filter((name): name is string => name !== undefined);
	return [...new Set(names)].sort();
}

/** Whether the process has zeromq's native addon (zeromq.node) mapped. */
function mapsZeromqAddon(pid: number): boolean {
	return readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').some((line) => /zeromq.*\.node$/.test(line));
}

async function startNode(name: string, extra: string[]): Promise<{node: HeadlessProcess; log: string; control: string}> {
	const {log, env} = recordingOptions(name);
	const control = loopback(await freePort());
	const node = new HeadlessProcess(['--demo', '0', '--bind', loopback(await freePort()), '--control', control, ...extra], {env});
	processes.push(node);
	await node.waitForSnapshot(() => true, 20_000);
	return {node, log, control};
}

describe('what a headless node loads', () => {
	it('serves the control plane without CURVE over the built-in engine: zeromq, Ink and React never load', async () => {
		const {node, log, control} = await startNode('default', []);
		// A libzmq DEALER (zeromq.js, in this test process) asks the node for its view.
		const dealer = new zmq.Dealer({linger: 0, receiveTimeout: 10_000});
		try {
			dealer.connect(control);
			await dealer.send(JSON.stringify({v: 1, id: 7, op: 'view', limit: 1}));
			const [reply] = await dealer.receive();
			expect(JSON.parse(reply!.toString())).toMatchObject({v: 1, id: 7, ok: true});
		} finally {
			dealer.close();
		}

		// The reply came and libzmq never loaded: the built-in engine's ROUTER answered (bundled into
		// dist/chunks/ with the rest of the command, so no module of it is resolved apart).
		expect(mapsZeromqAddon(node.pid)).toBe(false);
		const loaded = packagesResolved(log);
		expect(loaded.filter((name) => ['zeromq', 'ink', 'react', 'react-reconciler', 'yoga-layout'].includes(name))).toEqual([]);
	});

	it('loads zeromq where a mode needs libzmq (--engine libzmq), and the same checks see it', async () => {
		const {node, log} = await startNode('libzmq', ['--engine', 'libzmq']);
		expect(mapsZeromqAddon(node.pid)).toBe(true);
		expect(packagesResolved(log)).toContain('zeromq');
	});

	it('the resolve hook records an Ink import (the check above can fail)', () => {
		const {log, env} = recordingOptions('ink');
		const result = spawnSync(process.execPath, ['--input-type=module', '-e', 'await import("ink")'], {cwd: root, env: {...process.env, ...env}, encoding: 'utf8', timeout: 30_000});
		expect(result.status, result.stderr).toBe(0);
		expect(packagesResolved(log)).toEqual(expect.arrayContaining(['ink', 'react']));
	});
});
