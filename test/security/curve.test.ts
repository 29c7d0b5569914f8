/**
CURVE with an allow list, over real sockets on loopback: several nodes in this one process share
the process's ZAP handler, as benchmarks and tests run them.
*/

import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {AllowList, type AllowEntry} from '../../source/mesh/security/curve/allow-list.js';
import {ChorusNode, type NodeEvent} from '../../source/mesh/node.js';
import {CLI_PATH, HeadlessProcess} from '../helpers/headless-process.js';
import {eventually, sleep, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';

const run = promisify(execFile);

type Identity = {id: string; endpoint: string; keys: {publicKey: string; secretKey: string}};

const started: ChorusNode[] = [];
const sockets: zmq.Socket[] = [];
const processes: HeadlessProcess[] = [];
const directories: string[] = [];

afterEach(async () => {
	for (const socket of sockets.splice(0)) {
		socket.close();
	}

	await Promise.all(started.splice(0).map(async (node) => node.stop()));
	await Promise.all(processes.splice(0).map(async (child) => child.stop()));
	for (const directory of directories.splice(0)) {
		rmSync(directory, {recursive: true, force: true});
	}
});

async function identity(id: string): Promise<Identity> {
	return {id, endpoint: loopback(await freePort()), keys: zmq.curveKeyPair()};
}

function entry(of: Identity, options: {bindId?: boolean; endpoint?: string; publicKey?: string} = {}): AllowEntry {
	return {
		publicKey: options.publicKey ?? of.keys.publicKey,
		...(options.bindId === false ? {} : {nodeId: of.id}),
		endpoint: options.endpoint ?? of.endpoint,
	};
}

/** A node with CURVE on, subscribed to `peers`, letting in the keys of `allow` (and its peers' keys). */
async function curveNode(self: Identity, peers: AllowEntry[], allowOnly: AllowEntry[] = []): Promise<{node: ChorusNode; events: NodeEvent[]}> {
	const node = new ChorusNode(
		await testNodeOptions({
			id: self.id,
			bindEndpoint: self.endpoint,
			peerEndpoints: peers.map((peer) => peer.endpoint!),
			security: {curve: {...self.keys, allow: new AllowList([...peers, ...allowOnly])}},
		}),
	);
	const events: NodeEvent[] = [];
	node.on((event) => events.push(event));
	started.push(node);
	await node.start();
	return {node, events};
}

const peerIds = (node: ChorusNode) => node.snapshot().peers.map((peer) => peer.id);

describe('CURVE', () => {
	it('admits an allowed peer both ways, encrypted', async () => {
		const [a, b] = [await identity('node-a'), await identity('node-b')];
		const nodeA = await curveNode(a, [entry(b)]);
		const nodeB = await curveNode(b, [entry(a)]);
		await eventually('each admits the other', () => peerIds(nodeA.node).includes('node-b') && peerIds(nodeB.node).includes('node-a'), 10_000);
		expect(nodeA.node.snapshot().stats.authRefused).toBe(0);
		expect(nodeB.node.snapshot().stats.rejected).toEqual({});
	});

	it('refuses a peer whose key is not on the allow list, counts it and reports its address', async () => {
		const [a, intruder] = [await identity('node-a'), await identity('intruder')];
		// The intruder knows A's public key (it is public) but its own key is not on A's list.
		const nodeA = await curveNode(a, []);
		const nodeIntruder = await curveNode(intruder, [entry(a)]);
		const refusal = await eventually('an auth-refused event', () => nodeA.events.find((event) => event.kind === 'auth-refused'), 10_000);
		expect(refusal).toMatchObject({kind: 'auth-refused', reason: 'key-not-allowed', address: '127.0.0.1', publicKey: intruder.keys.publicKey});
		expect(nodeA.node.snapshot().stats.authRefused).toBeGreaterThanOrEqual(1);
		await sleep(1000);
		expect(peerIds(nodeIntruder.node)).toEqual([]);
		expect(nodeIntruder.node.snapshot().stats.received).toBe(0);
	});

	it('never admits a publisher that does not hold the key pinned for its endpoint', async () => {
		const [a, impostor, real] = [await identity('node-a'), await identity('node-b'), await identity('node-b')];
		// A's allow file says node-b at the impostor's endpoint holds `real`'s key; the impostor does not.
		const nodeA = await curveNode(a, [entry(impostor, {publicKey: real.keys.publicKey})]);
		const nodeImpostor = await curveNode(impostor, [], [entry(a)]);
		await eventually('the impostor sees a failed handshake', () => (nodeImpostor.node.snapshot().stats.authRefused ?? 0) > 0, 10_000);
		expect(nodeImpostor.events.find((event) => event.kind === 'auth-refused')).toMatchObject({reason: 'handshake-failed'});
		await sleep(1000);
		expect(peerIds(nodeA.node)).toEqual([]);
		expect(nodeA.node.snapshot().stats.received).toBe(0);
	});

	it('sends nothing readable to a subscriber without CURVE, and counts the attempt', async () => {
		const a = await identity('node-a');
		const nodeA = await curveNode(a, []);
		const plain = new zmq.Subscriber({linger: 0});
		sockets.push(plain);
		plain.subscribe();
		plain.connect(a.endpoint);
		const received: Buffer[] = [];
		void (async () => {
			try {
				for await (const [frame] of plain) {
					received.push(frame!);
				}
			} catch {
				// Closed by afterEach.
			}
		})();

		// A plain node as a peer does no better than a bare socket.
		const plainNode = new ChorusNode(await testNodeOptions({id: 'plain', peerEndpoints: [a.endpoint]}));
		started.push(plainNode);
		await plainNode.start();
		await eventually('two refusals counted', () => (nodeA.node.snapshot().stats.authRefused ?? 0) >= 2, 10_000);
		expect(nodeA.events.find((event) => event.kind === 'auth-refused')).toMatchObject({reason: 'not-curve'});
		// A publishes ten times a second all along; nothing of it arrives.
		await sleep(1500);
		expect(nodeA.node.snapshot().stats.ticks).toBeGreaterThan(10);
		expect(received).toEqual([]);
		expect(plainNode.snapshot().stats.received).toBe(0);
		expect(peerIds(plainNode)).toEqual([]);
	});

	it('rejects a node id claimed by a key that the allow file binds to another id', async () => {
		const [a, spoofer, free] = [await identity('node-a'), await identity('node-b'), await identity('node-b')];
		// The spoofer's key is allowed, bound to `spoofer-id`; it publishes as node-b.
		// `free` holds a key listed with no id, and also claims node-b, which the list binds to a key.
		const boundToOther = {...entry(spoofer), nodeId: 'spoofer-id'};
		const nodeB = await identity('node-b');
		const nodeA = await curveNode(a, [boundToOther, entry(free, {bindId: false})], [{publicKey: nodeB.keys.publicKey, nodeId: 'node-b'}]);
		await curveNode(spoofer, [], [entry(a)]);
		await curveNode(free, [], [entry(a)]);
		await eventually('id-mismatch counted from both', () => (nodeA.node.snapshot().stats.rejected['id-mismatch'] ?? 0) >= 10, 10_000);
		expect(peerIds(nodeA.node)).toEqual([]);
		expect(nodeA.node.snapshot().stats.admitted).toBe(0);
	});

	it('does not subscribe to a peer that the allow file gives no key for', async () => {
		const a = await identity('node-a');
		const stray = loopback(await freePort());
		const nodeA = await curveNode(a, []);
		nodeA.node.addPeer(stray);
		expect(nodeA.events.find((event) => event.kind === 'warning')).toMatchObject({reason: 'no-key-for-peer', endpoint: stray});
	});
});

describe('command line', () => {
	it('keygen writes a private secret and a public key, and refuses to overwrite them', async () => {
		const directory = mkdtempSync(path.join(tmpdir(), 'chorus-keygen-'));
		directories.push(directory);
		const file = path.join(directory, 'node.key');
		const {stdout} = await run(process.execPath, [CLI_PATH, 'keygen', file]);
		expect(statSync(file).mode & 0o777).toBe(0o600);
		const publicKey = readFileSync(`${file}.pub`, 'utf8').trim();
		expect(publicKey).toHaveLength(40);
		expect(stdout).toContain(publicKey);
		const before = readFileSync(file, 'utf8');
		const again = await run(process.execPath, [CLI_PATH, 'keygen', file]).catch((error: unknown) => error as {code: number; stderr: string});
		expect(again).toMatchObject({code: 1});
		expect((again as {stderr: string}).stderr.trim()).toMatch(/^chorus-tui: .*node\.key already exists; refusing to overwrite/);
		expect(readFileSync(file, 'utf8')).toBe(before);
	});

	it('runs two CLI nodes with CURVE, and refuses bad key setups in one line', async () => {
		const directory = mkdtempSync(path.join(tmpdir(), 'chorus-curve-'));
		directories.push(directory);
		const [portA, portB] = [await freePort(), await freePort()];
		for (const name of ['a', 'b']) {
			await run(process.execPath, [CLI_PATH, 'keygen', path.join(directory, name)]);
		}

		const pub = (name: string) => readFileSync(path.join(directory, `${name}.pub`), 'utf8').trim();
		const allow = path.join(directory, 'allow');
		writeFileSync(allow, `# lab\n${pub('a')} node-a ${portA}\n${pub('b')} node-b ${portB}\n`);
		const args = (name: string, port: number, peer: number) => ['--id', `node-${name}`, '--bind', String(port), '--peer', String(peer), '--curve-secret-key-file', path.join(directory, name), '--allow', allow, '--report-ms', '200'];
		const a = new HeadlessProcess(args('a', portA, portB));
		const b = new HeadlessProcess(args('b', portB, portA));
		processes.push(a, b);
		await a.waitForSnapshot((snapshot) => snapshot.peers.some((peer: {id: string}) => peer.id === 'node-b'), 15_000);
		await b.waitForSnapshot((snapshot) => snapshot.peers.some((peer: {id: string}) => peer.id === 'node-a'), 15_000);

		const refuse = async (extra: string[]) => {
			const result = await run(process.execPath, [CLI_PATH, '--headless', ...(extra.includes('--demo') ? [] : ['--demo', '0']), ...extra]).catch((error: unknown) => error as {code: number; stderr: string});
			expect(result).toMatchObject({code: 2});
			const {stderr} = result as {stderr: string};
			expect(stderr.trim().split('\n')).toHaveLength(1);
			return stderr;
		};

		const strayPort = String(await freePort());
		const refusals = await Promise.all([
			refuse(['--curve-secret-key-file', path.join(directory, 'a')]),
			refuse(['--allow', allow]),
			refuse(['--curve-secret-key-file', path.join(directory, 'a.pub'), '--allow', allow]),
			refuse(['--curve-secret-key-file', path.join(directory, 'a'), '--allow', allow, '--peer', strayPort]),
			refuse(['--curve-secret-key-file', path.join(directory, 'missing'), '--allow', allow]),
			refuse(['--curve-secret-key-file', path.join(directory, 'a'), '--allow', allow, '--demo', '2']),
			refuse(['--curve-secret-key-file', path.join(directory, 'a'), '--allow', allow, '--engine', 'builtin']),
		]);
		expect(refusals[0]).toMatch(/needs --allow/);
		expect(refusals[1]).toMatch(/needs --curve-secret-key-file/);
		expect(refusals[2]).toMatch(/readable by others/);
		expect(refusals[3]).toMatch(/--peer: .* has no entry/);
		expect(refusals[4]).toMatch(/cannot read .*missing: no such file/);
		expect(refusals[5]).toMatch(/--demo: demo peers run without CURVE keys/);
		expect(refusals[6]).toMatch(/--engine: CURVE is spoken by libzmq only/);
	});

	it('warns on stderr and in the event stream when bound beyond loopback without CURVE', async () => {
		// Binding to every interface is safe here: nothing sends to it, and the test only reads stderr.
		const port = await freePort();
		const exposed = new HeadlessProcess(['--bind', `tcp://0.0.0.0:${port}`, '--demo', '0', '--report-ms', '200']);
		const local = new HeadlessProcess(['--bind', String(await freePort()), '--demo', '0', '--report-ms', '200']);
		processes.push(exposed, local);
		const warning = await exposed.waitForEvent('warning', undefined, 10_000);
		expect(warning.reason).toBe('exposed-without-curve');
		await local.waitForSnapshot(() => true, 10_000);
		await eventually('the stderr line', () => exposed.stderr.includes('\n'), 5000);
		expect(exposed.stderr.trim().split('\n')).toHaveLength(1);
		expect(exposed.stderr).toMatch(/^chorus-tui: warning: bound to tcp:\/\/0\.0\.0\.0:\d+ without CURVE/);
		expect(local.stderr).toBe('');
		expect(local.events.some((event) => event.kind === 'warning')).toBe(false);
	});
});
