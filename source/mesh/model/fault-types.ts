/**
The faults a node can be told to inject, as plain data: what the fault plan applies, what a
snapshot carries and what the session, the scenario player and the control plane send.
*/

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
