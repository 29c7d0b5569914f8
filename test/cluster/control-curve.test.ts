// The control plane with CURVE, on a real chorus-tui process: listed keys read, operator keys write,
// unlisted keys get nothing; and the allow file's role column.
import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import {afterEach, beforeAll, describe, expect, it} from 'vitest';
import {ControlClient, ControlTimeoutError} from '../../source/cluster/control/client.js';
import {writeProof} from '../../source/cluster/control/proof.js';
import {AllowList, AllowListError, parseAllowList} from '../../source/mesh/security/curve/allow-list.js';
import {secretKeyFileText} from '../../source/mesh/security/curve/keys.js';
import {CLI_PATH, HeadlessProcess, stopAll} from '../helpers/headless-process.js';
import {portWithFreeNext} from './control-helpers.js';

type Keys = {publicKey: string; secretKey: string};

const processes: HeadlessProcess[] = [];
const clients: ControlClient[] = [];
let directory: string;

beforeAll(() => {
	directory = mkdtempSync(path.join(tmpdir(), 'chorus-control-curve-'));
	return () => {
		rmSync(directory, {recursive: true, force: true});
	};
});

afterEach(async () => {
	await Promise.all(clients.splice(0).map(async (client) => client.close()));
	await stopAll(processes.splice(0));
});

function keyPairWhosePublicKeyStartsWith(prefix: string): Keys {
	for (;;) {
		const pair = zmq.curveKeyPair();
		if (pair.publicKey.startsWith(prefix)) {
			return pair;
		}
	}
}

function client(keys: Keys, serverKey: string, timeoutMs = 10_000): ControlClient {
	const made = new ControlClient({timeoutMs, curve: {...keys, serverKey}});
	clients.push(made);
	return made;
}

async function curveNode(node: Keys, allowLines: string[]): Promise<{process: HeadlessProcess; control: string; port: number}> {
	const port = await portWithFreeNext();
	const secretFile = path.join(directory, `node-${port}.key`);
	writeFileSync(secretFile, secretKeyFileText(node), {mode: 0o600});
	const allowFile = path.join(directory, `allow-${port}`);
	writeFileSync(allowFile, `${allowLines.join('\n')}\n`);
	const child = new HeadlessProcess(['--bind', String(port), '--curve-secret-key-file', secretFile, '--allow', allowFile, '--report-ms', '200']);
	processes.push(child);
	const started = await child.waitForEvent('control-started', undefined, 10_000);
	// The default, port + 1, is free unless some other process took it in between.
	return {process: child, control: started.endpoint as string, port};
}

