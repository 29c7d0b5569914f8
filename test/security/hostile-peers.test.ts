/**
Hostile peers against a real node over loopback, one `describe` per attack, each with a legitimate
peer beside the target. For every attack the test asserts that the node keeps ticking (at least 70 %
of its rate), that its legitimate peers stay alive, and that the refusal is counted.

The hostile peer is a bare ZeroMQ publisher that the node subscribes to: what one dialled peer, or
anyone who can take over one peer endpoint, can send without CURVE.
*/

import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {afterEach, describe, expect, it} from 'vitest';
import {MAX_LAMPORT_TIME} from '../../source/mesh/model/lamport.js';
import {MAX_INCARNATION_AHEAD_MS} from '../../source/mesh/model/peer-table.js';
import type {EngineChoice} from '../../source/mesh/net/engine/select.js';
import type {TransportOptions} from '../../source/mesh/net/transport.js';
import {ChorusNode} from '../../source/mesh/node.js';
import {eventually, nextEvent, RawPeer, sleep, testNodeOptions} from '../helpers/nodes.js';
import {freePort} from '../helpers/ports.js';
import {HeadlessProcess, peerOf} from '../helpers/headless-process.js';

const nodes: ChorusNode[] = [];
const rawPeers: RawPeer[] = [];

afterEach(async () => {
	for (const peer of rawPeers.splice(0)) {
		peer.close();
	}

	await Promise.all(nodes.splice(0).map(async (node) => node.stop()));
});

const HZ = 10;
const TICK_MS = 1000 / HZ;

async function startNode(id: string, peerEndpoints: string[] = []): Promise<ChorusNode> {
	const node = new ChorusNode(await testNodeOptions({id, peerEndpoints, hz: HZ}));
	nodes.push(node);
	await node.start();
	return node;
}

async function hostilePeer(): Promise<RawPeer> {
	const peer = await new RawPeer().bind();
	rawPeers.push(peer);
	return peer;
}

/** Connect two running nodes both ways and wait until each lists the other as alive. */
async function link(a: ChorusNode, b: ChorusNode): Promise<void> {
	a.addPeer(b.endpoint);
	b.addPeer(a.endpoint);
	await eventually(`${a.id} and ${b.id} alive to each other`, () => isAlive(a, b.id) && isAlive(b, a.id), 5000);
}

function isAlive(node: ChorusNode, peerId: string): boolean {
	return node.snapshot().peers.some((peer) => peer.id === peerId && peer.state === 'alive');
}

function lamport(node: ChorusNode): number {
	return node.snapshot().node.lamport;
}

function rejected(node: ChorusNode, reason: 'lamport-jump' | 'incarnation-ahead' | 'stale'): number {
	return node.snapshot().stats.rejected[reason] ?? 0;
}

/** Ticks a second over `windowMs`, as a fraction of the nominal rate. */
async function tickRateShare(node: ChorusNode, windowMs = 1000): Promise<number> {
	const before = node.snapshot().stats.ticks;
	const startedMs = performance.now();
	await sleep(windowMs);
	const ticks = node.snapshot().stats.ticks - before;
	return ticks / ((performance.now() - startedMs) / 1000) / HZ;
}

const frame = (fields: Record<string, unknown>) => JSON.stringify({phase: 0.5, ...fields});

describe('clock poisoning: one message at 2^53 − 1 to a node with no live peer', () => {
	it('is refused and counted; the clock stays sane, and a legitimate peer joins both ways afterwards', async () => {
		const hostile = await hostilePeer();
		const subscribed = hostile.waitForSubscriber();
		const target = await startNode('target', [hostile.endpoint]);
		await subscribed;

		await hostile.send(frame({node_id: 'evil', lamport_time: Number.MAX_SAFE_INTEGER, incarnation: 1}));
		// Just under the cap, on the word of one connection: a leap with no witness.
		await hostile.send(frame({node_id: 'evil', lamport_time: MAX_LAMPORT_TIME - 1, incarnation: 1}));
		await eventually('both refusals counted', () => rejected(target, 'lamport-jump') === 2, 3000);
		expect(target.snapshot().stats.admitted).toBe(0);
		expect(lamport(target)).toBeLessThan(1000);

		// Not left unrecoverable: a legitimate peer admits it and is admitted, with no refusal.
		const legitimate = await startNode('legitimate');
		await link(target, legitimate);
		expect(rejected(legitimate, 'lamport-jump')).toBe(0);
		expect(rejected(target, 'lamport-jump')).toBe(2);
		expect(lamport(target)).toBeLessThan(1000);
		const share = await tickRateShare(target);
		console.log(`lone node after a 2^53 − 1 stamp: lamport ${lamport(target)}, ${Math.round(share * 100)} % of its tick rate`);
		expect(share).toBeGreaterThanOrEqual(0.7);
		expect(isAlive(target, 'legitimate') && isAlive(legitimate, 'target')).toBe(true);
	});
});

