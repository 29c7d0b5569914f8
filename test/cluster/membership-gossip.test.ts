/**
Membership over real sockets on loopback, with real processes:

- a legacy Python node (the original script's behaviour, python3-zmq) given as `--peer` to one node
  only is a member (legacy, data only), and gossip makes every chorus node subscribe to it;
- gossip naming 10,000 fake members is capped at `--max-peers`, without a dial storm: the fake
  members' endpoints are listening sockets of this test that count every connection attempt;
- a seed that does not answer is retried with backoff (`join-retry` events), and the node runs on;
- `members` refuses bad input in one line, exit 2.

The hostile seed is this test: a PUB that announces a control endpoint, and a ROUTER there that
answers `members` with the fake list.
*/

import {execFile, spawn} from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import * as zmq from 'zeromq';
import {afterEach, describe, expect, test} from 'vitest';
import {CLI_PATH, HeadlessProcess, type Line} from '../helpers/headless-process.js';
import {freePort, freePorts} from '../helpers/ports.js';

const run = promisify(execFile);
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).toReversed()) {
		await cleanup();
	}
});

function headless(args: string[]): HeadlessProcess {
	const node = new HeadlessProcess(args);
	cleanups.push(async () => {
		node.child.kill('SIGTERM');
		await node.exited;
	});
	return node;
}

type PeerView = {id: string; state: string};
type MemberView = {id: string; state: string; legacy: boolean; endpoint: string};

function alivePeer(snapshot: Line, id: string): boolean {
	return (snapshot.peers as PeerView[]).some((peer) => peer.id === id && peer.state === 'alive');
}

