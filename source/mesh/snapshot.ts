/**
What a node shows of itself: its snapshot (the one shape the UI, the NDJSON reporter and the
library's users read) and the events it emits. Plain data; nothing here runs.
*/

import type {FaultsInForce, InboundFault} from './model/fault-types.js';
import type {PeerState} from './model/peer-table.js';
import type {RejectReason} from './model/wire.js';
import type {LinkRefusal, PublisherRefusal} from './net/transport.js';

/** The kinds of event a node emits itself. A session adds its own (see session/controller.ts). */
export type NodeEventKind =
	| 'node-started'
	| 'node-stopped'
	| 'peer-joined'
	| 'peer-rejoined'
	| 'peer-restarted'
	| 'peer-evicted'
	| 'peer-removed'
	| 'peer-quarantined'
	| 'peer-connected'
	| 'peer-disconnected'
	| 'connection-dropped'
	| 'link-reset'
	| 'handshake-failed'
	| 'fault-set'
	| 'fault-cleared'
	| 'warning'
	/** A subscriber refused at our publisher (CURVE): its address, the reason, its key when it sent one. */
	| 'auth-refused'
	/** The allow file was read again (SIGHUP) and is in force: keys added and removed, links closed. */
	| 'allow-list-reloaded'
	/** Our publisher refused clients for a reason (max-connections, subscription-limit, command-flood …): at most one per reason a second, with `count`. */
	| 'client-refused'
	/** Dials to a peer failed before the handshake: at most one per endpoint every 5 s, with `count` and the last `code`. */
	| 'dial-failed';

/** What an event says, before it is stamped with its time: its kind, whom it is about, and details. */
export type EventDetails<Kind extends string> = {
	kind: Kind;
	peer?: string;
	endpoint?: string;
	reason?: string;
	[detail: string]: unknown;
};

/**
An event stamped with its time: the shape every event stream of the project shares, whatever its
kinds (the node's, or a session's, which adds peer actions and scenario steps).
*/
export type StampedEvent<Kind extends string> = EventDetails<Kind> & {
	/** Milliseconds since the node started. */
	t: number;
};

export type NodeEvent = StampedEvent<NodeEventKind>;

export type PeerSnapshot = {
	id: string;
	state: PeerState;
	lamport: number;
	/** Milliseconds since the peer's last admitted message (its age). */
	lastSeenMs: number;
	ttlRemainingMs: number;
	/** The peer's phase minus ours, wrapped to (−π, π]. */
	phaseDiff: number;
	incarnation: number;
	endpoint?: string;
	/** For a peer that announces no endpoint (a legacy node): the link its messages came through. */
	via?: string;
	/** The control endpoint the peer announces; absent for legacy nodes and nodes with --no-control. */
	control?: string;
	/** The inbound fault in force for this peer (its own entry combined with the all-peers one), when any. */
	faults?: InboundFault;
};

/**
A peer the node hears, as membership reads it once a second (`ChorusNode.heardPeers`): only the
evidence of life, none of a snapshot's phases, statistics and copies.
*/
export type HeardPeer = {
	id: string;
	incarnation: number;
	/** Milliseconds since its last admitted message. */
	silentForMs: number;
	/** The endpoint it announces; absent for a legacy node. */
	endpoint: string | undefined;
	/** The link its messages came through. */
	via: string | undefined;
	/** The control endpoint it announces, if any. */
	control: string | undefined;
};

export type NodeStats = {
	received: number;
	admitted: number;
	rejected: Partial<Record<RejectReason, number>>;
	/**
	Messages an inbound fault dropped (drop, blackhole, too many held, or held past the TTL).
	With nothing held, received = admitted + Σ rejected + faultDropped; a duplicate copy counts as
	received. Always present in a node's snapshot; optional so that older snapshots still type-check.
	*/
	faultDropped?: number;
	/** Extra copies an inbound duplicate fault delivered (each also counted in `received`). */
	faultDuplicated?: number;
	/** Inbound messages held by a delay fault right now (received, not yet admitted or rejected). */
	faultHeld?: number;
	/** Frames of ours an outbound fault dropped. */
	outboundFaultDropped?: number;
	/** Frames of ours an outbound delay fault holds right now. */
	outboundFaultHeld?: number;
	/** Subscribers refused at our publisher (CURVE: a key not on the allow list, no key, a bad handshake). */
	authRefused?: number;
	/** Control requests refused before they reached the node, by code (too-large, rate-limited, forbidden, …); with a control plane only. */
	controlRefused?: Record<string, number>;
	/**
	What our publisher refused, by reason (net/transport.ts PublisherRefusal): connections past
	--max-connections, out of descriptors, handshakes bad, closed or timed out, subscriptions past the
	node's bound, streams that broke a limit, PINGs left unanswered.
	*/
	refused?: Partial<Record<PublisherRefusal, number>>;
	/**
	What we refused on links we dialled, by reason (LinkRefusal): each a connection cut and reopened
	with backoff (`oversize` also counts the frame in `rejected`; `protocol`, `command-flood`,
	`too-many-parts`, `refused`, `descriptors` are here only), and `ping-dropped`.
	*/
	linkRefused?: Partial<Record<LinkRefusal, number>>;
	/** Dials to peers that failed before the handshake. */
	dialFailed?: number;
	/** Connections our publisher holds now, and the distinct prefixes (and bytes) they subscribe. */
	connections?: number;
	subscriptions?: number;
	subscriptionBytes?: number;
	ticks: number;
	/** Data messages this node handed to its publisher (an observer's stays 0). Always present in a node's snapshot. */
	published?: number;
	/** Tick lateness over the recent ticks: how far behind schedule the loop ran. */
	tickLateMs: {p50: number; p99: number; max: number};
};

export type NodeSnapshot = {
	t: number;
	node: {
		id: string;
		incarnation: number;
		lamport: number;
		phase: number;
		/** The order parameter of this node and the peers it couples to; an observer's is of its peers alone. */
		r: number;
		/** What this node announces: its bound endpoint, or `--advertise`'s host with the bound port. */
		endpoint: string;
		omega: number;
		hz: number;
		/** Present when this node only watches (`--observe`): it publishes nothing and is in no peer's coupling sum. */
		observer?: true;
	};
	peers: PeerSnapshot[];
	stats: NodeStats;
	/** The faults in force on this node. */
	faults: FaultsInForce;
};
