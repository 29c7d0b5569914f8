/**
The in-process fault injector on real ZeroMQ sockets over loopback: each fault kind, seen from the
node that injects it and from its peers.
*/

import {afterEach, describe, expect, it} from 'vitest';
import type {InboundFault} from '../../source/mesh/model/fault-types.js';
import {phaseDifference} from '../../source/mesh/model/kuramoto.js';
import {FaultError, FaultPlan} from '../../source/mesh/model/faults.js';
import {ChorusNode, type NodeEvent, type NodeOptions, type NodeSnapshot, type PeerSnapshot} from '../../source/mesh/node.js';
import {seededUniform} from '../../source/mesh/model/random.js';
import {eventually, nextEvent, RawPeer, sleep, testNodeOptions} from '../helpers/nodes.js';

const TTL_MS = 1500;
const OMEGA = 1.5;

const nodes: ChorusNode[] = [];
const rawPeers: RawPeer[] = [];
const timers: NodeJS.Timeout[] = [];

afterEach(async () => {
	for (const timer of timers.splice(0)) {
		clearInterval(timer);
	}

	await Promise.all(nodes.splice(0).map(async (node) => node.stop()));
	for (const peer of rawPeers.splice(0)) {
		peer.close();
	}
});

/** Two nodes meshed both ways, started, each seeing the other alive. */
async function meshPair(overrides: Partial<NodeOptions> = {}): Promise<{alpha: ChorusNode; beta: ChorusNode}> {
	const common: Partial<NodeOptions> = {
		ttlMs: TTL_MS,
		evictionGraceMs: 500,
		noiseSigma: 0,
		omegaRadPerS: OMEGA,
		initialPhaseRad: 0,
		...overrides,
	};
	const alphaOptions = await testNodeOptions({id: 'alpha', faultSeed: 1, ...common});
	const betaOptions = await testNodeOptions({id: 'beta', faultSeed: 2, ...common});
	const alpha = new ChorusNode({...alphaOptions, peerEndpoints: [betaOptions.bindEndpoint]});
	const beta = new ChorusNode({...betaOptions, peerEndpoints: [alphaOptions.bindEndpoint]});
	nodes.push(alpha, beta);
	await Promise.all([alpha.start(), beta.start()]);
	await eventually('alpha and beta see each other', () => peerOf(alpha, 'beta')?.state === 'alive' && peerOf(beta, 'alpha')?.state === 'alive', 10_000);
	return {alpha, beta};
}

function peerOf(node: ChorusNode | NodeSnapshot, id: string): PeerSnapshot | undefined {
	const snapshot = node instanceof ChorusNode ? node.snapshot() : node;
	return snapshot.peers.find((peer) => peer.id === id);
}

/** Take `sample()` every `everyMs` until the test ends or `stop()` is called. */
function watch<T>(sample: () => T, everyMs = 20): {samples: T[]; stop: () => void} {
	const samples: T[] = [];
	const timer = setInterval(() => samples.push(sample()), everyMs);
	timers.push(timer);
	return {samples, stop: () => clearInterval(timer)};
}

function sum(values: Record<string, number | undefined>): number {
	return Object.values(values).reduce<number>((total, value) => total + (value ?? 0), 0);
}

/** Every message a node received is admitted, rejected, dropped by a fault, or still held by one. */
function expectAccounted(node: ChorusNode): void {
	const {stats} = node.snapshot();
	expect(stats.received).toBe(stats.admitted + sum(stats.rejected) + stats.faultDropped! + stats.faultHeld!);
}

function collectEvents(node: ChorusNode): NodeEvent[] {
	const events: NodeEvent[] = [];
	node.on((event) => events.push(event));
	return events;
}