describe('membership on loopback', () => {
	test('a legacy Python node given as --peer to one node is subscribed to by every chorus node after gossip', async () => {
		const [legacyPort, portA, portB, portC] = await freePorts(4);
		const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/legacy_node.py');
		const legacy = spawn('/usr/bin/python3', [fixture, String(legacyPort), String(portA), 'py-legacy', '60'], {stdio: ['ignore', 'pipe', 'pipe']});
		cleanups.push(() => {
			legacy.kill('SIGKILL');
		});
		const heardByLegacy = new Set<string>();
		createInterface({input: legacy.stdout}).on('line', (line) => {
			try {
				heardByLegacy.add((JSON.parse(line) as {from: string}).from);
			} catch {}
		});

		const common = ['--demo', '0', '--report-ms', '200', '--gossip-interval', '0.5', '--ttl', '3'];
		const a = headless([...common, '--id', 'a', '--bind', String(portA), '--peer', String(legacyPort)]);
		await a.waitForSnapshot((snapshot) => alivePeer(snapshot, 'py-legacy'), 15_000);
		const b = headless([...common, '--id', 'b', '--bind', String(portB), '--join', String(portA)]);
		const c = headless([...common, '--id', 'c', '--bind', String(portC), '--join', String(portA)]);
		for (const node of [b, c]) {
			const snapshot = await node.waitForSnapshot((line) => alivePeer(line, 'py-legacy') && alivePeer(line, 'a'), 30_000).catch((error: unknown) => {
				const events = node.events.map((event) => `${event.kind} ${event.peer ?? event.endpoint ?? ''} ${event.reason ?? ''}`).join('; ');
				throw new Error(`${(error as Error).message}; events: ${events}; its members: ${JSON.stringify(node.lastSnapshot()?.members)}; a's: ${JSON.stringify(a.lastSnapshot()?.members)}`);
			});
			const legacyMember = (snapshot.members as MemberView[]).find((member) => member.id === 'py-legacy');
			expect(legacyMember).toMatchObject({legacy: true, state: 'alive', endpoint: `tcp://127.0.0.1:${legacyPort}`});
			expect(legacyMember).not.toHaveProperty('control');
		}

		// The node that was given the legacy peer lists it as a member too, legacy and data only.
		const membersOfA = a.lastSnapshot()!.members as MemberView[];
		expect(membersOfA.find((member) => member.id === 'py-legacy')).toMatchObject({legacy: true});
		// And the Python node hears only its configured peer: it knows nothing of membership.
		expect([...heardByLegacy]).toEqual(['a']);
	}, 90_000);

	test('gossip naming 10,000 fake members is capped at --max-peers, with no dial storm', async () => {
		const maxPeers = 20;
		const [dataPort, controlPort, victimPort] = await freePorts(3);
		// 100 listening sockets of ours: the fake members' data and control endpoints. Each counts the
		// connections it is asked to accept, and holds them open without a word (a dark member).
		let attempts = 0;
		const sockets = new Set<net.Socket>();
		const servers: net.Server[] = [];
		const onConnection = (socket: net.Socket) => {
			attempts++;
			sockets.add(socket);
			socket.on('error', () => {});
			socket.on('close', () => sockets.delete(socket));
		};

		for (let index = 0; index < 100; index++) {
			const server = net.createServer(onConnection);
			await new Promise<void>((resolve) => {
				server.listen(0, '127.0.0.1', resolve);
			});
			servers.push(server);
		}

		cleanups.push(async () => {
			for (const socket of sockets) {
				socket.destroy();
			}

			await Promise.all(servers.map(async (server) => new Promise((resolve) => {
				server.close(resolve);
			})));
		});
		const fakePorts = servers.map((server) => (server.address() as net.AddressInfo).port);
		const fakes = Array.from({length: 10_000}, (_, index) => ({
			id: `fake-${index}`,
			endpoint: `tcp://127.0.0.1:${fakePorts[index % 50]}`,
			control: `tcp://127.0.0.1:${fakePorts[50 + (index % 50)]}`,
			incarnation: 1,
			state: 'alive',
			legacy: false,
			changedAtMs: Date.now(),
		}));

		// The hostile seed: a publisher that announces its control endpoint, and a ROUTER there.
		const publisher = new zmq.Publisher({linger: 0});
		await publisher.bind(`tcp://127.0.0.1:${dataPort}`);
		const router = new zmq.Router({linger: 0});
		await router.bind(`tcp://127.0.0.1:${controlPort}`);
		let pulls = 0;
		const serving = (async () => {
			for await (const [identity, frame] of router) {
				const request = JSON.parse(frame!.toString()) as {id: number; op: string};
				pulls += request.op === 'members' ? 1 : 0;
				const reply = request.op === 'members' ? {v: 1, id: request.id, ok: true, members: fakes, total: fakes.length, truncated: false} : {v: 1, id: request.id, ok: true};
				await router.send([identity!, JSON.stringify(reply)]);
			}
		})().catch(() => {});
		let lamport = 0;
		const incarnation = Date.now();
		const ticker = setInterval(() => {
			void publisher.send(JSON.stringify({
				node_id: 'evil', phase: 0, lamport_time: ++lamport, incarnation, hz: 10,
				endpoint: `tcp://127.0.0.1:${dataPort}`, control: `tcp://127.0.0.1:${controlPort}`,
			})).catch(() => {});
		}, 100);
		cleanups.push(async () => {
			clearInterval(ticker);
			publisher.close();
			router.close();
			await serving;
		});

		const victim = headless(['--demo', '0', '--id', 'victim', '--bind', String(victimPort), '--join', String(dataPort), '--max-peers', String(maxPeers), '--ttl', '2', '--gossip-interval', '0.5', '--report-ms', '200']);
		await victim.waitForSnapshot((snapshot) => (snapshot.members as MemberView[]).length > 1, 15_000);
		const windowStartMs = performance.now();
		const ticksBefore = victim.lastSnapshot()!.stats.ticks as number;
		await new Promise((resolve) => {
			setTimeout(resolve, 10_000);
		});
		const snapshot = victim.lastSnapshot()!;
		const members = snapshot.members as MemberView[];
		// Capped: ourselves plus at most --max-peers others (the evil seed is one of them).
		expect(members.length).toBeLessThanOrEqual(maxPeers + 1);
		expect(members.filter((member) => member.id.startsWith('fake-')).length).toBeGreaterThan(0);
		expect(pulls).toBeGreaterThan(5);
		// No storm: the fakes the cap let in point at 20 or fewer of our sockets. Each endpoint is probed
		// once per backoff step (its socket redials inside one probe a few times: 0.1, 0.2, 0.4 … s),
		// so ten seconds give each at most a dozen attempts. Without the cap and the backoff, 10,000
		// members and repeated gossip would make thousands.
		const elapsedS = (performance.now() - windowStartMs) / 1000;
		expect(attempts, `${attempts} connection attempts in ${elapsedS.toFixed(1)} s`).toBeLessThan(maxPeers * 15);
		// The node ran throughout: it kept ticking and reporting.
		expect(victim.child.exitCode).toBeNull();
		expect(snapshot.stats.ticks).toBeGreaterThan(ticksBefore + 20);
		process.stdout.write(`membership-gossip: 10,000 fake members → ${members.length - 1} kept (max-peers ${maxPeers}), ${attempts} connection attempts in ${elapsedS.toFixed(1)} s, ${pulls} pulls\n`);
	}, 60_000);

	test('a seed that does not answer is retried with backoff, and the node runs on', async () => {
		const [deadSeed, own] = await freePorts(2);
		const node = headless(['--demo', '0', '--id', 'lonely', '--bind', String(own), '--join', String(deadSeed), '--report-ms', '200']);
		const first = await node.waitForEvent('join-retry', undefined, 15_000);
		const second = await node.waitFor((line) => line.type === 'event' && line.kind === 'join-retry' && line !== first, 15_000);
		expect(first).toMatchObject({endpoint: `tcp://127.0.0.1:${deadSeed}`, attempt: 1, retryInMs: 1000});
		expect(second).toMatchObject({attempt: 2, retryInMs: 2000});
		expect(node.child.exitCode).toBeNull();
	}, 40_000);

	test('members: bad input is one line and exit code 2; no answer is exit code 1', async () => {
		const attempt = async (args: string[]) => run(process.execPath, [CLI_PATH, 'members', ...args]).then(
			() => ({code: 0, stderr: ''}),
			(error: unknown) => error as {code: number; stderr: string},
		);
		for (const args of [[], ['--join', 'tcp://224.0.0.1:5555'], ['--join', 'nonsense'], ['--join', '5555', 'extra']]) {
			const result = await attempt(args);
			expect(result.code, result.stderr).toBe(2);
			expect(result.stderr.trim().split('\n')).toHaveLength(1);
		}

		const silent = await attempt(['--join', String(await freePort())]);
		expect(silent.code).toBe(1);
		expect(silent.stderr).toMatch(/no member answered/);
	}, 120_000);
});