describe('clock poisoning: one message a million ahead in a live mesh', () => {
	it('is refused and counted, under a new id or a live peer\'s, and no clock in the mesh moves by a million', async () => {
		const hostile = await hostilePeer();
		const subscribed = hostile.waitForSubscriber();
		const target = await startNode('target', [hostile.endpoint]);
		await subscribed;
		const legitimate = await startNode('legitimate');
		await link(target, legitimate);

		const before = Math.max(lamport(target), lamport(legitimate));
		await hostile.send(frame({node_id: 'evil', lamport_time: lamport(target) + 1_000_000, incarnation: 1}));
		// And under the legitimate peer's own id: refused, and it does not even quarantine the peer.
		await hostile.send(frame({node_id: 'legitimate', lamport_time: lamport(target) + 1_000_000, incarnation: legitimate.incarnation}));
		await eventually('both leaps counted', () => rejected(target, 'lamport-jump') === 2, 3000);
		expect(isAlive(target, 'legitimate')).toBe(true);
		// Long enough for a poisoned clock to reach the other node several times over.
		const share = await tickRateShare(target);
		const after = {target: lamport(target), legitimate: lamport(legitimate)};
		console.log(`live mesh after a +1,000,000 stamp: clocks ${before} → ${JSON.stringify(after)}, ${Math.round(share * 100)} % of the tick rate`);
		expect(after.target - before).toBeLessThan(10_000);
		expect(after.legitimate - before).toBeLessThan(10_000);
		expect(rejected(legitimate, 'lamport-jump')).toBe(0);
		expect(target.snapshot().peers.map((peer) => peer.id)).toEqual(['legitimate']);
		expect(share).toBeGreaterThanOrEqual(0.7);
		expect(isAlive(target, 'legitimate') && isAlive(legitimate, 'target')).toBe(true);
	});
});

describe('clock poisoning: a spoofed id with incarnation 2^53 − 1 every 2 s', () => {
	it('is refused each time as incarnation-ahead, and the genuine peer with that id stays admitted', async () => {
		const hostile = await hostilePeer();
		const subscribed = hostile.waitForSubscriber();
		const target = await startNode('target', [hostile.endpoint]);
		await subscribed;
		const genuine = await startNode('genuine');
		await link(target, genuine);
		const genuineIncarnation = genuine.incarnation;

		const ticksBefore = target.snapshot().stats.ticks;
		const genuineLamportBefore = target.snapshot().peers.find((peer) => peer.id === 'genuine')!.lamport;
		const startedMs = performance.now();
		const sent = 3;
		for (let round = 0; round < sent; round++) {
			await hostile.send(frame({node_id: 'genuine', lamport_time: 1, incarnation: Number.MAX_SAFE_INTEGER}));
			await sleep(2000);
			const seen = target.snapshot().peers.find((peer) => peer.id === 'genuine');
			expect(seen, `round ${round}`).toMatchObject({state: 'alive', incarnation: genuineIncarnation});
		}

		// One just over a day ahead is refused too; one just under is a skewed clock, not a forgery.
		expect(MAX_INCARNATION_AHEAD_MS).toBe(86_400_000);
		await hostile.send(frame({node_id: 'genuine', lamport_time: 1, incarnation: Date.now() + MAX_INCARNATION_AHEAD_MS + 60_000}));
		await eventually('every forged incarnation counted', () => rejected(target, 'incarnation-ahead') === sent + 1, 3000);

		const stats = target.snapshot().stats;
		const share = (stats.ticks - ticksBefore) / ((performance.now() - startedMs) / 1000) / HZ;
		const seen = target.snapshot().peers.find((peer) => peer.id === 'genuine')!;
		console.log(`spoofed incarnation: ${rejected(target, 'incarnation-ahead')} refused, genuine peer's lamport ${genuineLamportBefore} → ${seen.lamport}, stale ${rejected(target, 'stale')}, ${Math.round(share * 100)} % of the tick rate`);
		// Every genuine message since is admitted: none is stale, and its clock (one tick or more per
		// message) went on arriving for the whole 6 s.
		expect(rejected(target, 'stale')).toBe(0);
		expect(seen.lamport - genuineLamportBefore).toBeGreaterThan(0.7 * HZ * 6);
		expect(seen).toMatchObject({state: 'alive', incarnation: genuineIncarnation});
		expect(share).toBeGreaterThanOrEqual(0.7);
		expect(isAlive(genuine, 'target')).toBe(true);
	}, 20_000);
});

