/**
What each control op does to the node, once the server has let the request through: pure of
sockets, so that it is the same whoever asks (a script, `ctl`, membership, a test).
*/

import type {FaultTarget, InboundFault, OutboundFault} from '../../mesh/model/fault-types.js';
import type {PeerState} from '../../mesh/model/peer-table.js';
import type {EventDetails, NodeSnapshot, PeerSnapshot} from '../../mesh/snapshot.js';
import {
	CONTROL_VERSION,
	MAX_MEMBERS_PER_REPLY,
	MAX_REPLY_BYTES,
	MAX_VIEW_BRIEF_PEERS,
	MAX_VIEW_PEERS,
	type ControlErrorCode,
	type ControlReply,
	type ControlRequest,
	type JoinAnnouncement,
	type Member,
	type MemberState,
} from '../protocol.js';
import {MemberListDigest, peerTableDigest} from '../digest.js';
import type {ExpiredLease, LeaseBook} from './leases.js';

/** What the control plane needs of a node (a ChorusNode, or the session in front of it). */
export type ControlledNode = {
	readonly id: string;
	readonly incarnation: number;
	readonly endpoint: string;
	snapshot(): NodeSnapshot;
	setInboundFault(target: FaultTarget, patch: Partial<InboundFault>): void;
	setOutboundFault(patch: Partial<OutboundFault>): void;
	clearFaults(): void;
	addPeer(endpoint: string): void;
};

/** Membership, when it runs: the members it knows and what a `join` does. */
export type MembershipHook = {
	members(): Member[];
	join(announcement: JoinAnnouncement): {ok: true} | {ok: false; error: ControlErrorCode; message: string};
	/** A member pulled our list with the digest of its own (`since`): whether the two differ. */
	pulledBy?(listsDiffer: boolean): void;
};

/** The control plane's events: where it listens, refusals, leases that ran out, a stop it was asked for. */
export type ControlEventKind = 'control-started' | 'control-refused' | 'fault-lease-expired' | 'control-stop';

export type ControlOpsOptions = {
	node: ControlledNode;
	membership?: MembershipHook;
	/** Our own control endpoint, for our own entry in `members`. */
	controlEndpoint: () => string | undefined;
	leases: LeaseBook;
	/** Called after the leases changed, so that the timer looks at the next due one. */
	onLeasesChanged: () => void;
	/** Monotonic clock (performance.now). */
	now: () => number;
	/** Asked once a `stop` reply is sent: the run layer stops the session and exits 0. */
	onStop: () => void;
	emit: (event: EventDetails<ControlEventKind>) => void;
};

/** The reply, and what to do once it is sent (`stop` acts after its reply is on its way). */
export type OpResult = {reply: ControlReply; afterReply?: () => void};

const INBOUND_ZERO: InboundFault = {drop: 0, delayMs: 0, jitterMs: 0, duplicate: 0, blackhole: false};

export function errorReply(id: string | number | null, error: ControlErrorCode, message: string): ControlReply {
	return {v: CONTROL_VERSION, id, ok: false, error, message};
}

function okReply(id: string | number, fields: Record<string, unknown>): ControlReply {
	return {v: CONTROL_VERSION, id, ok: true, ...fields};
}

const MEMBER_STATE: Record<PeerState, MemberState> = {
	alive: 'alive',
	restarted: 'alive',
	suspect: 'suspect',
	quarantined: 'suspect',
	evicted: 'dead',
};

/** Members as this node's peer table knows them (when no membership runs), ourselves first. */
export function membersFromSnapshot(snapshot: NodeSnapshot, control: string | undefined, wallNowMs: number): Member[] {
	const self: Member = {
		id: snapshot.node.id,
		endpoint: snapshot.node.endpoint,
		...(control === undefined ? {} : {control}),
		incarnation: snapshot.node.incarnation,
		state: 'alive',
		legacy: false,
		changedAtMs: snapshot.node.incarnation,
	};
	const peers = snapshot.peers
		// A peer heard only through a link it never named (no endpoint) cannot be dialled: not a member.
		.filter((peer): peer is PeerSnapshot & {endpoint: string} => peer.endpoint !== undefined)
		.map((peer): Member => ({
			id: peer.id,
			endpoint: peer.endpoint,
			...(peer.control === undefined ? {} : {control: peer.control}),
			incarnation: peer.incarnation,
			state: MEMBER_STATE[peer.state],
			legacy: peer.control === undefined,
			changedAtMs: Math.round(wallNowMs - peer.lastSeenMs),
		}));
	return [self, ...peers];
}

