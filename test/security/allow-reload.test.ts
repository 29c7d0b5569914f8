/**
The allow file reloaded on SIGHUP, without a restart: a real `chorus-tui --headless` node with CURVE
(the target), and CURVE nodes in this process that subscribe to it or that it subscribes to. New
keys come in, removed keys' connections are closed at once (our publisher's subscribers and our own
links whose server key is gone), and a bad file changes nothing but a warning.
*/

import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {ChorusNode} from '../../source/mesh/node.js';
import {AllowList} from '../../source/mesh/security/curve/allow-list.js';
import {secretKeyFileText} from '../../source/mesh/security/curve/keys.js';
import {HeadlessProcess, type Line} from '../helpers/headless-process.js';
import {eventually, sleep, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';
import {isRunning} from '../helpers/term.js';
import {childrenOf, TmuxShell} from '../helpers/tmux-shell.js';

type Identity = {id: string; port: number; endpoint: string; keys: {publicKey: string; secretKey: string}};

const nodes: ChorusNode[] = [];
const processes: HeadlessProcess[] = [];
const directories: string[] = [];
const shells: TmuxShell[] = [];

afterEach(async () => {
	for (const shell of shells.splice(0)) {
		shell.kill();
	}

	await Promise.all(processes.splice(0).map(async (child) => child.stop()));
	await Promise.all(nodes.splice(0).map(async (node) => node.stop()));
	for (const directory of directories.splice(0)) {
		rmSync(directory, {recursive: true, force: true});
	}
});

async function identity(id: string): Promise<Identity> {
	const port = await freePort();
	return {id, port, endpoint: loopback(port), keys: zmq.curveKeyPair()};
}

/** A CURVE node in this process that subscribes to `peers` (their keys pinned) and lets `allowOnly` in. */
async function curveNode(self: Identity, peers: Identity[], allowOnly: Identity[] = []): Promise<ChorusNode> {
	const allow = new AllowList([
		...peers.map((peer) => ({publicKey: peer.keys.publicKey, nodeId: peer.id, endpoint: peer.endpoint})),
		...allowOnly.map((other) => ({publicKey: other.keys.publicKey, nodeId: other.id})),
	]);
	const node = new ChorusNode(
		await testNodeOptions({id: self.id, bindEndpoint: self.endpoint, peerEndpoints: peers.map((peer) => peer.endpoint), security: {curve: {...self.keys, allow}}}),
	);
	nodes.push(node);
	await node.start();
	return node;
}

const line = (of: Identity, withEndpoint = false) => `${of.keys.publicKey} ${of.id}${withEndpoint ? ` ${of.endpoint}` : ''}`;
const peerIds = (node: ChorusNode) => node.snapshot().peers.map((peer) => peer.id);
const received = (node: ChorusNode) => node.snapshot().stats.received;

describe('SIGHUP reloads the allow file', () => {
	it('lets a new key in, shuts a removed key out at once, closes links whose key is gone, and survives a bad file', async () => {
		const directory = mkdtempSync(path.join(tmpdir(), 'chorus-reload-'));
		directories.push(directory);
		const [a, b, c] = [await identity('node-a'), await identity('node-b'), await identity('node-c')];
		const keyFile = path.join(directory, 'a.key');
		writeFileSync(keyFile, secretKeyFileText(a.keys));
		chmodSync(keyFile, 0o600);
		const allowFile = path.join(directory, 'allow');
		// A subscribes to C (its key pinned for C's endpoint); B's key is not on the list yet.
		writeFileSync(allowFile, `# lab\n${line(c, true)}\n`);

		const nodeC = await curveNode(c, [], [a]);
		const target = new HeadlessProcess([
			'--id', a.id, '--bind', String(a.port), '--peer', c.endpoint, '--ttl', '1', '--report-ms', '200',
			'--curve-secret-key-file', keyFile, '--allow', allowFile,
		]);
		processes.push(target);
		await target.waitForSnapshot((snapshot) => (snapshot.peers as Array<{id: string; state: string}>).some((peer) => peer.id === 'node-c' && peer.state === 'alive'), 20_000);

		// B knows A's key, but A does not know B's: refused, and B hears nothing.
		const nodeB = await curveNode(b, [a]);
		const refusal = await target.waitFor((event) => event.kind === 'auth-refused' && event.publicKey === b.keys.publicKey, 15_000);
		expect(refusal).toMatchObject({reason: 'key-not-allowed'});
		await sleep(500);
		expect(received(nodeB)).toBe(0);

		// Listed, and SIGHUP: admitted without a restart.
		writeFileSync(allowFile, `# lab\n${line(c, true)}\n${line(b)}\n`);
		let from = target.lines.length;
		target.child.kill('SIGHUP');
		const added = await target.waitForEvent('allow-list-reloaded', undefined, 10_000, from);
		expect(added).toMatchObject({keys: 2, keysAdded: 1, keysRemoved: 0, linksClosed: 0, clientsDropped: false});
		await eventually('B admits A after the reload', () => peerIds(nodeB).includes('node-a'), 15_000);

		// A file that does not parse: a warning (event and one stderr line), the old list stays, the node runs on.
		writeFileSync(allowFile, `${line(c, true)}\nnot-a-key node-x\n`);
		from = target.lines.length;
		target.child.kill('SIGHUP');
		const warning = await target.waitForEvent('warning', undefined, 10_000, from);
		expect(warning).toMatchObject({reason: 'allow-reload-failed'});
		expect(warning['message']).toMatch(/line 2: expected a 40-character Z85 public key/);
		await eventually('the stderr line', () => target.stderr.includes('\n'), 5000);
		expect(target.stderr.trim().split('\n')).toHaveLength(1);
		expect(target.stderr).toMatch(/^chorus-tui: warning: SIGHUP: --allow: .*allow line 2: expected a 40-character Z85 public key.*previous allow list stays in force/);
		const before = received(nodeB);
		await sleep(1000);
		expect(received(nodeB)).toBeGreaterThan(before);
		expect(target.child.exitCode).toBeNull();
		expect(target.lines.slice(from).some((entry) => entry.kind === 'allow-list-reloaded')).toBe(false);

		// B's key and C's line removed: B's connection is closed now, not at its next handshake, and A's
		// link to C (whose server key is gone) is closed too.
		writeFileSync(allowFile, '# nobody\n');
		from = target.lines.length;
		target.child.kill('SIGHUP');
		const removed = await target.waitForEvent('allow-list-reloaded', undefined, 10_000, from);
		expect(removed).toMatchObject({keys: 0, keysAdded: 0, keysRemoved: 2, linksClosed: 1, clientsDropped: true});
		// What was in flight when the connection closed may still arrive; nothing after that.
		await sleep(1000);
		const afterRemoval = received(nodeB);
		await sleep(2500);
		expect(received(nodeB)).toBe(afterRemoval);
		await target.waitFor((event: Line) => event.kind === 'auth-refused' && event.publicKey === b.keys.publicKey, 10_000, from);
		await target.waitForEvent('peer-evicted', 'node-c', 10_000, from);
		// C's publisher no longer has A as a subscriber: nothing of A's link is left.
		expect(nodeC.running).toBe(true);
		expect(target.child.exitCode).toBeNull();
	}, 90_000);

	it('in the terminal UI: kill -HUP reloads and the UI runs on; a hang-up of the terminal still ends it', async () => {
		const directory = mkdtempSync(path.join(tmpdir(), 'chorus-reload-tui-'));
		directories.push(directory);
		const [a, b] = [await identity('node-a'), await identity('node-b')];
		const keyFile = path.join(directory, 'a.key');
		writeFileSync(keyFile, secretKeyFileText(a.keys));
		chmodSync(keyFile, 0o600);
		const allowFile = path.join(directory, 'allow');
		writeFileSync(allowFile, '# nobody yet\n');
		const shell = new TmuxShell({columns: 120, rows: 30});
		shells.push(shell);
		await shell.waitFor('the prompt', (screen) => screen.includes('$'), 10_000);
		shell.runChorus(['--id', a.id, '--bind', String(a.port), '--demo', '0', '--curve-secret-key-file', keyFile, '--allow', allowFile]);
		await shell.waitFor('the UI', (screen) => screen.includes('── events ('), 20_000);
		const ui = childrenOf(shell.shellPid)[0]!;
		writeFileSync(allowFile, `${line(b)}\n`);
		process.kill(ui, 'SIGHUP');
		await shell.waitFor('the reload in the event log', (screen) => /allow-list-reloaded .*keysAdded=1/.test(screen), 10_000);
		expect(isRunning(ui)).toBe(true);
		expect(shell.modes().alternateScreen).toBe(true);
		// The terminal goes away (tmux's server ends): SIGHUP with no terminal left is a hang-up.
		shell.kill();
		await eventually('the UI exited after the hang-up', () => !isRunning(ui), 10_000);
	}, 60_000);

	it('without CURVE, SIGHUP changes nothing and does not stop the node', async () => {
		const target = new HeadlessProcess(['--bind', String(await freePort()), '--demo', '0', '--report-ms', '200']);
		processes.push(target);
		await target.waitForSnapshot(() => true, 10_000);
		target.child.kill('SIGHUP');
		const warning = await target.waitForEvent('warning', undefined, 10_000);
		expect(warning).toMatchObject({reason: 'allow-reload-failed'});
		expect(warning['message']).toMatch(/no allow file to reload/);
		const ticks = (target.lastSnapshot()!['stats'] as {ticks: number}).ticks;
		await target.waitForSnapshot((snapshot) => (snapshot['stats'] as {ticks: number}).ticks > ticks + 5, 5000);
		expect(target.child.exitCode).toBeNull();
	}, 30_000);
});