describe('clock poisoning: a newcomer to a mesh at ~5,000,000', () => {
	it('adopts the mesh time within two ticks, both ways, while each clock refuses one voice alone', async () => {
		// Lift a node to ~5,000,000 as a long-running mesh would be: two sources on two connections agree.
		const [first, second] = [await hostilePeer(), await hostilePeer()];
		const subscribed = [first.waitForSubscriber(), second.waitForSubscriber()];
		const elder = await startNode('elder', [first.endpoint, second.endpoint]);
		await Promise.all(subscribed);
		await first.send(frame({node_id: 'old-1', lamport_time: 5_000_000, incarnation: 1}));
		await eventually('one voice refused', () => rejected(elder, 'lamport-jump') === 1, 3000);
		expect(lamport(elder)).toBeLessThan(1000);
		await second.send(frame({node_id: 'old-2', lamport_time: 5_000_010, incarnation: 1}));
		await eventually('two voices believed', () => lamport(elder) > 5_000_000, 3000);

		// A node whose only peer is far ahead (a two-node mesh where one restarted) follows it from
		// that peer's second message.
		const follower = await startNode('follower');
		const peerMark = performance.now();
		await link(elder, follower);
		await eventually('the lone peer adopts the time of its one peer', () => lamport(follower) > 5_000_000, 3000);
		console.log(`single-peer restart: adopted after ${Math.round(performance.now() - peerMark)} ms, ${rejected(follower, 'lamport-jump')} refused first`);
		expect(rejected(follower, 'lamport-jump')).toBeLessThanOrEqual(2);
		const meshLamport = Math.min(lamport(elder), lamport(follower));

		// The newcomer: started with both as peers, and added to theirs.
		const joined = [elder, follower].map(async (node) => nextEvent(node, (event) => event.kind === 'peer-joined' && event.peer === 'newcomer', 5000));
		const newcomer = new ChorusNode(await testNodeOptions({id: 'newcomer', peerEndpoints: [elder.endpoint, follower.endpoint], hz: HZ}));
		nodes.push(newcomer);
		const admits = ['elder', 'follower'].map(async (id) => nextEvent(newcomer, (event) => event.kind === 'peer-joined' && event.peer === id, 5000));
		const startedMs = performance.now();
		await newcomer.start();
		elder.addPeer(newcomer.endpoint);
		follower.addPeer(newcomer.endpoint);
		await Promise.all([...joined, ...admits]);
		const bothWaysMs = performance.now() - startedMs;
		console.log(`newcomer to a mesh at ${meshLamport}: admitted both ways ${Math.round(bothWaysMs)} ms after start, lamport ${lamport(newcomer)}, ${rejected(newcomer, 'lamport-jump')} refused first`);
		// As for the late joiner of defect 4: two ticks, a reconnect, and room for a loaded machine.
		expect(bothWaysMs).toBeLessThan(2 * TICK_MS + 100 + 900);
		expect(lamport(newcomer)).toBeGreaterThan(meshLamport);
		// The first message of the first peer heard, before a second agreed; never more.
		expect(rejected(newcomer, 'lamport-jump')).toBeLessThanOrEqual(2);
		expect(rejected(elder, 'lamport-jump')).toBe(1);

		const share = await tickRateShare(newcomer);
		expect(share).toBeGreaterThanOrEqual(0.7);
		expect(isAlive(newcomer, 'elder') && isAlive(newcomer, 'follower')).toBe(true);
		expect(isAlive(elder, 'newcomer') && isAlive(follower, 'newcomer') && isAlive(elder, 'follower')).toBe(true);
	}, 20_000);
});

