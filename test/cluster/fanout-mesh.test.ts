/**
The sparse mesh (`--fanout 4`) for real, joined through one seed:

- 30 nodes (MeshSession, what `chorus-tui --headless` runs, here in this one process over TCP
  loopback with their control planes) synchronise (r ≥ 0.9 over every node's own phase, read at one
  instant), each hears at most 4 peers, and their publishers hold at most 4 links per node in all;
- 10 `chorus-tui --headless` processes do the same, each process holding at most 4 TCP connections
  to other nodes' data ports (counted by `ss`), and after a SIGKILL of a member one node is coupled
  to, that node has picked another within TTL + backoff.

Coupling K = 4: a node couples to 4 peers (N = 5), so the pull on it is K·4/5 = 3.2 rad/s against a
natural-frequency spread of 0.3 rad/s; the default 2.5 locks too, more slowly on a busy machine.
*/

import {execFileSync} from 'node:child_process';
import {afterEach, describe, expect, test} from 'vitest';
import {ControlClient} from '../../source/cluster/control/client.js';
import {resolveConfig} from '../../source/config.js';
import {orderParameter} from '../../source/mesh/model/kuramoto.js';
import {MeshSession} from '../../source/session/session.js';
import {HeadlessProcess, stopAll, type Line} from '../helpers/headless-process.js';
import {freePorts} from '../helpers/ports.js';

const FANOUT = 4;
const TTL_S = 2;
const common = ['--demo', '0', '--fanout', String(FANOUT), '--ttl', String(TTL_S), '--gossip-interval', '0.5', '--coupling', '4'];

type MemberView = {id: string; state: string; coupled?: boolean; endpoint: string};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
	for (const cleanup of cleanups.splice(0).toReversed()) {
		await cleanup();
	}
});

async function sleep(ms: number): Promise<void> {
	await new Promise((resolve) => {
		setTimeout(resolve, ms);
	});
}

async function waitFor<T>(what: string | (() => string), check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, everyMs = 250): Promise<T> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined && value !== false) {
			return value;
		}

		if (performance.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
		}

		await sleep(everyMs);
	}
}

function coupledOf(members: readonly MemberView[] | undefined): MemberView[] {
	return (members ?? []).filter((member) => member.coupled === true);
}

