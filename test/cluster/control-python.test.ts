// The control protocol as the README documents it for scripts: a Python client (Debian's
// python3-zmq and python3-cryptography) against a real chorus-tui process, with CURVE roles.
import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {secretKeyFileText} from '../../source/mesh/security/curve/keys.js';
import {HeadlessProcess, stopAll} from '../helpers/headless-process.js';
import {freePort} from '../helpers/ports.js';
import {portWithFreeNext} from './control-helpers.js';

const run = promisify(execFile);
const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/control-client.py');
const processes: HeadlessProcess[] = [];
const directories: string[] = [];

afterEach(async () => {
	await stopAll(processes.splice(0));
	for (const directory of directories.splice(0)) {
		rmSync(directory, {recursive: true, force: true});
	}
});

async function python(...args: string[]): Promise<any> {
	const {stdout} = await run('/usr/bin/python3', [script, ...args], {timeout: 30_000});
	return stdout.trim() === 'timeout' ? 'timeout' : JSON.parse(stdout);
}

describe('a Python script on the control protocol', () => {
	it('reads and faults a node without CURVE on loopback', async () => {
		const controlPort = await freePort();
		const node = new HeadlessProcess(['--demo', '0', '--bind', String(await freePort()), '--control', String(controlPort), '--id', 'py-target', '--report-ms', '200']);
		processes.push(node);
		await node.waitForEvent('node-started', undefined, 10_000);
		const control = `tcp://127.0.0.1:${controlPort}`;
		expect(await python(control, '{"op":"view","limit":5}')).toMatchObject({v: 1, id: 1, ok: true, node: {id: 'py-target'}});
		expect(await python(control, '{"op":"fault","direction":"outbound","fault":{"drop":0.5},"leaseMs":60000}')).toMatchObject({ok: true, faults: {outbound: {drop: 0.5}}});
		expect(await python(control, '{"op":"nope"}')).toMatchObject({ok: false, error: 'unknown-op'});
	});

	it('stops a CURVE node with an operator key, and is refused with a reader key', async () => {
		const directory = mkdtempSync(path.join(tmpdir(), 'chorus-control-py-'));
		directories.push(directory);
		const [nodeKeys, operator, reader] = [zmq.curveKeyPair(), zmq.curveKeyPair(), zmq.curveKeyPair()];
		const port = await portWithFreeNext();
		const secretFile = path.join(directory, 'node.key');
		writeFileSync(secretFile, secretKeyFileText(nodeKeys), {mode: 0o600});
		const allowFile = path.join(directory, 'allow');
		writeFileSync(allowFile, `${operator.publicKey} * role=operator\n${reader.publicKey}\n`);
		const node = new HeadlessProcess(['--bind', String(port), '--curve-secret-key-file', secretFile, '--allow', allowFile, '--report-ms', '200']);
		processes.push(node);
		const control = (await node.waitForEvent('control-started', undefined, 10_000)).endpoint as string;

		expect(await python(control, '{"op":"members"}', reader.publicKey, reader.secretKey, nodeKeys.publicKey)).toMatchObject({ok: true});
		expect(await python(control, '{"op":"stop"}', reader.publicKey, reader.secretKey, nodeKeys.publicKey)).toMatchObject({ok: false, error: 'forbidden'});
		expect(await python(control, '{"op":"stop"}', operator.publicKey, operator.secretKey, nodeKeys.publicKey)).toMatchObject({ok: true, stopping: true});
		expect(await node.exited).toEqual({code: 0, signal: null});
	});
});
