/**
Fixed snapshots for the UI's component tests, and a controller that serves one: it keeps the faults
it is given (so that `d` and `l` cycle as they would on a real session) and records every call.
*/

import {ALL_PEERS, NO_INBOUND_FAULT, type FaultsInForce, type InboundFault, type OutboundFault} from '../../source/mesh/model/fault-types.js';
import type {MeshController, PeerActionResult, SessionSnapshot} from '../../source/session/controller.js';
import type {NodeEvent, PeerSnapshot} from '../../source/mesh/node.js';

export function peer(id: string, fields: Partial<PeerSnapshot> = {}): PeerSnapshot {
	return {id, state: 'alive', lamport: 800, lastSeenMs: 40, ttlRemainingMs: 4960, phaseDiff: -0.04, incarnation: 1_764_130_000_000, ...fields};
}

export function snapshot(peers: PeerSnapshot[], fields: Partial<SessionSnapshot> = {}): SessionSnapshot {
	return {
		t: 1500,
		node: {id: 'a1b2c3d4', incarnation: 1_764_130_000_000, lamport: 812, phase: 3.02, r: 0.97, endpoint: 'tcp://127.0.0.1:5555', omega: 3.14, hz: 10},
		peers,
		stats: {received: 240, admitted: 236, rejected: {stale: 4}, ticks: 15, tickLateMs: {p50: 0, p99: 1, max: 2}},
		faults: {peers: {}},
		demo: [],
		...fields,
	};
}

export type Call = {method: string; args: unknown[]};

export class FixedController implements MeshController {
	readonly calls: Call[] = [];
	readonly listeners = new Set<(event: NodeEvent) => void>();
	current: SessionSnapshot;
	stopped = false;

	constructor(initial: SessionSnapshot, readonly demoIds: readonly string[] = []) {
		this.current = initial;
	}

	snapshot(): SessionSnapshot {
		return this.current;
	}

	on(listener: (event: NodeEvent) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	emit(event: NodeEvent): void {
		for (const listener of this.listeners) {
			listener(event);
		}
	}

	setInboundFault(target: string, patch: Partial<InboundFault>): void {
		this.calls.push({method: 'setInboundFault', args: [target, patch]});
		const faults: FaultsInForce = {...this.current.faults, peers: {...this.current.faults.peers}};
		if (target === ALL_PEERS) {
			faults.all = {...NO_INBOUND_FAULT, ...faults.all, ...patch};
		} else {
			faults.peers[target] = {...NO_INBOUND_FAULT, ...faults.peers[target], ...patch};
		}

		this.current = {...this.current, faults};
	}

	setOutboundFault(patch: Partial<OutboundFault>): void {
		this.calls.push({method: 'setOutboundFault', args: [patch]});
	}

	clearFaults(): void {
		this.calls.push({method: 'clearFaults', args: []});
		this.current = {...this.current, faults: {peers: {}}};
	}

	isDemoPeer(id: string): boolean {
		return this.demoIds.includes(id);
	}

	async killPeer(id: string): Promise<PeerActionResult> {
		this.calls.push({method: 'killPeer', args: [id]});
		return {ok: true, message: `${id} killed (SIGKILL, pid 4242)`};
	}

	async togglePausePeer(id: string): Promise<PeerActionResult> {
		this.calls.push({method: 'togglePausePeer', args: [id]});
		return {ok: true, message: `${id} paused (SIGSTOP, pid 4242)`};
	}

	async revivePeer(id: string): Promise<PeerActionResult> {
		this.calls.push({method: 'revivePeer', args: [id]});
		return {ok: false, message: `${id} is already running (pid 4242)`};
	}

	async stop(): Promise<void> {
		this.calls.push({method: 'stop', args: []});
		this.stopped = true;
	}

	/** Calls of one method. */
	callsOf(method: string): unknown[][] {
		return this.calls.filter((call) => call.method === method).map((call) => call.args);
	}
}

/** Let Ink process input and render. */
export async function settle(ms = 30): Promise<void> {
	await new Promise((resolve) => {
		setTimeout(resolve, ms);
	});
}

/**
Retry an assertion until it holds or `timeoutMs` passes, then throw its last failure: renders
follow key presses asynchronously, and later still on a loaded machine.
*/
export async function until(assertion: () => void, timeoutMs = 5000): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		try {
			assertion();
			return;
		} catch (error) {
			if (performance.now() > deadline) {
				throw error;
			}
		}

		await settle(20);
	}
}
