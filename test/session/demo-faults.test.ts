/**
How a session shows the faults of its demo peers, which act in the demo peers' own processes: the
whole fault of a demo peer replaces the node's local part (its duplicate chance) in the snapshot.
*/

import {describe, expect, it} from 'vitest';
import {NO_INBOUND_FAULT, type FaultsInForce, type InboundFault} from '../../source/mesh/model/fault-types.js';
import type {PeerSnapshot} from '../../source/mesh/snapshot.js';
import {faultsWithDemoPeers, peerWithDemoFault} from '../../source/session/demo-faults.js';

const fault = (patch: Partial<InboundFault>): InboundFault => ({...NO_INBOUND_FAULT, ...patch});
const peer = (id: string, faults?: InboundFault): PeerSnapshot => ({
	id,
	state: 'alive',
	lamport: 1,
	lastSeenMs: 0,
	ttlRemainingMs: 5000,
	phaseDiff: 0,
	incarnation: 1,
	...(faults === undefined ? {} : {faults}),
});

describe('demo peer faults in a session snapshot', () => {
	it('lists a demo peer under its whole fault, drops the node\'s local part, and keeps remote peers as they are', () => {
		const nodeFaults: FaultsInForce = {
			all: fault({delayMs: 10}),
			peers: {'demo-1': fault({duplicate: 0.2}), 'demo-2': fault({duplicate: 0.5}), remote: fault({drop: 0.1})},
		};
		const demoPeers = [
			{id: 'demo-1', fault: fault({drop: 0.3, duplicate: 0.2})},
			{id: 'demo-2', fault: undefined},
		];
		expect(faultsWithDemoPeers(nodeFaults, demoPeers)).toEqual({
			all: fault({delayMs: 10}),
			peers: {'demo-1': fault({drop: 0.3, duplicate: 0.2}), remote: fault({drop: 0.1})},
		});
		// The node's own entries are not changed.
		expect(nodeFaults.peers['demo-2']).toEqual(fault({duplicate: 0.5}));
	});

	it('shows a demo peer\'s row with its fault combined with the all-peers one, and a remote row untouched', () => {
		const all = fault({delayMs: 10});
		const local = fault({duplicate: 0.2, delayMs: 10});
		expect(peerWithDemoFault(peer('demo-1', local), {id: 'demo-1', fault: fault({drop: 0.5})}, all).faults).toEqual(fault({drop: 0.5, delayMs: 10}));
		expect(peerWithDemoFault(peer('demo-2', local), {id: 'demo-2', fault: undefined}, undefined)).not.toHaveProperty('faults');
		const remote = peer('remote', local);
		expect(peerWithDemoFault(remote, undefined, all)).toBe(remote);
	});
});
