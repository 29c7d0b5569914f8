/**
The control plane's wire contract, version 1: request/reply JSON, one ZeroMQ frame each way
(ROUTER on the node, DEALER or REQ on the client). Plain types and constants; nothing here runs.
The server (control/server.ts), the client (control/client.ts), membership and scripts in any
language speak exactly this. Unknown fields are ignored; unknown ops answer `unknown-op`.
*/

import type {FaultTarget, InboundFault, OutboundFault} from '../mesh/model/fault-types.js';

export const CONTROL_VERSION = 1;

/** Requests larger than this are refused (`too-large`) before they are parsed. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/** A member as membership knows it (memberlist's node state). */
export type MemberState = 'alive' | 'suspect' | 'dead';

export type Member = {
	id: string;
	/** Data endpoint: the member's PUB, `tcp://host:port`. */
	endpoint: string;
	/** Control endpoint, when the member has a control plane; absent for legacy (data-only) members. */
	control?: string;
	/** Milliseconds since the epoch when the member's process started; 0 when unknown (legacy). */
	incarnation: number;
	state: MemberState;
	/** A member with no control plane (an original Python node, or any node given as a static --peer that never announced one). */
	legacy: boolean;
	/** Wall-clock milliseconds since the epoch of the member's last state change, as the answering node saw it. */
	changedAtMs: number;
	/**
	An observer (`--observe`): it joined to watch and publishes nothing, so no member subscribes to it
	and it is in no coupling sum. Listed by the nodes it joined, never merged from gossip.
	*/
	observer?: true;
};

/**
What a `join` request announces: "here I am; subscribe to me". This is what the membership hook
receives; on the wire the node id travels as `node`, since `id` is the request's own id.
*/
export type JoinAnnouncement = {
	id: string;
	endpoint: string;
	control?: string;
	incarnation: number;
	/** The joining node only watches (`--observe`): list it, never subscribe to it. */
	observer?: boolean;
};

/**
An observer publishes nothing, so no heartbeat says it is alive: it sends its `join` to each member
again this often, and a member forgets an observer whose last join is older than OBSERVER_TTL_MS
(three refreshes and a half: two lost joins in a row do not drop it).
*/
export const OBSERVER_REFRESH_MS = 10_000;
export const OBSERVER_TTL_MS = 35_000;

/** A fault set through the control plane. Every one carries a lease; 0 means no expiry. */
export type FaultRequest =
	| {direction: 'inbound'; target: FaultTarget; fault: Partial<InboundFault>; leaseMs: number}
	| {direction: 'outbound'; fault: Partial<OutboundFault>; leaseMs: number}
	/** Blackhole one link (inbound from that peer id), for partitions by shape. */
	| {direction: 'link'; peer: string; blackhole: boolean; leaseMs: number}
	/**
	The same on many links at once, each with its own lease (as if sent one by one): a partition of a
	1,000-member mesh is one request per member, not 500. At most MAX_LINKS_PER_REQUEST peers. A node
	that predates it refuses it with bad-request (its message names the directions it knows); a
	sender then falls back to `link`.
	*/
	| {direction: 'links'; peers: string[]; blackhole: boolean; leaseMs: number};

/** Peers in one `links` fault request: 500 ids of 64 characters still fit in MAX_REQUEST_BYTES. */
export const MAX_LINKS_PER_REQUEST = 500;

/** A fault request's lease when it names none (`--fault-lease`, default 30 s). */
export const DEFAULT_FAULT_LEASE_MS = 30_000;

/** The most peers one `view` reply carries, and members one `members` reply carries; more page with `offset`. */
export const MAX_VIEW_PEERS = 500;
export const MAX_MEMBERS_PER_REPLY = 2000;
/** The most `[id, state]` pairs one brief `view` reply carries (about 40 KB): a 1,000-member mesh in one page. */
export const MAX_VIEW_BRIEF_PEERS = 2000;

/** The longest `since` a `view` or `members` request may carry (digests are 8 and 16 hex characters and a count); a longer one is a bad request. */
export const MAX_DIGEST_CHARS = 64;

/** A reply is at most this long; a larger one is cut to a page with `truncated: true`. */
export const MAX_REPLY_BYTES = 512 * 1024;

export type ControlOp = 'members' | 'view' | 'fault' | 'clear' | 'stop' | 'join';

/** Ops that change a node: with CURVE, only keys with the `operator` role may send them. */
export const WRITE_OPS: ReadonlySet<ControlOp> = new Set(['fault', 'clear', 'stop']);

type RequestBase = {
	v: 1;
	/** The client's request id, echoed in the reply (a string or a number). */
	id: string | number;
};

export type ControlRequest = RequestBase &
	(
		/**
		`offset`/`limit` page a large membership (at most MAX_MEMBERS_PER_REPLY a reply); `truncated` says
		more remain. The reply carries `digest`, an opaque string over every member's id, endpoint,
		control endpoint, incarnation, state and kind, whatever their order (digest.ts). `since: <digest>`
		asks to skip the list when its digest is that one: the reply then says `unchanged: true`, with
		`members` empty and `total` as usual. Membership's pulls send the digest of their own list, so
		where two members see the mesh alike (a steady mesh) gossip carries a few bytes, not every member,
		every 2 s. A node that predates it ignores `since` and answers in full.
		*/
		| {op: 'members'; offset?: number; limit?: number; since?: string}
		/**
		`offset`/`limit` page the peer table; the reply says `truncated` when more remain. `brief: true`
		(optional: a node that predates it ignores it and answers in full, so a reader accepts both)
		asks for the watcher's form: `brief: true` in the reply, `node` cut to id, incarnation, phase,
		omega, r (and control), no `stats`, and `peers` as `[id, state]` pairs, up to MAX_VIEW_BRIEF_PEERS
		a page. A console pulling every member each second parses a tenth of the JSON.

		A brief reply carries `digest`, an opaque string that changes when the peer table's ids or states
		do. `since: <digest>` asks to skip the peers when nothing changed: the reply then says
		`unchanged: true`, with every other field as usual and `peers` empty. A steady mesh's console
		then reads each member's phase and a few bytes, not its whole table, every second. A node that
		predates it ignores `since` and answers in full, which a reader takes as a change.
		*/
		| {op: 'view'; offset?: number; limit?: number; brief?: boolean; since?: string}
		| ({op: 'fault'} & FaultRequest)
		| {op: 'clear'}
		| {op: 'stop'}
		| {op: 'join'; node: string; endpoint: string; control?: string; incarnation: number; observer?: boolean}
	);

export type ControlErrorCode =
	| 'malformed-json'
	| 'bad-request'
	| 'unknown-op'
	| 'unsupported-version'
	| 'too-large'
	| 'rate-limited'
	| 'forbidden'
	| 'too-many-members'
	| 'internal';

/**
What `stats.controlRefused` counts, by reason: every error code above, and `unauthenticated` (a
CURVE handshake the allow file refused: that client gets no reply at all) and `dropped` (a
connection closed before it sent a whole request, which is what libzmq does to a request over
MAX_REQUEST_BYTES).
*/
export type ControlRefusal = ControlErrorCode | 'unauthenticated' | 'dropped';

export type ControlReplyOk = {v: 1; id: string | number | null; ok: true; [field: string]: unknown};
export type ControlReplyError = {v: 1; id: string | number | null; ok: false; error: ControlErrorCode; message: string};
export type ControlReply = ControlReplyOk | ControlReplyError;
