// A partition reaches each member as one batched `links` request, and a member that predates
// `links` still gets its blackholes one `link` at a time. The members here are ZeroMQ ROUTERs on
// loopback that record what they are sent and answer as a current node and as an older one does
// (the older one's refusal is the exact reply its parser gave); the console side is the real
// MeshFaults over the real control client.
import {afterAll, describe, expect, it} from 'vitest';
import * as zmq from 'zeromq';
import {ControlClient} from '../../source/cluster/control/client.js';
import {partitionPlan} from '../../source/cluster/partition-shapes.js';
import type {Member} from '../../source/cluster/protocol.js';
import {MeshFaults} from '../../source/session/mesh-faults.js';
import {freePort, loopback} from '../helpers/ports.js';

type Sent = {op: string; direction?: string; peers?: string[]; peer?: string; blackhole?: boolean};

const cleanups: Array<() => Promise<void> | void> = [];

afterAll(async () => {
	for (const cleanup of cleanups.splice(0).toReversed()) {
		await cleanup();
	}
});

/** A control endpoint that records every request; `old`: refuses `links` as a node from before it did. */
async function member(old: boolean): Promise<{endpoint: string; sent: Sent[]}> {
	const endpoint = loopback(await freePort());
	const router = new zmq.Router({linger: 0});
	await router.bind(endpoint);
	const sent: Sent[] = [];
	const serving = (async () => {
		for await (const [identity, frame] of router) {
			const request = JSON.parse(frame!.toString()) as Sent & {id: number};
			sent.push(request);
			const reply = old && request.direction === 'links'
				? {v: 1, id: request.id, ok: false, error: 'bad-request', message: '`direction` must be inbound, outbound or link'}
				: {v: 1, id: request.id, ok: true, faults: {peers: {}}};
			await router.send([identity!, JSON.stringify(reply)]);
		}
	})().catch(() => {});
	cleanups.push(async () => {
		router.close();
		await serving;
	});
	return {endpoint, sent};
}

describe('partitions as batched link faults', () => {
	it('sends one `links` request per member, and one `link` per peer to a member that predates it', async () => {
		const current = await member(false);
		const older = await member(true);
		// Legacy members (no control plane) fill the mesh: 40 members, so each half cuts about 20 links per member.
		const members: Member[] = [
			{id: 'console', endpoint: 'tcp://127.0.0.1:1', incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0},
			{id: 'm-new', endpoint: 'tcp://127.0.0.1:2', control: current.endpoint, incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0},
			{id: 'm-old', endpoint: 'tcp://127.0.0.1:3', control: older.endpoint, incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0},
			...Array.from({length: 37}, (_, index): Member => ({id: `p-${String(index).padStart(2, '0')}`, endpoint: `tcp://127.0.0.1:${100 + index}`, incarnation: 1, state: 'alive', legacy: true, changedAtMs: 0})),
		];
		const client = new ControlClient({timeoutMs: 5000});
		cleanups.push(async () => client.close());
		const own: string[] = [];
		const faults = new MeshFaults({
			selfId: 'console',
			client,
			members: () => members,
			local: {
				setInboundFault(target, patch) {
					if (patch.blackhole === true) {
						own.push(target);
					}
				},
				setOutboundFault() {},
				clearFaults() {},
			},
			// No renewal during the test: only what the partition itself sends is counted.
			leaseMs: 0,
			record() {},
		});
		cleanups.push(async () => faults.stop());

		const result = await faults.partition('halves', undefined);
		expect(result.ok, result.message).toBe(true);
		const plan = partitionPlan(members.map((entry) => entry.id), 'halves');
		const wantNew = [...plan.blackholes.get('m-new')!].sort();
		const wantOld = [...plan.blackholes.get('m-old')!].sort();
		expect(wantNew.length).toBeGreaterThan(10);

		expect(current.sent).toHaveLength(1);
		expect(current.sent[0]).toMatchObject({op: 'fault', direction: 'links', blackhole: true, leaseMs: 0});
		expect(current.sent[0]!.peers!.sort()).toEqual(wantNew);

		expect(older.sent[0]).toMatchObject({op: 'fault', direction: 'links'});
		const links = older.sent.slice(1);
		expect(links.every((request) => request.direction === 'link' && request.blackhole === true)).toBe(true);
		expect(links.map((request) => request.peer!).sort()).toEqual(wantOld);
		expect(own.sort()).toEqual([...plan.blackholes.get('console')!].sort());
	}, 20_000);
});