// ——— Resource bounds of the network layer (issue 12, items 1–4 and 6) ———
// The attacker runs in a process of its own (zmtp-attacker.mjs), speaking raw ZMTP: in the test's
// process its flood would share the node's event loop and measure the test, not the node.

const ATTACKER = fileURLToPath(new URL('zmtp-attacker.mjs', import.meta.url));
const attackers: ChildProcess[] = [];
const headless: HeadlessProcess[] = [];
const ATTACK_MS = 6000;
/** How much the test process's resident memory may grow during one attack (two nodes live in it). */
const RSS_GROWTH_BOUND_MB = 200;

afterEach(async () => {
	for (const child of attackers.splice(0)) {
		child.kill('SIGKILL');
	}

	await Promise.all(headless.splice(0).map(async (child) => child.stop()));
});

type AttackerReport = {ready?: boolean; port?: number; sent?: number; open?: number; closed?: number; errors?: number};

/** Start the attacker; resolves with its first line (ready, and the port it listens on when it does). */
async function attacker(options: Record<string, unknown>): Promise<{child: ChildProcess; ready: AttackerReport; last: () => AttackerReport}> {
	// A port from the same source as the nodes' (never handed out twice): with port 0 the kernel could
	// give the attacker one a node is about to bind.
	const child = spawn(process.execPath, [ATTACKER, JSON.stringify({port: await freePort(), ...options})], {stdio: ['ignore', 'pipe', 'inherit']});
	attackers.push(child);
	let last: AttackerReport = {};
	const ready = await new Promise<AttackerReport>((resolve, reject) => {
		createInterface({input: child.stdout}).on('line', (line) => {
			const report = JSON.parse(line) as AttackerReport;
			if (report.ready === true) {
				resolve(report);
			} else {
				last = report;
			}
		});
		child.once('exit', (code) => {
			reject(new Error(`the attacker exited (${code})`));
		});
	});
	return {child, ready, last: () => last};
}

type AttackFigures = {tickShare: number; rssStartMb: number; rssPeakMb: number; tickP99Ms: number; cpuShare: number};

/** Watch `node` for `ms`: its tick rate as a share of HZ, and this process's resident memory, sampled every 100 ms. */
async function watch(node: ChorusNode, ms = ATTACK_MS): Promise<AttackFigures> {
	const rssStartMb = process.memoryUsage().rss / 2 ** 20;
	let rssPeakMb = rssStartMb;
	const sampler = setInterval(() => {
		rssPeakMb = Math.max(rssPeakMb, process.memoryUsage().rss / 2 ** 20);
	}, 100);
	const cpuBefore = process.cpuUsage();
	const wallBefore = performance.now();
	try {
		const tickShare = await tickRateShare(node, ms);
		const cpu = process.cpuUsage(cpuBefore);
		const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore);
		return {tickShare, rssStartMb, rssPeakMb, tickP99Ms: node.snapshot().stats.tickLateMs.p99, cpuShare};
	} finally {
		clearInterval(sampler);
	}
}

function report(name: string, figures: AttackFigures, counts: unknown): void {
	console.log(
		`${name}: ${Math.round(figures.tickShare * 100)} % of the tick rate (p99 late ${figures.tickP99Ms} ms), CPU ${Math.round(figures.cpuShare * 100)} % of a core (both nodes), RSS ${Math.round(figures.rssStartMb)} → peak ${Math.round(figures.rssPeakMb)} MiB, ${JSON.stringify(counts)}`,
	);
}