describe('inbound faults, as the node that injects them sees its peer', () => {
	it('100 % drop from a peer drains its TTL and evicts it; clearing brings it back', async () => {
		const {alpha, beta} = await meshPair();
		const evicted = nextEvent(alpha, (event) => event.kind === 'peer-evicted' && event.peer === 'beta', TTL_MS + 5000);
		const ttl = watch(() => peerOf(alpha, 'beta')?.ttlRemainingMs, 50);
		const setAtMs = performance.now();
		alpha.setInboundFault('beta', {drop: 1});
		await evicted;
		const silentForMs = performance.now() - setAtMs;
		ttl.stop();

		expect(silentForMs).toBeGreaterThan(TTL_MS - 400);
		const draining = ttl.samples.filter((value): value is number => value !== undefined);
		for (let index = 1; index < draining.length; index++) {
			expect(draining[index]).toBeLessThanOrEqual(draining[index - 1]!);
		}

		expect(draining[0]).toBeGreaterThan(TTL_MS - 400);
		expect(draining.at(-1)).toBeLessThan(500);
		expect(peerOf(alpha, 'beta')?.state ?? 'evicted').toBe('evicted');
		expect(alpha.snapshot().stats.faultDropped).toBeGreaterThanOrEqual(8);
		expect(alpha.snapshot().stats.rejected.stale ?? 0).toBe(0);
		expectAccounted(alpha);
		// Only alpha's view is cut: beta still hears alpha.
		expect(peerOf(beta, 'alpha')?.state).toBe('alive');

		alpha.setInboundFault('beta', {drop: 0});
		await eventually('beta is back in alpha\'s table', () => peerOf(alpha, 'beta')?.state === 'alive', 5000);
	});

	it('a blackhole acts like 100 % drop, for one peer or for all', async () => {
		const {alpha} = await meshPair();
		const evicted = nextEvent(alpha, (event) => event.kind === 'peer-evicted' && event.peer === 'beta', TTL_MS + 5000);
		alpha.setInboundFault('all', {blackhole: true});
		await evicted;
		expect(peerOf(alpha, 'beta')?.faults?.blackhole).toBe(true);
		expectAccounted(alpha);
	});

	it('1000 ms of delay shows as the peer\'s age and as Δphase error, without eviction', async () => {
		// A TTL well above the delay: the point is that the peer stays.
		const {alpha, beta} = await meshPair({ttlMs: 3000});
		const before = peerOf(alpha, 'beta')!;
		expect(before.lastSeenMs).toBeLessThan(400);
		const evictions = collectEvents(alpha).filter((event) => event.kind === 'peer-evicted');
		alpha.setInboundFault('beta', {delayMs: 1000});
		await sleep(1500);

		// Both snapshots in the same instant: the true phase difference, next to the one alpha shows.
		const views = watch(() => ({alpha: alpha.snapshot(), beta: beta.snapshot()}), 50);
		await sleep(1500);
		views.stop();
		expect(views.samples.length).toBeGreaterThan(10);
		for (const {alpha: seen, beta: truth} of views.samples) {
			const peer = peerOf(seen, 'beta')!;
			expect(peer.state).not.toBe('evicted');
			expect(peer.lastSeenMs).toBeGreaterThanOrEqual(950);
			expect(peer.lastSeenMs).toBeLessThan(1800);
			expect(peer.ttlRemainingMs).toBeGreaterThan(1000);
			// What alpha shows lags beta's real phase by beta's rotation over the message's age.
			const trueDiff = phaseDifference(seen.node.phase, truth.node.phase);
			const error = phaseDifference(trueDiff, peer.phaseDiff);
			expect(error).toBeLessThan(-0.9);
			expect(Math.abs(error + (OMEGA * peer.lastSeenMs) / 1000)).toBeLessThan(0.35);
		}

		expect(evictions).toEqual([]);
		expect(alpha.snapshot().stats.faultHeld).toBeGreaterThan(5);
		expectAccounted(alpha);

		alpha.clearFaults();
		await eventually('the age is back to normal', () => peerOf(alpha, 'beta')!.lastSeenMs < 400, 5000);
	});

	it('duplicates are rejected as stale and never move the peer\'s state backwards', async () => {
		const {alpha} = await meshPair();
		const lamports = watch(() => peerOf(alpha, 'beta')?.lamport ?? 0, 10);
		const before = alpha.snapshot().stats;
		alpha.setInboundFault('beta', {duplicate: 1});
		await sleep(1500);
		lamports.stop();
		const after = alpha.snapshot().stats;

		const duplicated = after.faultDuplicated! - before.faultDuplicated!;
		expect(duplicated).toBeGreaterThanOrEqual(8);
		// Each second copy is refused by the admission rule, not silently taken again.
		expect((after.rejected.stale ?? 0) - (before.rejected.stale ?? 0)).toBe(duplicated);
		expectMonotonic(lamports.samples);
		expectAccounted(alpha);
		expect(peerOf(alpha, 'beta')!.state).toBe('alive');
	});

	it('delay with jitter reorders messages: the late ones are stale and never move the peer\'s state backwards', async () => {
		const {alpha} = await meshPair();
		const lamports = watch(() => peerOf(alpha, 'beta')?.lamport ?? 0, 10);
		alpha.setInboundFault('beta', {delayMs: 100, jitterMs: 400});
		await sleep(2500);
		lamports.stop();

		const {stats} = alpha.snapshot();
		expect(stats.rejected.stale ?? 0).toBeGreaterThanOrEqual(3);
		expectMonotonic(lamports.samples);
		expect(new Set(lamports.samples).size).toBeGreaterThan(5);
		expectAccounted(alpha);
		expect(peerOf(alpha, 'beta')!.state).not.toBe('evicted');
	});
});