/** A page of `items` whose reply stays under MAX_REPLY_BYTES: halves the page until it fits. */
function fittingPage<T>(items: readonly T[], offset: number, limit: number, build: (page: readonly T[], truncated: boolean) => ControlReply): ControlReply {
	let size = limit;
	for (;;) {
		const page = items.slice(offset, offset + size);
		const truncated = offset + page.length < items.length;
		const reply = build(page, truncated);
		if (size <= 1 || Buffer.byteLength(JSON.stringify(reply)) <= MAX_REPLY_BYTES) {
			return reply;
		}

		size = Math.floor(size / 2);
	}
}

/** Endpoints `join` may add when no membership runs (membership bounds its own with --max-peers). */
const MAX_JOINED = 1024;

export class ControlOps {
	readonly #options: ControlOpsOptions;
	readonly #joined = new Set<string>();
	readonly #listDigest = new MemberListDigest();

	constructor(options: ControlOpsOptions) {
		this.#options = options;
	}

	run(request: ControlRequest): OpResult {
		switch (request.op) {
			case 'members': {
				return {reply: this.#members(request.id, request.offset ?? 0, Math.min(request.limit ?? MAX_MEMBERS_PER_REPLY, MAX_MEMBERS_PER_REPLY), request.since)};
			}

			case 'view': {
				return {reply: request.brief === true
					? this.#briefView(request.id, request.offset ?? 0, Math.min(request.limit ?? 100, MAX_VIEW_BRIEF_PEERS), request.since)
					: this.#view(request.id, request.offset ?? 0, Math.min(request.limit ?? 100, MAX_VIEW_PEERS))};
			}

			case 'fault': {
				return {reply: this.#fault(request)};
			}

			case 'clear': {
				this.#options.node.clearFaults();
				this.#options.leases.clear();
				this.#options.onLeasesChanged();
				return {reply: okReply(request.id, {})};
			}

			case 'stop': {
				return {
					reply: okReply(request.id, {stopping: true}),
					afterReply: () => {
						this.#options.emit({kind: 'control-stop', message: 'stop requested through the control plane'});
						this.#options.onStop();
					},
				};
			}

			case 'join': {
				return {reply: this.#join(request)};
			}
		}
	}

	/** Reset the fields whose leases ran out, with one `fault-lease-expired` event per entry. */
	expire(expired: readonly ExpiredLease[]): void {
		const {node, emit} = this.#options;
		for (const {key, fields} of expired) {
			try {
				if (key === 'outbound') {
					node.setOutboundFault(Object.fromEntries(fields.map((field) => [field, 0])));
					emit({kind: 'fault-lease-expired', target: 'outbound', direction: 'outbound', fields});
				} else {
					const target = key.slice('inbound:'.length);
					node.setInboundFault(target, Object.fromEntries(fields.map((field) => [field, INBOUND_ZERO[field as keyof InboundFault]])));
					emit({kind: 'fault-lease-expired', target, direction: 'inbound', fields, ...(target === 'all' ? {} : {peer: target})});
				}
			} catch (error) {
				emit({kind: 'fault-lease-expired', target: key, fields, reason: `could not clear: ${(error as Error).message}`});
			}
		}
	}

	/** With `since` equal to the list's digest (the asker's own list is the same), the members are left out (`unchanged: true`). */
	#members(id: string | number, offset: number, limit: number, since: string | undefined): ControlReply {
		const {membership, node, controlEndpoint} = this.#options;
		const members = membership?.members() ?? membersFromSnapshot(node.snapshot(), controlEndpoint(), Date.now());
		const digest = this.#listDigest.of(members);
		if (since !== undefined) {
			// Only a pull that says what it lists can tell us we differ (a script's plain `members` says nothing).
			membership?.pulledBy?.(since !== digest);
		}

		if (since === digest) {
			return okReply(id, {unchanged: true, members: [], offset: 0, total: members.length, truncated: false, digest});
		}

		return fittingPage(members, offset, limit, (page, truncated) => okReply(id, {members: page, offset, total: members.length, truncated, digest}));
	}

	#view(id: string | number, offset: number, limit: number): ControlReply {
		const {node, leases, now, controlEndpoint} = this.#options;
		const snapshot = node.snapshot();
		const control = controlEndpoint();
		const peers = [...snapshot.peers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
		const leasesLeft = leases.all(now());
		return fittingPage(peers, offset, limit, (page, truncated) =>
			okReply(id, {
				t: snapshot.t,
				node: {...snapshot.node, ...(control === undefined ? {} : {control})},
				stats: snapshot.stats,
				faults: snapshot.faults,
				leasesMs: leasesLeft,
				peers: page,
				offset,
				total: peers.length,
				truncated,
			}),
		);
	}

	/**
	The watcher's form of `view` (protocol.ts): what a mesh console needs of each member every second,
	the phase, r, faults and who it hears, with the peers as `[id, state]` pairs and no statistics.
	With `since` equal to the table's digest, the peers are left out (`unchanged: true`).
	*/
	#briefView(id: string | number, offset: number, limit: number, since: string | undefined): ControlReply {
		const {node, leases, now, controlEndpoint} = this.#options;
		const snapshot = node.snapshot();
		const control = controlEndpoint();
		const {id: nodeId, incarnation, phase, omega, r} = snapshot.node;
		const peers = snapshot.peers.map((peer): [string, string] => [peer.id, peer.state]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
		const digest = peerTableDigest(peers);
		const fields = {
			brief: true,
			t: snapshot.t,
			node: {id: nodeId, incarnation, phase, omega, r, ...(control === undefined ? {} : {control})},
			faults: snapshot.faults,
			leasesMs: leases.all(now()),
			digest,
		};
		if (since === digest) {
			return okReply(id, {...fields, unchanged: true, peers: [], offset: 0, total: peers.length, truncated: false});
		}

		return fittingPage(peers, offset, limit, (page, truncated) => okReply(id, {...fields, peers: page, offset, total: peers.length, truncated}));
	}

	#fault(request: ControlRequest & {op: 'fault'}): ControlReply {
		const {node, leases, now, onLeasesChanged} = this.#options;
		// What was set, by lease key: each gets its lease below, even when a later one fails.
		const applied: Array<{key: string; patch: Record<string, unknown>}> = [];
		let failure: string | undefined;
		try {
			switch (request.direction) {
				case 'inbound': {
					node.setInboundFault(request.target, request.fault);
					applied.push({key: `inbound:${request.target}`, patch: request.fault});
					break;
				}

				case 'outbound': {
					node.setOutboundFault(request.fault);
					applied.push({key: 'outbound', patch: request.fault});
					break;
				}

				case 'link': {
					node.setInboundFault(request.peer, {blackhole: request.blackhole});
					applied.push({key: `inbound:${request.peer}`, patch: {blackhole: request.blackhole}});
					break;
				}

				case 'links': {
					// As many `link` requests, one lease per link.
					for (const peer of request.peers) {
						node.setInboundFault(peer, {blackhole: request.blackhole});
						applied.push({key: `inbound:${peer}`, patch: {blackhole: request.blackhole}});
					}

					break;
				}
			}
		} catch (error) {
			failure = (error as Error).message.split('\n')[0]!;
		}

		const nowMs = now();
		for (const {key, patch} of applied) {
			// A field set back to zero has nothing left to expire.
			const zeroed = Object.entries(patch).filter(([, value]) => value === 0 || value === false).map(([field]) => field);
			const live = Object.keys(patch).filter((field) => !zeroed.includes(field));
			leases.set(key, zeroed, 0, nowMs);
			leases.set(key, live, request.leaseMs, nowMs);
		}

		if (applied.length > 0) {
			onLeasesChanged();
		}

		if (failure !== undefined) {
			return errorReply(request.id, 'bad-request', failure);
		}

		return okReply(request.id, {faults: node.snapshot().faults, leaseMs: request.leaseMs});
	}

	#join(request: ControlRequest & {op: 'join'}): ControlReply {
		const {membership, node} = this.#options;
		const announcement: JoinAnnouncement = {
			id: request.node,
			endpoint: request.endpoint,
			...(request.control === undefined ? {} : {control: request.control}),
			incarnation: request.incarnation,
			...(request.observer === true ? {observer: true} : {}),
		};
		if (membership !== undefined) {
			const result = membership.join(announcement);
			return result.ok ? okReply(request.id, {}) : errorReply(request.id, result.error, result.message);
		}

		// Without membership nothing else bounds what joins add: each distinct endpoint once, at most MAX_JOINED.
		// An observer publishes nothing: there is nothing to subscribe to.
		if (announcement.observer !== true && !this.#joined.has(announcement.endpoint)) {
			if (this.#joined.size >= MAX_JOINED) {
				return errorReply(request.id, 'too-many-members', `this node took ${MAX_JOINED} joins already`);
			}

			this.#joined.add(announcement.endpoint);
			node.addPeer(announcement.endpoint);
		}

		return okReply(request.id, {});
	}
}
