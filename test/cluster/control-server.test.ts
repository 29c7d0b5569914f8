// The control endpoint of a real node, over real sockets: every op, the bounds, leases.
import * as zmq from 'zeromq';
import {afterEach, describe, expect, it} from 'vitest';
import {ControlClient, ControlTimeoutError} from '../../source/cluster/control/client.js';
import {ControlServer} from '../../source/cluster/control/server.js';
import type {EventDetails} from '../../source/mesh/snapshot.js';
import {ChorusNode} from '../../source/mesh/node.js';
import {eventually, sleep, testNodeOptions} from '../helpers/nodes.js';
import {freePort, loopback} from '../helpers/ports.js';

type Started = {a: ChorusNode; b: ChorusNode; server: ControlServer; client: ControlClient; events: Array<EventDetails<string>>; stops: number[]};
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
	for (const cleanup of cleanups.splice(0).toReversed()) {
		await cleanup();
	}
});

async function startPair(serverOptions: {defaultLeaseMs?: number; clientRatePerS?: number} = {}): Promise<Started> {
	const bPort = await freePort();
	const b = new ChorusNode(await testNodeOptions({id: 'node-b', bindEndpoint: loopback(bPort), peerEndpoints: []}));
	const a = new ChorusNode(await testNodeOptions({id: 'node-a', peerEndpoints: [loopback(bPort)]}));
	await b.start();
	await a.start();
	const events: Array<EventDetails<string>> = [];
	const stops: number[] = [];
	const server = await ControlServer.start({
		endpoint: loopback(await freePort()),
		node: a,
		onStop() {
			stops.push(Date.now());
		},
		onEvent(event) {
			events.push(event);
		},
		...serverOptions,
	});
	a.announceControl(server.endpoint);
	const client = new ControlClient({timeoutMs: 10_000});
	cleanups.push(async () => {
		await client.close();
		await server.stop();
		await a.stop();
		await b.stop();
	});
	return {a, b, server, client, events, stops};
}