function expectMonotonic(values: readonly number[]): void {
	expect(values.length).toBeGreaterThan(20);
	for (let index = 1; index < values.length; index++) {
		expect(values[index]).toBeGreaterThanOrEqual(values[index - 1]!);
	}
}

describe('outbound faults, as the peers see them', () => {
	it('100 % outbound drop: peers see our age rise until they evict us', async () => {
		const {alpha, beta} = await meshPair();
		const evicted = nextEvent(beta, (event) => event.kind === 'peer-evicted' && event.peer === 'alpha', TTL_MS + 5000);
		const ages = watch(() => peerOf(beta, 'alpha')?.lastSeenMs, 50);
		alpha.setOutboundFault({drop: 1});
		await evicted;
		ages.stop();

		const rising = ages.samples.filter((value): value is number => value !== undefined);
		expect(Math.max(...rising)).toBeGreaterThan(TTL_MS - 200);
		expect(alpha.snapshot().stats.outboundFaultDropped).toBeGreaterThanOrEqual(8);
		// Alpha still hears beta.
		expect(peerOf(alpha, 'beta')!.state).toBe('alive');

		alpha.setOutboundFault({drop: 0});
		await eventually('beta hears alpha again', () => peerOf(beta, 'alpha')?.state === 'alive', 5000);
	});

	it('outbound delay: peers see our Lamport time and phase about a second old', async () => {
		// No coupling, so both nodes turn at their own rate and the error is the delay alone.
		const {alpha, beta} = await meshPair({coupling: 0, omegaRadPerS: OMEGA});
		const lag = () => {
			const truth = alpha.snapshot();
			const seen = beta.snapshot();
			const peer = peerOf(seen, 'alpha')!;
			return {
				lamportLag: truth.node.lamport - peer.lamport,
				phaseError: phaseDifference(phaseDifference(seen.node.phase, truth.node.phase), peer.phaseDiff),
				lastSeenMs: peer.lastSeenMs,
			};
		};

		const undelayed = lag();
		expect(undelayed.lamportLag).toBeLessThanOrEqual(4);
		expect(Math.abs(undelayed.phaseError)).toBeLessThan(0.6);

		alpha.setOutboundFault({delayMs: 1000});
		await sleep(1600);
		const delayed = watch(lag, 50);
		await sleep(1000);
		delayed.stop();
		for (const sample of delayed.samples) {
			// Alpha ticks at 10 Hz: a second late is about ten ticks behind.
			expect(sample.lamportLag).toBeGreaterThanOrEqual(8);
			expect(sample.phaseError).toBeLessThan(-OMEGA * 0.9);
			expect(sample.phaseError).toBeGreaterThan(-OMEGA * 1.8);
			// The frames arrive steadily, only late: the age stays short and nobody is evicted.
			expect(sample.lastSeenMs).toBeLessThan(700);
		}

		expect(alpha.snapshot().stats.outboundFaultHeld).toBeGreaterThanOrEqual(5);
		expect(peerOf(beta, 'alpha')!.state).not.toBe('evicted');
	});
});