function expectSurvived(figures: AttackFigures, node: ChorusNode, legitimate: ChorusNode): void {
	expect(figures.tickShare).toBeGreaterThanOrEqual(0.7);
	expect(figures.rssPeakMb - figures.rssStartMb).toBeLessThan(RSS_GROWTH_BOUND_MB);
	expect(isAlive(node, legitimate.id) && isAlive(legitimate, node.id)).toBe(true);
}

async function startOn(engine: EngineChoice, id: string, peerEndpoints: string[] = [], transport: Partial<TransportOptions> = {}): Promise<ChorusNode> {
	const node = new ChorusNode(await testNodeOptions({id, peerEndpoints, hz: HZ, transport: {engine, ...transport}}));
	nodes.push(node);
	await node.start();
	return node;
}

const ENGINES: EngineChoice[] = ['builtin', 'libzmq'];

describe('a publisher we dial sends endless empty frames with MORE', () => {
	// The built-in engine only: libzmq queues the parts of an unfinished message without any bound
	// (its high-water mark counts whole messages, and it has no part limit), about 64 bytes per 2-byte
	// frame: measured here, 79 → 441 MiB in 6 s, the silence watchdog's redial the only brake.
	it.each(['builtin'] as const)('on %s: the link is cut as too-many-parts and redialled with backoff; the node ticks, its legitimate peer stays', async (engine) => {
		const hostile = await attacker({mode: 'empty-more'});
		const target = await startOn(engine, 'target', [`tcp://127.0.0.1:${hostile.ready.port}`]);
		const legitimate = await startNode('legitimate');
		await link(target, legitimate);
		const figures = await watch(target);
		const {stats} = target.snapshot();
		report(`empty MORE frames (${engine})`, figures, {linkRefused: stats.linkRefused, attackerSentMb: Math.round((hostile.last().sent ?? 0) / 2 ** 20), attackerConnections: hostile.last().open});
		expectSurvived(figures, target, legitimate);
		expect(stats.linkRefused?.['too-many-parts']).toBeGreaterThanOrEqual(1);
		// Backoff: cut, then redialled ever more slowly (0.1, 0.2 … 5 s), not ten times a second.
		expect(hostile.last().open ?? 0).toBeLessThan(12);
		expect(target.snapshot().peers.map((peer) => peer.id)).toEqual(['legitimate']);
	}, 30_000);
});

describe('a publisher we dial floods tiny unknown commands', () => {
	it.each(ENGINES)('on %s: the node does not freeze; the built-in engine cuts the link as command-flood', async (engine) => {
		const hostile = await attacker({mode: 'unknown-commands'});
		const target = await startOn(engine, 'target', [`tcp://127.0.0.1:${hostile.ready.port}`]);
		const legitimate = await startNode('legitimate');
		await link(target, legitimate);
		const figures = await watch(target);
		const {stats} = target.snapshot();
		report(`unknown commands (${engine})`, figures, {linkRefused: stats.linkRefused, attackerSentMb: Math.round((hostile.last().sent ?? 0) / 2 ** 20), attackerConnections: hostile.last().open});
		expectSurvived(figures, target, legitimate);
		if (engine === 'builtin') {
			expect(stats.linkRefused?.['command-flood']).toBeGreaterThanOrEqual(1);
			// Backoff: cut, then redialled ever more slowly, not ten times a second.
			expect(hostile.last().open ?? 0).toBeLessThan(12);
		}
	}, 30_000);
});

describe('three subscribers flood PING and never read', () => {
	it.each(ENGINES)('on %s: PONGs stay bounded, the node ticks, its legitimate peer stays', async (engine) => {
		const target = await startOn(engine, 'target');
		const legitimate = await startNode('legitimate');
		await link(target, legitimate);
		await attacker({mode: 'ping-flood', target: target.endpoint, clients: 3});
		const figures = await watch(target);
		const {stats} = target.snapshot();
		report(`PING flood (${engine})`, figures, {refused: stats.refused, connections: stats.connections});
		expectSurvived(figures, target, legitimate);
		if (engine === 'builtin') {
			// Each flooding client is cut at its control budget; none is left holding PONGs.
			expect(stats.refused?.['command-flood']).toBeGreaterThanOrEqual(3);
			expect(stats.connections).toBe(1);
		}
	}, 30_000);
});

