/**
Faults on demo peers, which act inside each demo peer's own process: what is sent there over the
control channel, and how the session shows them in its snapshot.

A demo peer applies its fault to what it publishes (so every node in the mesh hears it through the
bad link, this one included) and to what it receives from all (so it hears the mesh through the
same link). It is not applied a second time in this node, which would double the delay and compound
the loss that this node sees; only duplication, which a publisher cannot do, is applied locally.
*/

import {ALL_PEERS, NO_INBOUND_FAULT, type FaultsInForce, type InboundFault} from '../mesh/model/fault-types.js';
import {combineInbound} from '../mesh/model/faults.js';
import type {PeerSnapshot} from '../mesh/snapshot.js';
import type {DemoPeer} from '../swarm/demo-peer.js';

/** What the snapshot needs of a demo peer: its id and the fault the session keeps for it. */
type DemoFault = Pick<DemoPeer, 'id' | 'fault'>;

/**
Send a demo peer's fault (absolute values) to its process: inbound as it is, outbound as the part a
publisher can apply. `onRefused` hears each part the process refused while it still runs.
*/
export function pushDemoFault(demo: DemoPeer, onRefused: (error: string | undefined) => void): void {
	if (!demo.alive) {
		return;
	}

	const fault = demo.fault ?? NO_INBOUND_FAULT;
	const report = (result: {ok: boolean; error?: string}) => {
		if (!result.ok && demo.alive) {
			onRefused(result.error);
		}
	};

	void demo.request({type: 'set-inbound-fault', target: ALL_PEERS, patch: {...fault}}).then(report);
	void demo
		.request({
			type: 'set-outbound-fault',
			patch: {drop: fault.blackhole ? 1 : fault.drop, delayMs: fault.delayMs, jitterMs: fault.jitterMs},
		})
		.then(report);
}

/** The faults in force as the session shows them: a demo peer's entry is its whole fault, not the node's local part. */
export function faultsWithDemoPeers(nodeFaults: FaultsInForce, demoPeers: readonly DemoFault[]): FaultsInForce {
	const demoIds = new Set(demoPeers.map((demo) => demo.id));
	const peers = Object.fromEntries(Object.entries(nodeFaults.peers).filter(([id]) => !demoIds.has(id)));
	for (const demo of demoPeers) {
		if (demo.fault !== undefined) {
			peers[demo.id] = {...demo.fault};
		}
	}

	return {...nodeFaults, peers};
}

/** A peer's row as the session shows it: a demo peer carries its whole fault combined with the all-peers one. */
export function peerWithDemoFault(peer: PeerSnapshot, demo: DemoFault | undefined, allPeers: InboundFault | undefined): PeerSnapshot {
	if (demo === undefined) {
		return peer;
	}

	const {faults: _localPart, ...rest} = peer;
	const combined = combineInbound(demo.fault, allPeers);
	return combined === undefined ? rest : {...rest, faults: combined};
}