describe('the faults in force, and their events', () => {
	it('emits fault-set and fault-cleared, and shows the faults in the snapshot', async () => {
		const {alpha} = await meshPair();
		const events = collectEvents(alpha);
		const fault = (patch: Partial<InboundFault>): InboundFault => ({drop: 0, delayMs: 0, jitterMs: 0, duplicate: 0, blackhole: false, ...patch});

		alpha.setInboundFault('beta', {drop: 0.3});
		alpha.setInboundFault('all', {delayMs: 50});
		alpha.setOutboundFault({drop: 0.1});
		expect(() => alpha.setInboundFault('beta', {drop: 2})).toThrow(FaultError);
		expect(() => alpha.setInboundFault('beta\n', {drop: 0.5})).toThrow(FaultError);

		const snapshot = alpha.snapshot();
		expect(snapshot.faults).toEqual({
			all: fault({delayMs: 50}),
			peers: {beta: fault({drop: 0.3})},
			outbound: {drop: 0.1, delayMs: 0, jitterMs: 0},
		});
		expect(alpha.faults()).toEqual(snapshot.faults);
		// The peer's row shows what acts on it: its own fault and the all-peers one together.
		expect(peerOf(snapshot, 'beta')!.faults).toEqual(fault({drop: 0.3, delayMs: 50}));
		// A snapshot survives the NDJSON round trip unchanged.
		// eslint-disable-next-line unicorn/prefer-structured-clone -- the round trip through JSON text is what is tested, not a copy.
		expect(JSON.parse(JSON.stringify(snapshot)).faults).toEqual(snapshot.faults);

		alpha.setInboundFault('beta', {drop: 0});
		alpha.clearFaults();
		expect(alpha.snapshot().faults).toEqual({peers: {}});
		expect(peerOf(alpha, 'beta')!.faults).toBeUndefined();

		const faultEvents = events
			.filter((event) => event.kind === 'fault-set' || event.kind === 'fault-cleared')
			.map(({t, ...event}) => {
				expect(typeof t).toBe('number');
				return event;
			});
		expect(faultEvents).toEqual([
			{kind: 'fault-set', target: 'beta', peer: 'beta', direction: 'inbound', fault: fault({drop: 0.3})},
			{kind: 'fault-set', target: 'all', direction: 'inbound', fault: fault({delayMs: 50})},
			{kind: 'fault-set', target: 'outbound', direction: 'outbound', fault: {drop: 0.1, delayMs: 0, jitterMs: 0}},
			{kind: 'fault-cleared', target: 'beta', peer: 'beta', direction: 'inbound'},
			{kind: 'fault-cleared', target: 'all', direction: 'inbound'},
			{kind: 'fault-cleared', target: 'outbound', direction: 'outbound'},
		]);
	});

	it('a seeded node makes the same drop decisions every run', async () => {
		const count = 300;
		const expectedDrops = (seed: number) => {
			const plan = new FaultPlan<number, string>(seededUniform(seed));
			plan.setInbound('raw', {drop: 0.5});
			const kept: number[] = [];
			for (let lamport = 1; lamport <= count; lamport++) {
				if (!plan.inbound('raw', lamport, 0).dropped) {
					kept.push(lamport);
				}
			}

			return kept;
		};

		const kept42 = expectedDrops(42);
		const kept43 = expectedDrops(43);
		expect(kept43).not.toEqual(kept42);

		const raw = await new RawPeer().bind();
		rawPeers.push(raw);
		// Hear every subscription, not only the first of each topic.
		raw.socket.verbosity = 'allSubs';
		const receivers = await Promise.all(
			[42, 42, 43].map(async (faultSeed, index) => {
				const node = new ChorusNode(await testNodeOptions({id: `receiver-${index}`, faultSeed, peerEndpoints: [raw.endpoint]}));
				nodes.push(node);
				node.setInboundFault('raw', {drop: 0.5});
				return node;
			}),
		);
		await Promise.all(receivers.map(async (node) => node.start()));
		for (const _receiver of receivers) {
			await raw.waitForSubscriber();
		}

		// A burst, announced as a fast peer (hz) so that the per-peer rate limit lets all of it through.
		for (let lamport = 1; lamport <= count; lamport++) {
			await raw.send(`{"node_id": "raw", "phase": 0.25, "lamport_time": ${lamport}, "hz": 1000}`);
		}

		await eventually('every receiver has taken all the frames', () => receivers.every((node) => node.snapshot().stats.received === count), 10_000);
		const outcome = (node: ChorusNode) => ({
			admitted: node.snapshot().stats.admitted,
			faultDropped: node.snapshot().stats.faultDropped,
			lastAdmitted: peerOf(node, 'raw')?.lamport,
		});
		const [first, second, other] = receivers.map(outcome);
		expect(first).toEqual({admitted: kept42.length, faultDropped: count - kept42.length, lastAdmitted: kept42.at(-1)});
		expect(second).toEqual(first);
		expect(other).toEqual({admitted: kept43.length, faultDropped: count - kept43.length, lastAdmitted: kept43.at(-1)});
		for (const node of receivers) {
			expectAccounted(node);
		}
	});
});