describe('many subscribers with long, huge (> 16,383 chars) and thousands of short prefixes', () => {
	it('are bounded node-wide in count and bytes; the newest are refused and counted, and publishing stays cheap', async () => {
		const target = await startOn('builtin', 'target');
		const legitimate = await startNode('legitimate');
		await link(target, legitimate);
		// 30 connections × (5 of 60,000 bytes + 10 of 20,000 + 900 short): 15 MiB and 27,450 prefixes, past both bounds.
		const connections = 30;
		const hostile = await attacker({mode: 'prefixes', target: target.endpoint, connections, long: 5, huge: 10, short: 900});
		const figures = await watch(target);
		const {stats} = target.snapshot();
		report('subscriptions', figures, {
			refused: stats.refused,
			connections: stats.connections,
			subscriptions: stats.subscriptions,
			subscriptionMb: Math.round(((stats.subscriptionBytes ?? 0) / 2 ** 20) * 10) / 10,
			attackerSentMb: Math.round((hostile.last().sent ?? 0) / 2 ** 20),
		});
		expectSurvived(figures, target, legitimate);
		expect(stats.connections).toBe(connections + 1);
		expect(stats.refused?.['subscription-limit']).toBeGreaterThan(0);
		expect(stats.subscriptions).toBeLessThanOrEqual(10_000);
		expect(stats.subscriptionBytes).toBeLessThanOrEqual(4 * 2 ** 20);
		// Thousands of prefixes that begin as our messages do cost each publish little, once the stream of
		// subscriptions is over: the CPU of this process (both nodes, 41 subscribers) stays low.
		const steady = await watch(target, 2000);
		console.log(`subscriptions, steady state: CPU ${Math.round(steady.cpuShare * 100)} % of a core, ${Math.round(steady.tickShare * 100)} % of the tick rate`);
		expect(steady.cpuShare).toBeLessThan(0.25);
	}, 30_000);
});

describe('a connection flood past --max-connections, and a legitimate peer that restarts during it', () => {
	it('refuses the excess and counts it, keeps its own dials, and redials the restarted peer', async () => {
		const maxConnections = 200;
		const target = await startOn('builtin', 'target', [], {maxConnections});
		let legitimate = await startNode('legitimate');
		await link(target, legitimate);
		const legitimateEndpoint = legitimate.endpoint;
		const flooding = attacker({mode: 'connections', target: target.endpoint, count: 1500});
		const figures = await watch(target);
		await flooding;
		// On a loaded machine the last connects may still be retrying (a full SYN backlog).
		await eventually('the flood met the bound', () => (target.snapshot().stats.refused?.['max-connections'] ?? 0) > 1000, 15_000);
		let {stats} = target.snapshot();
		expect(stats.connections).toBeLessThanOrEqual(maxConnections);

		// The peer restarts on the same endpoint while the flood holds every connection slot: our dial
		// to it comes out of the reserve, and the new incarnation is admitted.
		const restartedMark = performance.now();
		await legitimate.stop();
		nodes.splice(nodes.indexOf(legitimate), 1);
		legitimate = new ChorusNode({...(await testNodeOptions({id: 'legitimate', hz: HZ})), bindEndpoint: legitimateEndpoint});
		nodes.push(legitimate);
		const incarnation = legitimate.incarnation;
		await legitimate.start();
		await eventually('the restarted peer is admitted', () => target.snapshot().peers.some((peer) => peer.id === 'legitimate' && peer.incarnation === incarnation && peer.state !== 'evicted'), 5000);
		const readmittedMs = Math.round(performance.now() - restartedMark);
		stats = target.snapshot().stats;
		report('connection flood', figures, {refused: stats.refused, connections: stats.connections, dialFailed: stats.dialFailed, readmittedMs});
		expect(figures.tickShare).toBeGreaterThanOrEqual(0.7);
		expect(figures.rssPeakMb - figures.rssStartMb).toBeLessThan(RSS_GROWTH_BOUND_MB);
	}, 45_000);
});

