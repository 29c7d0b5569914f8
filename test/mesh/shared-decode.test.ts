/**
A frame every receiver shares (inproc://: one Buffer to each subscriber of a publish) is decoded once
for all the nodes of the process, with the same outcome, reason for reason, as a frame decoded by
each; what differs between receivers (their own id, their size limit) is still judged by each.
*/

import {afterEach, describe, expect, it, vi} from 'vitest';
import {Admission, type HeldMessage} from '../../source/mesh/admission.js';
import {FaultPlan} from '../../source/mesh/model/faults.js';
import {LamportClock} from '../../source/mesh/model/lamport.js';
import {PeerTable} from '../../source/mesh/model/peer-table.js';
import {seededUniform} from '../../source/mesh/model/random.js';
import {Transport} from '../../source/mesh/net/transport.js';
import {NodeSecurity} from '../../source/mesh/security/screening.js';
import {NodeCounters} from '../../source/mesh/stats.js';
import {sleep} from '../helpers/nodes.js';

function admission(id: string, maxMessageBytes?: number) {
	const table = new PeerTable({ttlMs: 5000, evictionGraceMs: 2000, maxPeers: 256, maxLamportJump: 1_000_000, wallClockOffsetMs: performance.timeOrigin, legacyAdmission: false});
	const counters = new NodeCounters();
	const parts = {
		id,
		maxMessageBytes,
		ttlMs: 5000,
		table,
		clock: new LamportClock(),
		security: new NodeSecurity(id, {}, () => {}),
		faults: new FaultPlan<HeldMessage, string>(seededUniform(1)),
		counters,
		emit() {},
	};
	return {admission: new Admission(parts), table, counters};
}

const message = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify({node_id: 'peer', phase: 0.5, lamport_time: 7, incarnation: 1, hz: 10, sent_ms: Date.now(), ...fields}));

describe('a shared frame', () => {
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it.each<[string, Buffer[]]>([
		['admitted', [message({})]],
		['own-id', [message({node_id: 'me'})]],
		['malformed-json', [Buffer.from('{"node_id": "x", "phase": NaN, "lamport_time": 1}')]],
		['malformed-json (invalid UTF-8)', [Buffer.from([0x7b, 0xc3, 0x28, 0x7d])]],
		['too-deep', [Buffer.from(`{"node_id": "x", "phase": 1, "lamport_time": 1, "x": ${'['.repeat(40)}${']'.repeat(40)}}`)]],
		['not-object', [Buffer.from('[]')]],
		['missing-field', [Buffer.from('{"node_id": "x", "phase": 1}')]],
		['bad-type', [message({phase: '1'})]],
		['non-finite', [Buffer.from('{"node_id": "x", "phase": 1e999, "lamport_time": 1}')]],
		['oversize', [message({endpoint: 'x'.repeat(200)})]],
		['multipart', [message({}), message({})]],
	])('%s: the same outcome as a frame decoded by its receiver alone', (_name, frames) => {
		const own = admission('me', 256);
		const shared = admission('me', 256);
		own.admission.onFrames(frames, 'inproc://peer');
		shared.admission.onSharedFrames(frames, 'inproc://peer');
		expect(shared.counters).toEqual(own.counters);
		expect([...shared.table.peers()].map((peer) => [peer.id, peer.lamportTime, peer.phaseRad])).toEqual([...own.table.peers()].map((peer) => [peer.id, peer.lamportTime, peer.phaseRad]));
	});

	it('is parsed once for all its receivers, each judging its own id and size limit', () => {
		const frame = message({node_id: 'a', endpoint: 'x'.repeat(200)});
		const parse = vi.spyOn(JSON, 'parse');
		const sender = admission('a');
		const receiver = admission('b');
		const small = admission('c', 128);
		const another = admission('d');
		for (const node of [sender, receiver, small, another]) {
			node.admission.onSharedFrames([frame], 'inproc://a');
		}

		expect(parse).toHaveBeenCalledTimes(1);
		expect(sender.counters.rejected).toEqual({'own-id': 1});
		expect(small.counters.rejected).toEqual({oversize: 1});
		expect(receiver.counters.admitted).toBe(1);
		expect(another.counters.admitted).toBe(1);
		expect(receiver.table.get('a')?.lamportTime).toBe(7);
	});

	it('decodes to a frozen message: no receiver can change what the others read', () => {
		const frame = message({});
		const seen: unknown[] = [];
		const spy = vi.spyOn(PeerTable.prototype, 'admit').mockImplementation((decoded) => {
			seen.push(decoded);
			return {admitted: false, reason: 'stale'};
		});
		admission('b').admission.onSharedFrames([frame], 'inproc://a');
		admission('c').admission.onSharedFrames([frame], 'inproc://a');
		spy.mockRestore();
		expect(seen).toHaveLength(2);
		expect(seen[0]).toBe(seen[1]);
		expect(Object.isFrozen(seen[0])).toBe(true);
	});
});

describe('Transport.poll', () => {
	it('hands inproc:// messages, whose frames every subscriber shares, to onSharedFrames', async () => {
		const publisher = new Transport({bindEndpoint: 'inproc://shared-decode-test-pub'});
		const receivers = [new Transport({bindEndpoint: 'inproc://shared-decode-test-1'}), new Transport({bindEndpoint: 'inproc://shared-decode-test-2'})];
		try {
			await publisher.start();
			const got: Buffer[] = [];
			for (const receiver of receivers) {
				await receiver.start();
				receiver.addPeer(publisher.endpoint);
			}

			await sleep(10);
			await publisher.publish('{"node_id": "pub", "phase": 0, "lamport_time": 1}');
			for (const receiver of receivers) {
				await receiver.poll(
					10,
					() => {
						throw new Error('an inproc frame went to onFrames');
					},
					(frames) => got.push(frames[0]!),
				);
			}

			expect(got).toHaveLength(2);
			expect(got[0]).toBe(got[1]);
		} finally {
			await Promise.all([publisher, ...receivers].map(async (transport) => transport.close()));
		}
	});
});
