/**
The library API as a user meets it: the built package imported by its name (`import {ChorusNode}
from 'chorus-tui'`, which Node resolves through package.json's `exports`) in a separate process, two
nodes that find each other, and nothing of the terminal UI loaded on the way.
*/

import {spawnSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {afterAll, describe, expect, it} from 'vitest';
import {resolveRecorder} from './helpers/resolve-log.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const directory = mkdtempSync(path.join(tmpdir(), 'chorus-library-'));
afterAll(() => {
	rmSync(directory, {recursive: true, force: true});
});

const userProgram = `
import {createRequire} from 'node:module';
import {ChorusNode, defaultNodeOptions, decode, encode, seededUniform} from 'chorus-tui';

const a = new ChorusNode(defaultNodeOptions({id: 'lib-a', bindEndpoint: 'tcp://127.0.0.1:*'}, {random: seededUniform(1)}));
const events = [];
a.on((event) => events.push(event.kind));
await a.start();
const b = new ChorusNode(defaultNodeOptions({id: 'lib-b', bindEndpoint: 'tcp://127.0.0.1:*'}, {peerEndpoints: [a.endpoint], random: seededUniform(2)}));
await b.start();
a.addPeer(b.endpoint);
const hears = (node, id) => node.snapshot().peers.some((peer) => peer.id === id && peer.state === 'alive');
const deadline = Date.now() + 10_000;
while (!(hears(a, 'lib-b') && hears(b, 'lib-a')) && Date.now() < deadline) {
	await new Promise((resolve) => setTimeout(resolve, 50));
}

const snapshot = a.snapshot();
const frame = encode({nodeId: 'x', phaseRad: 1, lamportTime: 2, incarnation: 3, omegaRadPerS: 3.14, hz: 10, endpoint: 'tcp://127.0.0.1:1'});
await Promise.all([a.stop(), b.stop()]);
const cjs = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({snapshot, events, decoded: decode(frame), cjs}));
`;

describe('the library API (dist/index.js, imported as chorus-tui)', () => {
	it('runs two nodes that hear each other, with the wire format at hand, and loads neither Ink nor React', () => {
		const {log: resolvedLog, importUrl} = resolveRecorder(directory, 'resolved');
		const result = spawnSync(
			process.execPath,
			['--import', importUrl, '--input-type=module', '-e', userProgram],
			{cwd: root, encoding: 'utf8', timeout: 30_000},
		);
		expect(result.status, result.stderr).toBe(0);
		const output = JSON.parse(result.stdout.trim()) as {
			snapshot: {node: {id: string; endpoint: string}; peers: Array<{id: string; state: string}>; stats: {admitted: number}};
			events: string[];
			decoded: {ok: boolean; message?: {nodeId: string; lamportTime: number}};
			cjs: string[];
		};
		expect(output.snapshot.node.id).toBe('lib-a');
		expect(output.snapshot.node.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
		expect(output.snapshot.peers).toEqual([expect.objectContaining({id: 'lib-b', state: 'alive'})]);
		expect(output.snapshot.stats.admitted).toBeGreaterThan(0);
		expect(output.events).toEqual(expect.arrayContaining(['node-started', 'peer-joined', 'node-stopped']));
		expect(output.decoded).toMatchObject({ok: true, message: {nodeId: 'x', lamportTime: 2}});

		// The name resolved to the built package through its exports, and the recorder saw it happen.
		const resolved = readFileSync(resolvedLog, 'utf8').trim().split('\n');
		expect(resolved).toContain(pathToFileURL(path.join(root, 'dist/index.js')).href);
		expect(resolved).toContain(pathToFileURL(path.join(root, 'dist/mesh/node.js')).href);
		const loaded = [...resolved, ...output.cjs];
		const ui = loaded.filter((url) => /[/\\]node_modules[/\\](ink|react|react-reconciler|yoga-layout|meow|chalk)[/\\]/.test(url) || /[/\\]dist[/\\](ui|run|cli)/.test(url));
		expect(ui).toEqual([]);
	});

	it('declares its types where package.json says', () => {
		const declarations = readFileSync(path.join(root, 'dist/index.d.ts'), 'utf8');
		for (const name of ['ChorusNode', 'NodeOptions', 'NodeSnapshot', 'NodeEvent', 'InboundFault', 'encode', 'decode', 'defaultNodeOptions']) {
			expect(declarations).toContain(name);
		}
	});
});