describe('a connection flood against a node on --engine libzmq that runs out of descriptors', () => {
	it('never exits on EMFILE: counts it, sheds the flood, keeps ticking, and redials its restarted peer during it', async () => {
		let legitimate = await startNode('legitimate');
		const legitimateEndpoint = legitimate.endpoint;
		const target = new HeadlessProcess(['--id', 'target', '--bind', String(await freePort()), '--peer', legitimateEndpoint, '--demo', '0', '--engine', 'libzmq', '--max-connections', '200', '--report-ms', '250']);
		headless.push(target);
		await target.waitForSnapshot((snapshot) => peerOf(snapshot, 'legitimate')?.state === 'alive', 10_000);
		const endpoint = (target.lastSnapshot()!.node as {endpoint: string}).endpoint;
		legitimate.addPeer(endpoint);
		// Few descriptors to spare, as under a flood of tens of thousands on the default limit.
		const pid = nodePid(target.pid);
		const open = readdirSync(`/proc/${pid}/fd`).length;
		const limit = open + 150;
		execFileSync('prlimit', [`--pid=${pid}`, `--nofile=${limit}:${limit}`]);

		const before = target.lastSnapshot()!;
		const flood = await attacker({mode: 'connections', target: endpoint, count: 600});
		const rssPeakKb = {value: 0};
		const sampler = setInterval(() => {
			rssPeakKb.value = Math.max(rssPeakKb.value, residentKb(pid));
		}, 100);
		await sleep(1500);
		// The peer restarts while no descriptor is to be had: the link goes silent, its socket is
		// made afresh (where `new zmq.Subscriber` threw EMFILE, uncaught, and the node exited).
		await legitimate.stop();
		nodes.splice(nodes.indexOf(legitimate), 1);
		await sleep(3000);
		legitimate = new ChorusNode({...(await testNodeOptions({id: 'legitimate', hz: HZ})), bindEndpoint: legitimateEndpoint});
		nodes.push(legitimate);
		const incarnation = legitimate.incarnation;
		const restartedMs = performance.now();
		await legitimate.start();
		const readmitted = await target.waitForSnapshot((snapshot) => peerOf(snapshot, 'legitimate')?.incarnation === incarnation && peerOf(snapshot, 'legitimate')?.state !== 'evicted', 10_000);
		await sleep(1000);
		const during = target.lastSnapshot()!;
		expect(flood.child.exitCode).toBeNull();
		clearInterval(sampler);
		const tickShare = (during.stats.ticks - before.stats.ticks) / ((during.t - before.t) / 1000) / HZ;
		console.log(
			`libzmq descriptor flood (limit ${limit}): ${Math.round(tickShare * 100)} % of the tick rate, RSS peak ${Math.round(rssPeakKb.value / 1024)} MiB, refused ${JSON.stringify(during.stats.refused)}, links ${JSON.stringify(during.stats.linkRefused)}, connections ${during.stats.connections}, attacker ${JSON.stringify(flood.last())}; restarted peer re-admitted ${Math.round(readmitted.receivedAtMs - restartedMs)} ms after its start, during the flood`,
		);
		expect(target.child.exitCode).toBeNull();
		expect(tickShare).toBeGreaterThanOrEqual(0.7);
		expect(rssPeakKb.value / 1024).toBeLessThan(400);
		const counted = (during.stats.refused?.descriptors ?? 0) + (during.stats.refused?.['max-connections'] ?? 0) + (during.stats.linkRefused?.descriptors ?? 0);
		expect(counted).toBeGreaterThan(0);
		expect(target.stderr).not.toMatch(/EMFILE|Too many open files/);
	}, 40_000);
});

/** The node's own process: `node` may be a wrapper script that runs the real binary as its child. */
function nodePid(pid: number): number {
	const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
	if (comm !== 'bash' && comm !== 'sh') {
		return pid;
	}

	const child = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
	return child === undefined || child === '' ? pid : nodePid(Number(child));
}

function residentKb(pid: number): number {
	const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
	return match === null ? 0 : Number(match[1]);
}
