/**
The demo swarm on real processes: kill, pause, resume and restart act on `chorus-tui --headless`
children (seen in the process table), a restarted peer is re-admitted at once, a fault on a demo
peer acts inside that peer's process, and no child outlives its parent, even a SIGKILLed parent
with a SIGSTOPped child.
*/

import {readFileSync} from 'node:fs';
import {afterEach, describe, expect, it} from 'vitest';
import * as zmq from 'zeromq';
import {resolveConfig} from '../../source/config.js';
import type {SessionEvent} from '../../source/session/controller.js';
import {MeshSession} from '../../source/session/session.js';
import {HeadlessProcess} from '../helpers/headless-process.js';
import {freePort} from '../helpers/ports.js';

/** The state letter of /proc/PID/stat (R, S, T, Z ...), or undefined when there is no such process. */
function processState(pid: number): string | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
	} catch {
		return undefined;
	}
}

/** Gone, or a zombie that nobody reaped yet: either way it runs no more. */
function isGone(pid: number): boolean {
	const state = processState(pid);
	return state === undefined || state === 'Z' || state === 'X';
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	while (!condition()) {
		if (performance.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		}

		await new Promise((resolve) => {
			setTimeout(resolve, 50);
		});
	}
}

/** Record a session's events with the time each arrived. */
function recordEvents(session: MeshSession): Array<SessionEvent & {atMs: number}> {
	const events: Array<SessionEvent & {atMs: number}> = [];
	session.on((event) => {
		events.push({...event, atMs: performance.now()});
	});
	return events;
}