describe('control plane over CURVE', () => {
	it('lets listed keys read, only operator keys write, and unlisted keys nothing', async () => {
		const [nodeKeys, operator, reader, stranger] = [zmq.curveKeyPair(), zmq.curveKeyPair(), zmq.curveKeyPair(), zmq.curveKeyPair()];
		const {process: node, control} = await curveNode(nodeKeys, [
			`${operator.publicKey} * role=operator`,
			`${reader.publicKey}`,
		]);

		// A reader: view and members are open to it.
		const asReader = client(reader, nodeKeys.publicKey);
		expect(await asReader.request(control, {op: 'view', limit: 1})).toMatchObject({ok: true});
		expect(await asReader.request(control, {op: 'members'})).toMatchObject({ok: true});

		// Its stop is refused and counted; the node keeps running.
		expect(await asReader.request(control, {op: 'stop'})).toMatchObject({ok: false, error: 'forbidden'});
		// A proof that names the operator's key, made with the reader's secret, does not pass either.
		const forged = await new Promise<unknown>((resolve) => {
			const dealer = new zmq.Dealer({linger: 0, curveServerKey: nodeKeys.publicKey, curvePublicKey: reader.publicKey, curveSecretKey: reader.secretKey});
			dealer.connect(control);
			const proof = {...writeProof({...reader, serverKey: nodeKeys.publicKey}, 'clear', 7, Date.now()), key: operator.publicKey};
			void dealer.send(JSON.stringify({v: 1, id: 7, op: 'clear', auth: proof}));
			void dealer.receive().then(([frame]) => {
				dealer.close();
				resolve(JSON.parse(frame!.toString()));
			});
		});
		expect(forged).toMatchObject({ok: false, error: 'forbidden'});
		await node.waitForSnapshot((snapshot) => snapshot.stats.controlRefused?.forbidden === 2, 5000);
		expect(node.events.filter((event) => event.kind === 'control-refused').length).toBeGreaterThanOrEqual(1);
		expect(node.child.exitCode).toBe(null);

		// An unlisted key gets no reply at all; its handshakes are counted.
		const asStranger = client(stranger, nodeKeys.publicKey, 800);
		await expect(asStranger.request(control, {op: 'view'})).rejects.toBeInstanceOf(ControlTimeoutError);
		await node.waitForSnapshot((snapshot) => (snapshot.stats.controlRefused?.unauthenticated ?? 0) >= 1, 5000);

		// A client without CURVE gets nothing either.
		const plain = new ControlClient({timeoutMs: 500});
		clients.push(plain);
		await expect(plain.request(control, {op: 'view'})).rejects.toBeInstanceOf(ControlTimeoutError);

		// The operator: fault, clear and stop.
		const asOperator = client(operator, nodeKeys.publicKey);
		expect(await asOperator.request(control, {op: 'fault', direction: 'outbound', fault: {drop: 0.1}, leaseMs: 10_000})).toMatchObject({ok: true});
		expect(await asOperator.request(control, {op: 'clear'})).toMatchObject({ok: true});
		expect(await asOperator.request(control, {op: 'stop'})).toMatchObject({ok: true, stopping: true});
		expect(await node.exited).toEqual({code: 0, signal: null});
	});

	it('ctl speaks CURVE with the key flags: --server-key, or the node found in an allow file', async () => {
		// A node key that begins with '-' (one in 85, Z85's alphabet has it), which once made
		// `--server-key <key>` read as a missing argument: this test failed CI once that way.
		const nodeKeys = keyPairWhosePublicKeyStartsWith('-');
		const operator = zmq.curveKeyPair();
		const {control, port} = await curveNode(nodeKeys, [`${operator.publicKey} role=operator`]);
		const operatorFile = path.join(directory, 'operator.key');
		writeFileSync(operatorFile, secretKeyFileText(operator), {mode: 0o600});
		// The operator's own allow file lists the node by its data endpoint, as for --peer.
		const operatorAllow = path.join(directory, 'operator-allow');
		writeFileSync(operatorAllow, `${nodeKeys.publicKey} * tcp://127.0.0.1:${port}\n`);
		const ctl = async (...args: string[]) => new Promise<{code: number; stdout: string; stderr: string}>((resolve) => {
			execFile(process.execPath, [CLI_PATH, 'ctl', control, ...args, '--curve-secret-key-file', operatorFile, '--timeout', '10'], (error, stdout, stderr) => {
				resolve({code: (error as {code?: number} | null)?.code ?? 0, stdout, stderr});
			});
		});
		const byKey = await ctl('fault', '--drop', '0.2', '--server-key', nodeKeys.publicKey);
		expect(byKey.code, byKey.stderr).toBe(0);
		expect(JSON.parse(byKey.stdout)).toMatchObject({ok: true, faults: {all: {drop: 0.2}}});
		const byAllowFile = await ctl('clear', '--allow', operatorAllow);
		expect(byAllowFile.code, byAllowFile.stderr).toBe(0);
		expect(JSON.parse(byAllowFile.stdout)).toMatchObject({ok: true});
		const noKey = await ctl('view');
		expect(noKey.code).toBe(2);
		expect(noKey.stderr).toMatch(/^chorus-tui ctl: with --curve-secret-key-file, give the node's key/);
	});
});

describe('allow file roles', () => {
	const key = zmq.curveKeyPair().publicKey;
	const other = zmq.curveKeyPair().publicKey;
	const endpointOf = (text: string) => text;

	it('reads role=operator after any of the other fields, and keeps old files valid', () => {
		const entries = parseAllowList(`${key} role=operator\n${other} node-b tcp://127.0.0.1:5555\n`, endpointOf);
		expect(entries).toEqual([
			{publicKey: key, role: 'operator'},
			{publicKey: other, nodeId: 'node-b', endpoint: 'tcp://127.0.0.1:5555'},
		]);
		const allow = new AllowList(entries);
		expect(allow.isOperator(key)).toBe(true);
		expect(allow.isOperator(other)).toBe(false);
		expect(allow.allows(other)).toBe(true);
		expect(parseAllowList(`${key} node-a tcp://127.0.0.1:5555 role=operator`, endpointOf)[0]).toMatchObject({role: 'operator', nodeId: 'node-a'});
	});

	it('refuses an unknown role with its line number', () => {
		expect(() => parseAllowList(`${key}\n${other} role=admin`, endpointOf)).toThrow(AllowListError);
		expect(() => parseAllowList(`${key}\n${other} role=admin`, endpointOf)).toThrow(/line 2: unknown role 'admin'/);
	});
});