describe('control server on a real node', () => {
	it('gives a brief view\'s digest, leaves the peers out when `since` matches it, and changes it when the table does', async () => {
		const {a, client, server} = await startPair();
		await eventually('a hears b', () => a.snapshot().peers.some((peer) => peer.id === 'node-b' && peer.state === 'alive'), 5000);
		const first = await client.request(server.endpoint, {op: 'view', brief: true, limit: 10});
		const digest = (first as Record<string, unknown>)['digest'] as string;
		expect(digest).toMatch(/^[\da-f]{8}$/);
		expect(first).toMatchObject({peers: [['node-b', 'alive']]});
		expect(first).not.toHaveProperty('unchanged');

		const same = await client.request(server.endpoint, {op: 'view', brief: true, limit: 10, since: digest});
		expect(same).toMatchObject({ok: true, brief: true, unchanged: true, digest, peers: [], total: 1, truncated: false, node: {id: 'node-a'}});
		const other = await client.request(server.endpoint, {op: 'view', brief: true, limit: 10, since: '00000000'});
		expect(other).toMatchObject({ok: true, peers: [['node-b', 'alive']], digest});
		expect(other).not.toHaveProperty('unchanged');

		// b goes quiet for a: its state moves on, so the digest does, and `since` the old one gets the table.
		a.setInboundFault('node-b', {blackhole: true});
		await eventually('a no longer lists b alive', () => a.snapshot().peers.every((peer) => peer.id !== 'node-b' || peer.state !== 'alive'), 10_000);
		const changed = await client.request(server.endpoint, {op: 'view', brief: true, limit: 10, since: digest});
		expect(changed).not.toHaveProperty('unchanged');
		expect((changed as Record<string, unknown>)['digest']).not.toBe(digest);
		expect((changed as Record<string, unknown>)['peers']).toEqual(a.snapshot().peers.map((peer) => [peer.id, peer.state]));
	}, 20_000);

	it('gives the members list a digest, leaves the list out when `since` matches it, and changes it when a member does', async () => {
		const {a, client, server} = await startPair();
		await eventually('a hears b', () => a.snapshot().peers.some((peer) => peer.id === 'node-b' && peer.state === 'alive'), 5000);
		const first = await client.request(server.endpoint, {op: 'members'});
		const digest = (first as Record<string, unknown>)['digest'] as string;
		expect(digest).toMatch(/^[\da-f]{16}-2$/);
		expect(first).not.toHaveProperty('unchanged');
		expect(await client.request(server.endpoint, {op: 'members', since: digest})).toMatchObject({ok: true, unchanged: true, members: [], total: 2, truncated: false, digest});
		const other = await client.request(server.endpoint, {op: 'members', since: '00000000'});
		expect(other).not.toHaveProperty('unchanged');
		expect((other as Record<string, unknown>)['members']).toHaveLength(2);

		a.setInboundFault('node-b', {blackhole: true});
		await eventually('a no longer lists b alive', () => a.snapshot().peers.every((peer) => peer.id !== 'node-b' || peer.state !== 'alive'), 10_000);
		const changed = await client.request(server.endpoint, {op: 'members', since: digest});
		expect(changed).not.toHaveProperty('unchanged');
		expect((changed as Record<string, unknown>)['digest']).not.toBe(digest);
		expect(((changed as Record<string, unknown>)['members'] as Array<{id: string; state: string}>).find((member) => member.id === 'node-b')?.state).not.toBe('alive');
		expect(await client.request(server.endpoint, {op: 'members', since: 'x'.repeat(65)})).toMatchObject({ok: false, error: 'bad-request'});
	}, 20_000);

	it('answers members, view, fault, clear, join and stop', async () => {
		const {a, b, server, client, stops} = await startPair();
		await eventually('a hears b', () => a.snapshot().peers.some((peer) => peer.id === 'node-b' && peer.state === 'alive'), 5000);

		const members = await client.request(server.endpoint, {op: 'members'});
		expect(members).toMatchObject({v: 1, ok: true, total: 2, truncated: false});
		const list = (members as Record<string, unknown>)['members'] as Array<{id: string; control?: string; legacy: boolean}>;
		expect(list.map((member) => member.id)).toEqual(['node-a', 'node-b']);
		expect(list[0]).toMatchObject({id: 'node-a', control: server.endpoint, legacy: false, state: 'alive'});
		// b runs no control plane: a data-only (legacy) member.
		expect(list[1]).toMatchObject({id: 'node-b', endpoint: b.endpoint, legacy: true});

		const view = await client.request(server.endpoint, {op: 'view', limit: 10});
		expect(view).toMatchObject({ok: true, node: {id: 'node-a', control: server.endpoint}, total: 1, truncated: false});
		expect(((view as Record<string, unknown>)['peers'] as unknown[]).length).toBe(1);
		expect(view).not.toHaveProperty('brief');
		// The watcher's form: [id, state] pairs, the node cut to what a console draws, no statistics.
		const brief = await client.request(server.endpoint, {op: 'view', brief: true, limit: 10});
		expect(brief).toMatchObject({ok: true, brief: true, node: {id: 'node-a', control: server.endpoint}, faults: {peers: {}}, peers: [['node-b', 'alive']], total: 1, truncated: false});
		expect(Object.keys((brief as Record<string, unknown>)['node'] as object).sort()).toEqual(['control', 'id', 'incarnation', 'omega', 'phase', 'r']);
		expect(brief).not.toHaveProperty('stats');
		expect(await client.request(server.endpoint, {op: 'view', brief: true, limit: 0})).toMatchObject({ok: true, peers: [], total: 1, truncated: true});

		const fault = await client.request(server.endpoint, {op: 'fault', direction: 'inbound', target: 'node-b', fault: {drop: 0.3}, leaseMs: 60_000});
		expect(fault).toMatchObject({ok: true, leaseMs: 60_000});
		expect(a.faults().peers['node-b']?.drop).toBe(0.3);
		expect(server.leases()['inbound:node-b']?.['drop']).toBeGreaterThan(59_000);

		const outbound = await client.request(server.endpoint, {op: 'fault', direction: 'outbound', fault: {delayMs: 100}, leaseMs: 0});
		expect(outbound.ok).toBe(true);
		expect(a.faults().outbound?.delayMs).toBe(100);

		const link = await client.request(server.endpoint, {op: 'fault', direction: 'link', peer: 'node-x', blackhole: true, leaseMs: 5000});
		expect(link.ok).toBe(true);
		expect(a.faults().peers['node-x']?.blackhole).toBe(true);

		// Many links at once, each with its own lease; lifted, a link's lease goes with it.
		const links = await client.request(server.endpoint, {op: 'fault', direction: 'links', peers: ['node-y', 'node-z'], blackhole: true, leaseMs: 7000});
		expect(links).toMatchObject({ok: true, leaseMs: 7000});
		expect([a.faults().peers['node-y']?.blackhole, a.faults().peers['node-z']?.blackhole]).toEqual([true, true]);
		expect(server.leases()['inbound:node-y']?.['blackhole']).toBeGreaterThan(6000);
		expect(server.leases()['inbound:node-z']?.['blackhole']).toBeGreaterThan(6000);
		expect(await client.request(server.endpoint, {op: 'fault', direction: 'links', peers: ['node-z'], blackhole: false, leaseMs: 7000})).toMatchObject({ok: true});
		expect(a.faults().peers['node-z']).toBeUndefined();
		expect(server.leases()['inbound:node-z']).toBeUndefined();
		expect(a.faults().peers['node-y']?.blackhole).toBe(true);

		const bad = await client.request(server.endpoint, {op: 'fault', direction: 'inbound', target: 'all', fault: {drop: 2}, leaseMs: 1} as never);
		expect(bad).toMatchObject({ok: false, error: 'bad-request'});

		expect(await client.request(server.endpoint, {op: 'clear'})).toMatchObject({ok: true});
		expect(a.faults()).toEqual({peers: {}});
		expect(server.leases()).toEqual({});

		// join without membership: the node subscribes to the announced endpoint.
		const c = new ChorusNode(await testNodeOptions({id: 'node-c', peerEndpoints: []}));
		await c.start();
		cleanups.push(async () => c.stop());
		const joined = await client.request(server.endpoint, {op: 'join', node: 'node-c', endpoint: c.endpoint, incarnation: c.incarnation});
		expect(joined).toMatchObject({ok: true});
		await eventually('a hears c after its join', () => a.snapshot().peers.some((peer) => peer.id === 'node-c'), 5000);

		expect(await client.request(server.endpoint, {op: 'stop'})).toMatchObject({ok: true, stopping: true});
		await eventually('stop reaches the run layer', () => stops.length === 1, 2000);
	});

	it('announces its control endpoint in data messages, and peers record it', async () => {
		const {a, b, server} = await startPair();
		// b subscribes to a too, so that it hears a's control field.
		b.addPeer(a.endpoint);
		await eventually('b records a\'s control endpoint', () => b.snapshot().peers.find((peer) => peer.id === 'node-a')?.control === server.endpoint, 5000);
	});

	it('answers malformed requests with error replies and counts each; a 10 MB request is dropped and counted', async () => {
		const {a, server, events} = await startPair({clientRatePerS: 100_000});
		const dealer = new zmq.Dealer({linger: 0});
		cleanups.push(async () => {
			dealer.close();
		});
		dealer.connect(server.endpoint);
		const garbage = ['{', 'null', '[]', '{"v":1}', '{"v":2,"id":1,"op":"view"}', '{"v":1,"id":1,"op":"nope"}', '\u0000\u00FF', '{"v":1,"id":{},"op":"view"}', '[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]'];
		const replies: Array<{ok: boolean; error?: string}> = [];
		const reading = (async () => {
			for await (const [frame] of dealer) {
				replies.push(JSON.parse(frame!.toString()) as {ok: boolean; error?: string});
				if (replies.length === 1000) {
					return;
				}
			}
		})();
		for (let index = 0; index < 1000; index++) {
			await dealer.send(garbage[index % garbage.length]!);
		}

		await reading;
		expect(replies.every((reply) => !reply.ok)).toBe(true);
		const counted = Object.values(server.refused).reduce((sum, count) => sum + count, 0);
		expect(counted).toBe(1000);
		expect(Object.keys(server.refused).sort()).toEqual(['bad-request', 'malformed-json', 'unknown-op', 'unsupported-version']);
		expect(events.some((event) => event.kind === 'control-refused')).toBe(true);
		// Rate-limited: far fewer events than refusals.
		expect(events.filter((event) => event.kind === 'control-refused').length).toBeLessThan(20);

		const big = new zmq.Dealer({linger: 0});
		cleanups.push(async () => {
			big.close();
		});
		big.connect(server.endpoint);
		await big.send(Buffer.alloc(10 * 1024 * 1024, 0x7b));
		await eventually('the 10 MB request is counted', () => server.refused['dropped'] === 1, 5000);
		// The node runs on and still answers.
		expect(a.running).toBe(true);
		const client = new ControlClient();
		cleanups.push(async () => client.close());
		expect(await client.request(server.endpoint, {op: 'view', limit: 1})).toMatchObject({ok: true});
	});

	it('rate-limits one client and counts what it refuses', async () => {
		const {server} = await startPair({clientRatePerS: 5});
		const client = new ControlClient({maxInFlight: 100});
		cleanups.push(async () => client.close());
		const replies = await Promise.all(Array.from({length: 30}, async () => client.request(server.endpoint, {op: 'view', limit: 1})));
		const limited = replies.filter((reply) => !reply.ok && reply.error === 'rate-limited').length;
		expect(limited).toBeGreaterThanOrEqual(20);
		expect(server.refused['rate-limited']).toBe(limited);
	});

	it('expires a leased fault by itself, with an event', async () => {
		const {a, server, client, events} = await startPair();
		const reply = await client.request(server.endpoint, {op: 'fault', direction: 'inbound', target: 'all', fault: {drop: 0.5, delayMs: 20}, leaseMs: 300});
		expect(reply.ok).toBe(true);
		expect(a.faults().all?.drop).toBe(0.5);
		await eventually('the lease runs out', () => events.some((event) => event.kind === 'fault-lease-expired'), 3000);
		expect(a.faults().all).toBeUndefined();
		expect(events.find((event) => event.kind === 'fault-lease-expired')).toMatchObject({target: 'all', direction: 'inbound', fields: ['drop', 'delayMs']});
		expect(server.leases()).toEqual({});
	});

	it('renews a lease when the fault is set again', async () => {
		const {a, server, client} = await startPair();
		await client.request(server.endpoint, {op: 'fault', direction: 'outbound', fault: {drop: 0.2}, leaseMs: 2000});
		await sleep(1200);
		await client.request(server.endpoint, {op: 'fault', direction: 'outbound', fault: {drop: 0.2}, leaseMs: 2000});
		await sleep(1200);
		// Past the first lease's end: the renewal holds it.
		expect(a.faults().outbound?.drop).toBe(0.2);
		await eventually('the renewed lease runs out', () => a.faults().outbound === undefined, 3000);
	});

	it('times out against an endpoint nobody serves', async () => {
		const client = new ControlClient({timeoutMs: 300});
		cleanups.push(async () => client.close());
		await expect(client.request(loopback(await freePort()), {op: 'view'})).rejects.toBeInstanceOf(ControlTimeoutError);
	});
});