describe('demo swarm in a mesh session', () => {
	let session: MeshSession | undefined;
	const extraPids: number[] = [];
	afterEach(async () => {
		await session?.stop();
		session = undefined;
		for (const pid of extraPids.splice(0)) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {}
		}
	});

	it('kills, pauses, resumes and restarts real processes; a restarted peer is re-admitted at once', async () => {
		const config = resolveConfig({bind: String(await freePort()), demo: '2', ttl: '2', seed: '7'});
		session = new MeshSession(config);
		const events = recordEvents(session);
		await session.start();
		await session.demoPeersReady();
		const [demo1, demo2] = session.demoPeers;
		expect(demo1!.id).toBe('demo-1');
		expect(demo2!.id).toBe('demo-2');
		await waitUntil(() => ['demo-1', 'demo-2'].every((id) => session!.snapshot().peers.some((peer) => peer.id === id && peer.state === 'alive')), 10_000, 'both demo peers alive');
		const firstPid = demo2!.pid!;
		const firstIncarnation = demo2!.info().incarnation!;
		expect(processState(firstPid)).toMatch(/^[RSD]$/);
		expect(session.isDemoPeer('demo-2')).toBe(true);
		expect(session.isDemoPeer('somebody-else')).toBe(false);

		// Pause: the process is stopped (state T), and the node stops hearing from it.
		const paused = await session.togglePausePeer('demo-1');
		expect(paused.ok).toBe(true);
		expect(paused.message).toContain('SIGSTOP');
		expect(processState(demo1!.pid!)).toBe('T');
		await waitUntil(() => (session!.snapshot().peers.find((peer) => peer.id === 'demo-1')?.lastSeenMs ?? 0) > 1000, 5000, 'demo-1 silent');
		expect(session.snapshot().demo.find((peer) => peer.id === 'demo-1')?.state).toBe('paused');

		// Resume: running again, and heard again.
		const resumed = await session.togglePausePeer('demo-1');
		expect(resumed.ok).toBe(true);
		expect(processState(demo1!.pid!)).not.toBe('T');
		await waitUntil(() => (session!.snapshot().peers.find((peer) => peer.id === 'demo-1')?.lastSeenMs ?? 1e9) < 500, 5000, 'demo-1 heard again');

		// Kill: SIGKILL, the process is gone from the table.
		const killed = await session.killPeer('demo-2');
		expect(killed).toEqual({ok: true, message: `demo-2 killed (SIGKILL, pid ${firstPid})`});
		expect(isGone(firstPid)).toBe(true);
		expect((await session.killPeer('demo-2')).ok).toBe(false);

		// Revive: a new process on the same port with the same id and a newer incarnation. Watch its
		// publisher directly to know when its first message is on the wire.
		const wire = new zmq.Subscriber({reconnectInterval: 100, linger: 0});
		wire.connect(demo2!.endpoint);
		wire.subscribe();
		let firstWireMessageMs: number | undefined;
		const watching = (async () => {
			for await (const [frame] of wire) {
				const message = JSON.parse(frame!.toString()) as {incarnation?: number};
				if ((message.incarnation ?? 0) > firstIncarnation) {
					firstWireMessageMs = performance.now();
					return;
				}
			}
		})().catch(() => {});
		try {
			const revived = await session.revivePeer('demo-2');
			expect(revived.ok).toBe(true);
			const info = demo2!.info();
			expect(info.pid).not.toBe(firstPid);
			expect(info.incarnation).toBeGreaterThan(firstIncarnation);
			expect(info.endpoint).toBe(demo2!.endpoint);
			expect(processState(info.pid!)).toMatch(/^[RSD]$/);
			await waitUntil(
				() => events.some((event) => event.kind === 'peer-restarted' && event.peer === 'demo-2' && event['incarnation'] === info.incarnation),
				10_000,
				'peer-restarted for demo-2',
			);
			await waitUntil(() => firstWireMessageMs !== undefined, 5000, 'the revived peer on the wire');
			const restartedAt = events.find((event) => event.kind === 'peer-restarted' && event.peer === 'demo-2')!.atMs;
			const admissionLagMs = restartedAt - firstWireMessageMs!;
			// Two ticks are 200 ms; our own subscriber and the node's reconnect independently (100 ms
			// each), and the machine is shared, hence the slack.
			console.log(`restart: re-admitted ${Math.round(admissionLagMs)} ms after its first message reached a watcher`);
			expect(admissionLagMs).toBeLessThan(1000);
			const peer = session.snapshot().peers.find((candidate) => candidate.id === 'demo-2');
			expect(peer?.incarnation).toBe(info.incarnation);
			expect(peer?.state === 'restarted' || peer?.state === 'alive').toBe(true);
		} finally {
			wire.close();
			await watching;
		}

		// Restart of a running peer: kill and start again in one step.
		const beforeRestart = demo1!.pid!;
		const restarted = await session.restartPeer('demo-1');
		expect(restarted.ok).toBe(true);
		expect(isGone(beforeRestart)).toBe(true);
		expect(demo1!.info().restarts).toBe(1);

		// Remote peers are not processes of ours: kill is a local blackhole, and it says so.
		const remote = await session.killPeer('far-away');
		expect(remote.ok).toBe(true);
		expect(remote.message).toContain('blackholed here only');
		expect(session.snapshot().faults.peers['far-away']?.blackhole).toBe(true);
		expect((await session.togglePausePeer('far-away')).ok).toBe(false);
		expect((await session.revivePeer('far-away')).ok).toBe(true);
		expect(session.snapshot().faults.peers['far-away']).toBeUndefined();

		// Stop takes every child with it.
		const pids = session.snapshot().demo.map((peer) => peer.pid!);
		await session.stop();
		expect(pids.every((pid) => isGone(pid))).toBe(true);
	});

	it('a fault set on a demo peer acts inside its process, so the whole mesh feels it', async () => {
		const config = resolveConfig({bind: String(await freePort()), demo: '2', ttl: '1.5', seed: '11'});
		session = new MeshSession(config);
		const events = recordEvents(session);
		await session.start();
		await session.demoPeersReady();
		const [demo1, demo2] = session.demoPeers;
		// demo-1 must hear demo-2 before the fault, in its own NDJSON.
		await waitUntil(() => (demo1!.lastSnapshot?.['peers'] as any[] | undefined)?.some((peer) => peer.id === 'demo-2' && peer.state === 'alive') ?? false, 10_000, 'demo-1 hearing demo-2');
		// ... and so must this node: a peer never heard cannot be evicted (a first dial that finds
		// the demo peer not yet bound is retried after a backoff of up to a second).
		await waitUntil(() => session!.snapshot().peers.some((peer) => peer.id === 'demo-2' && peer.state === 'alive'), 10_000, 'this node hearing demo-2');

		session.setInboundFault('demo-2', {blackhole: true});
		const set = events.find((event) => event.kind === 'fault-set' && event.peer === 'demo-2');
		expect(set?.['fault']).toMatchObject({blackhole: true});
		expect(session.snapshot().faults.peers['demo-2']?.blackhole).toBe(true);
		// The embedded node evicts it (its publisher drops everything) ...
		await waitUntil(() => events.some((event) => event.kind === 'peer-evicted' && event.peer === 'demo-2'), 6000, 'demo-2 evicted here').catch((error: unknown) => {
			const here = session!.snapshot().peers.find((peer) => peer.id === 'demo-2');
			throw new Error(`${(error as Error).message}; here: ${JSON.stringify(here)}; demo-2 says: ${JSON.stringify(demo2!.lastSnapshot?.['faults'])}; events: ${JSON.stringify(events.filter((event) => event.peer === 'demo-2' || event.kind.startsWith('fault')).slice(-8))}`);
		});
		// ... and so does another demo peer, which has no fault of its own.
		await waitUntil(
			() => !((demo1!.lastSnapshot?.['peers'] as any[] | undefined)?.some((peer) => peer.id === 'demo-2' && peer.state === 'alive') ?? true),
			6000,
			'demo-1 no longer hearing demo-2',
		);
		// demo-2 itself reports the fault in force in its own process.
		await waitUntil(() => (demo2!.lastSnapshot?.['faults'] as any)?.outbound?.drop === 1, 4000, 'demo-2 reporting its outbound fault');
		expect((demo2!.lastSnapshot?.['faults'] as any).all?.blackhole).toBe(true);

		// Cleared: heard again everywhere.
		session.clearFaults();
		expect(session.snapshot().faults.peers['demo-2']).toBeUndefined();
		expect(events.some((event) => event.kind === 'fault-cleared' && event.peer === 'demo-2')).toBe(true);
		await waitUntil(() => session!.snapshot().peers.some((peer) => peer.id === 'demo-2' && peer.state === 'alive'), 6000, 'demo-2 back here');
	});
});

