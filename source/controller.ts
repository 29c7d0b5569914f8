/**
What the terminal UI (and a scenario) may ask of a running mesh session: read snapshots, listen to
events, inject faults, and act on peers. The UI holds no mesh logic; it only calls this.
*/

import type {NodeEvent, NodeSnapshot} from './mesh/node.js';

/** Faults applied to what this node receives, from one peer or from all. */
export type InboundFault = {
	/** Probability in [0, 1] that a message is dropped. */
	drop: number;
	/** Added delay in milliseconds; messages are held and released in order of release time. */
	delayMs: number;
	/** Uniform jitter in milliseconds added to the delay, so delay can reorder messages. */
	jitterMs: number;
	/** Probability in [0, 1] that a message is delivered twice. */
	duplicate: number;
	/** Drop everything (a local stand-in for "kill" on a remote peer). */
	blackhole: boolean;
};

/** Faults applied to what this node publishes. */
export type OutboundFault = {
	drop: number;
	delayMs: number;
	jitterMs: number;
};

export const NO_INBOUND_FAULT: InboundFault = {drop: 0, delayMs: 0, jitterMs: 0, duplicate: 0, blackhole: false};
export const NO_OUTBOUND_FAULT: OutboundFault = {drop: 0, delayMs: 0, jitterMs: 0};

/** The faults in force, as a snapshot carries them (`snapshot.faults`). Absent entries mean none. */
export type FaultsInForce = {
	all?: InboundFault;
	peers: Record<string, InboundFault>;
	outbound?: OutboundFault;
};

/** `'all'` targets every peer; any other string is a peer id. */
export type FaultTarget = string;
export const ALL_PEERS: FaultTarget = 'all';

export type PeerActionResult = {
	ok: boolean;
	/** One line for the event log, e.g. "demo-2 killed (SIGKILL, pid 4242)" or why not. */
	message: string;
};

export type MeshController = {
	snapshot(): NodeSnapshot & {faults: FaultsInForce};
	on(listener: (event: NodeEvent) => void): () => void;
	setInboundFault(target: FaultTarget, patch: Partial<InboundFault>): void;
	setOutboundFault(patch: Partial<OutboundFault>): void;
	clearFaults(): void;
	/** Whether a peer is one of our local demo processes (kill/pause/revive act on a real process). */
	isDemoPeer(id: string): boolean;
	/** SIGKILL for a demo peer; a local blackhole for a remote one. */
	killPeer(id: string): Promise<PeerActionResult>;
	/** SIGSTOP / SIGCONT for a demo peer. */
	togglePausePeer(id: string): Promise<PeerActionResult>;
	/** Restart a killed demo peer (same id, new incarnation); lift the blackhole of a remote one. */
	revivePeer(id: string): Promise<PeerActionResult>;
	/** Stop demo peers and the node; resolves when every socket and child is gone. */
	stop(): Promise<void>;
};