describe('sparse mesh, --fanout 4, joined through one seed', () => {
	test('30 nodes in one process: r >= 0.9, each hears at most 4 peers', async () => {
		const count = 30;
		const ports = await freePorts(count * 2);
		const seedData = `tcp://127.0.0.1:${ports[0]}`;
		const sessions: MeshSession[] = [];
		cleanups.push(async () => {
			await Promise.all(sessions.map(async (session) => session.stop()));
		});
		const configFor = (index: number) => resolveConfig({
			id: `f${String(index).padStart(2, '0')}`,
			bind: String(ports[index * 2]),
			control: String(ports[(index * 2) + 1]),
			demo: '0', fanout: String(FANOUT), ttl: String(TTL_S), gossipInterval: '0.5', coupling: '4', seed: String(index + 1),
			...(index === 0 ? {} : {join: [seedData]}),
		});
		sessions.push(...Array.from({length: count}, (_, index) => new MeshSession(configFor(index))));
		await sessions[0]!.start();
		await Promise.all(sessions.slice(1).map(async (session) => session.start()));

		const globalR = () => orderParameter(sessions.map((session) => session.node.snapshot().node.phase));
		const everyoneKnowsEveryone = () => sessions.every((session) => (session.snapshot().members ?? []).filter((member) => member.state === 'alive').length === count);
		const known = () => `every node to know all 30 members; alive members known: ${sessions.map((session) => (session.snapshot().members ?? []).filter((member) => member.state === 'alive').length).join(' ')}`;
		await waitFor(known, everyoneKnowsEveryone, 40_000);
		// Past the TTL with no one new: the picks have settled, and links dropped in a swap are silent.
		await sleep((TTL_S * 1000) + 1000);
		const r = await waitFor('global r >= 0.9', () => {
			const value = globalR();
			return value >= 0.9 ? value : undefined;
		}, 40_000, 200);
		// Held, not a passing moment: sampled for 3 s.
		const samples: number[] = [r];
		for (let index = 0; index < 6; index++) {
			await sleep(500);
			samples.push(globalR());
		}

		expect(Math.min(...samples), `global r over 3 s: ${samples.map((value) => value.toFixed(3)).join(' ')}`).toBeGreaterThanOrEqual(0.9);
		let links = 0;
		for (const session of sessions) {
			const snapshot = session.snapshot();
			const hearing = snapshot.peers.filter((peer) => peer.state !== 'evicted' && peer.lastSeenMs < 1000);
			expect(hearing.length, `${snapshot.node.id} hears ${hearing.map((peer) => peer.id).join(', ')}`).toBeLessThanOrEqual(FANOUT);
			expect(hearing.length).toBeGreaterThan(0);
			const coupled = coupledOf(snapshot.members);
			expect(coupled.length).toBeLessThanOrEqual(FANOUT);
			// Known, not coupled: the other members, listed all the same.
			expect(snapshot.members!.length - 1 - coupled.length).toBeGreaterThanOrEqual(count - 1 - FANOUT);
			links += snapshot.stats.connections ?? 0;
		}

		// Links as our publishers count them (the other ends of everyone's subscriptions).
		expect(links).toBeLessThanOrEqual(count * FANOUT);
		expect(links).toBeGreaterThanOrEqual(count * (FANOUT - 1));
		process.stdout.write(`fanout-mesh: 30 nodes in one process, --fanout 4: global r ${samples.map((value) => value.toFixed(3)).join(' ')}; ${links} data links in all\n`);
	}, 120_000);

	test('10 processes over TCP: r >= 0.9, at most 4 data connections each, and a dead pick replaced within TTL + backoff', async () => {
		const count = 10;
		const ports = await freePorts(count * 2);
		const dataPorts = new Set(ports.filter((_, index) => index % 2 === 0));
		const nodes: HeadlessProcess[] = [];
		cleanups.push(async () => {
			await stopAll(nodes);
		});
		const args = (index: number) => [
			...common, '--id', `p${index}`, '--bind', String(ports[index * 2]), '--control', String(ports[(index * 2) + 1]), '--report-ms', '200', '--seed', String(index + 1),
			...(index === 0 ? [] : ['--join', String(ports[0])]),
		];
		nodes.push(new HeadlessProcess(args(0)));
		await nodes[0]!.waitForEvent('control-started', undefined, 30_000);
		for (let index = 1; index < count; index++) {
			nodes.push(new HeadlessProcess(args(index)));
		}

		const members = (node: HeadlessProcess) => node.lastSnapshot()?.members as MemberView[] | undefined;
		await waitFor('every node to know all 10 members', () => nodes.every((node) => (members(node) ?? []).filter((member) => member.state === 'alive').length === count), 60_000);
		await sleep((TTL_S * 1000) + 1000);

		// The global r: every node's own phase through the control plane's `view`, all asked at once, each
		// phase carried to one instant by the node's ω (a reply is at most a tick old).
		const client = new ControlClient({timeoutMs: 3000});
		cleanups.push(async () => {
			await client.close();
		});
		const globalR = async () => {
			const replies = await Promise.all(ports.filter((_, index) => index % 2 === 1).map(async (port) => {
				const reply = await client.request(`tcp://127.0.0.1:${port}`, {op: 'view', limit: 1});
				if (!reply.ok) {
					throw new Error(`view: ${reply.message}`);
				}

				return {node: reply['node'] as {phase: number; omega: number}, atMs: performance.now()};
			}));
			const instant = Math.max(...replies.map((reply) => reply.atMs));
			return orderParameter(replies.map(({node, atMs}) => node.phase + (node.omega * (instant - atMs) / 1000)));
		};

		const r = await waitFor('global r >= 0.9', async () => {
			const value = await globalR();
			return value >= 0.9 ? value : undefined;
		}, 40_000, 500);
		expect(r).toBeGreaterThanOrEqual(0.9);

		// Each process's TCP connections to another node's data port: its subscriptions, counted by the kernel.
		const connections = dataConnectionsByPid(dataPorts);
		for (const [index, node] of nodes.entries()) {
			const held = connections.get(node.pid)?.filter((port) => port !== ports[index * 2]) ?? [];
			expect(held.length, `p${index} holds ${held.length} data connections (${held.join(', ')})`).toBeLessThanOrEqual(FANOUT);
			expect(held.length).toBeGreaterThan(0);
			expect(coupledOf(members(node)).length).toBeLessThanOrEqual(FANOUT);
		}

		// SIGKILL a member that p1 is coupled to; p1 picks another within TTL + backoff (1 s at most here,
		// the first replacement after a quiet spell is immediate), plus the membership loop and a report.
		const watcher = nodes[1]!;
		const victimId = coupledOf(members(watcher)).map((member) => member.id).find((id) => id !== 'p1')!;
		expect(victimId).toBeDefined();
		const victim = nodes[Number(victimId.slice(1))]!;
		const from = watcher.lines.length;
		const killedAtMs = performance.now();
		victim.child.kill('SIGKILL');
		const replaced = await watcher.waitForSnapshot((snapshot: Line) => {
			const coupled = coupledOf(snapshot.members as MemberView[]);
			return coupled.length === FANOUT && coupled.every((member) => member.id !== victimId);
		}, 30_000, from);
		const seconds = (replaced.receivedAtMs - killedAtMs) / 1000;
		const boundS = TTL_S + 1 + 6;
		expect(seconds, `p1 re-picked ${seconds.toFixed(1)} s after ${victimId} was killed`).toBeLessThan(boundS);
		expect((replaced.members as MemberView[]).find((member) => member.id === victimId)).toMatchObject({coupled: false});
		process.stdout.write(`fanout-mesh: 10 processes, --fanout 4: global r ${r.toFixed(3)}; p1 re-picked ${seconds.toFixed(1)} s after ${victimId} was killed (TTL ${TTL_S} s)\n`);
	}, 150_000);
});

/** For each process: the remote ports of its established TCP connections to one of `ports`. */
function dataConnectionsByPid(ports: ReadonlySet<number>): Map<number, number[]> {
	const output = execFileSync('ss', ['-tnpH', 'state', 'established'], {encoding: 'utf8'});
	const byPid = new Map<number, number[]>();
	for (const line of output.split('\n')) {
		const fields = line.trim().split(/\s+/);
		const peer = Number(fields[3]?.split(':').at(-1));
		const pids = [...(fields.slice(4).join(' ').matchAll(/pid=(\d+)/g))].map((match) => Number(match[1]));
		if (!ports.has(peer)) {
			continue;
		}

		for (const pid of new Set(pids)) {
			byPid.set(pid, [...(byPid.get(pid) ?? []), peer]);
		}
	}

	return byPid;
}