describe('no orphans', () => {
	const processes: HeadlessProcess[] = [];
	const childPids: number[] = [];
	afterEach(async () => {
		for (const child of processes.splice(0)) {
			await child.stop('SIGKILL');
		}

		for (const pid of childPids.splice(0)) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {}
		}
	});

	async function startParent(env: NodeJS.ProcessEnv = {}): Promise<{parent: HeadlessProcess; pids: number[]}> {
		const parent = new HeadlessProcess(['--demo', '3', '--bind', String(await freePort()), '--report-ms', '200'], {env});
		processes.push(parent);
		const snapshot = await parent.waitForSnapshot(
			(line) => (line['demo'] as any[]).length === 3 && (line['demo'] as any[]).every((peer) => peer.state === 'running'),
			20_000,
		);
		const pids = (snapshot['demo'] as any[]).map((peer) => peer.pid as number);
		childPids.push(...pids);
		expect(pids.every((pid) => !isGone(pid))).toBe(true);
		return {parent, pids};
	}

	it('SIGKILL of the parent takes every demo peer with it, a paused one too', async () => {
		const {parent, pids} = await startParent();
		process.kill(pids[0]!, 'SIGSTOP');
		await waitUntil(() => processState(pids[0]!) === 'T', 2000, 'demo-1 stopped');
		parent.child.kill('SIGKILL');
		await parent.exited;
		await waitUntil(() => pids.every((pid) => isGone(pid)), 5000, `no survivors among ${pids.join(', ')}`);
	});

	it('without setpriv, running demo peers still notice their parent is gone and exit', async () => {
		const {parent, pids} = await startParent({CHORUS_DEMO_SETPRIV: '0'});
		parent.child.kill('SIGKILL');
		await parent.exited;
		await waitUntil(() => pids.every((pid) => isGone(pid)), 8000, `no survivors among ${pids.join(', ')}`);
	});

	it('SIGTERM stops the parent and its demo peers cleanly', async () => {
		const {parent, pids} = await startParent();
		const {code} = await parent.stop('SIGTERM');
		expect(code).toBe(0);
		await waitUntil(() => pids.every((pid) => isGone(pid)), 5000, 'demo peers stopped');
		expect(parent.events.some((event) => event['kind'] === 'node-stopped')).toBe(true);
	});
});
