/**
Membership at run time: join a mesh through one address, keep every member's data link, gossip.

- `--join` seeds: subscribe to each seed's data endpoint; once it is heard, its control endpoint is
  known (the `control` field of its messages): pull `members` from it and send `join` to it.
- Every member heard on the data plane that has a control plane gets one `join` from us ("here I
  am; subscribe to me"), so links are made both ways without waiting for gossip.
- Anti-entropy (memberlist's push/pull): every gossip interval, pull `members` from one random live
  member with a control plane and merge what it says (member-table.ts decides what to believe). A
  settled mesh pulls less often, a changing one at the interval (pace.ts); so does a member whose
  list another member's pull shows to differ.
- Sparse mesh (`--fanout`): past a size, the dial plan subscribes to k members picked at random and
  replaces a pick that dies (fanout.ts); a `join` then makes us a candidate, not a sure link.
- A seed that does not answer is retried with backoff, as Serf's retry-join: a `join-retry` event,
  never a fatal error. `dns:` seeds are resolved again every 30 s.
- Observers (`--observe`): a node that only watches joins like any other, with `observer: true`, and
  sends that join again every OBSERVER_REFRESH_MS, since it publishes nothing that could say it is
  alive. Members list it (observers.ts) and never subscribe to it.

The table is pure; this file holds the timers, the node, the control client and the resolver.
*/

import {performance} from 'node:perf_hooks';
import type {EventDetails, HeardPeer} from '../../mesh/snapshot.js';
import type {ControlClient} from '../control/client.js';
import {MemberListDigest} from '../digest.js';
import {OBSERVER_REFRESH_MS, type JoinAnnouncement, type Member} from '../protocol.js';
import {MemberTable, type JoinResult, type KnownMember, type MemberEvent, type MemberRefusal, type Silenced} from './member-table.js';
import type {FanoutPolicy} from './fanout.js';
import {ObserverTable, type ObserverRefusal} from './observers.js';
import {Pace, PULL_SLOWDOWN} from './pace.js';
import {allowedSeeds, createSeedResolver, DNS_REFRESH_MS, parseJoinTarget, resolveSeeds, type JoinTarget, type SeedResolver} from './seeds.js';

export type MembershipEventKind = 'member-joined' | 'member-dead' | 'member-forgotten' | 'join-retry';

/** What membership needs of the node: who it is, its peers as it hears them, and its links. */
export type MembershipNode = {
	readonly id: string;
	readonly incarnation: number;
	readonly endpoint: string;
	/** The control endpoint the node announces, if it has a control plane. */
	readonly control: string | undefined;
	/** The node only watches (`--observe`): it publishes nothing, and joins as an observer. */
	readonly observer?: boolean;
	/** The peers it hears (neither evicted nor quarantined): read every second, so kept light (node.ts). */
	heardPeers(): readonly HeardPeer[];
	addPeer(endpoint: string): void;
	removePeer(endpoint: string): void;
	/** The faults in force: an inbound blackhole explains a member's silence, and its link is kept (member-table.ts). */
	faults?(): {all?: {blackhole: boolean}; peers: Readonly<Record<string, {blackhole: boolean}>>};
};

/** The part of the control client membership uses (control/client.ts). */
export type MembershipClient = Pick<ControlClient, 'request'>;

export type MembershipOptions = {
	node: MembershipNode;
	/** `--join` values: `tcp://host:port`, a port, or `dns:NAME:PORT` (parsed with parseJoinTarget). */
	joins: readonly string[];
	/** `--peer` endpoints: members too (legacy, data only, until they announce a control plane). */
	staticPeers: readonly string[];
	client: MembershipClient;
	/** `--gossip-interval`. @default 2000 */
	gossipIntervalMs?: number;
	/** `--reconnect-timeout`. @default 600_000 */
	reconnectTimeoutMs?: number;
	/** The data plane's TTL: a member silent this long is dead. */
	ttlMs: number;
	/** `--max-peers`. */
	maxMembers: number;
	/** With CURVE: only endpoints the allow file lists. */
	endpointAllowed?: (endpoint: string) => boolean;
	/** Resolves `dns:` seeds. @default createSeedResolver() (/etc/resolv.conf, or CHORUS_DNS_SERVERS) */
	resolver?: SeedResolver;
	emit: (event: EventDetails<MembershipEventKind>) => void;
	/** @default Math.random */
	random?: () => number;
	/** How often the node's peers are read and the dial plan applied. @default LOOP_MS */
	loopMs?: number;
	/** A seed is given this long to be heard before it counts as not answering. @default 3000 */
	seedProbeMs?: number;
	/** `--fanout`: past `fullMeshUpTo` members, subscribe to k picked at random (fanout.ts). @default a full mesh */
	fanout?: FanoutPolicy;
	/** An observer sends its join to each member again this often. @default OBSERVER_REFRESH_MS */
	observerRefreshMs?: number;
	/** An observer that has not joined again for this long is forgotten. @default OBSERVER_TTL_MS */
	observerTtlMs?: number;
};

export type MembershipStats = {
	members: number;
	/** Subscriptions opened by the dial plan. */
	dials: number;
	pulls: number;
	/** Pulls answered `unchanged`: the member listed what we list. */
	pullsUnchanged: number;
	pullFailures: number;
	/** The wait before the next pull now: the gossip interval, or up to 8 times it in a settled mesh. */
	pullEveryMs: number;
	joinsSent: number;
	/** Observers that joined this node and are listed now. */
	observers: number;
	refused: Partial<Record<MemberRefusal | ObserverRefusal, number>>;
};

type Seed = {
	endpoint: string;
	/** `dns:NAME:PORT` that gave it, if any. */
	from?: string;
	subscribed: boolean;
	openedAtMs: number;
	nextTryAtMs: number;
	attempts: number;
};

/**
Once a second: a TTL is seconds long, and a join is answered at once (join() applies the plan), so
a faster loop bought no speed; at 2 Hz it was most of what membership cost a node (bench/optimizations.md).
*/
const LOOP_MS = 1000;
const SEED_BACKOFF_START_MS = 1000;
/** Serf retries a join every 30 s; so do we, at most, once the backoff has grown. */
const SEED_BACKOFF_MAX_MS = 30_000;
/** Control requests in flight at once from membership (joins and pulls). */
const MAX_REQUESTS_IN_FLIGHT = 8;
/** A `join` that failed is sent again after this long. */
const JOIN_RETRY_MS = 5000;
const PULL_TIMEOUT_MS = 2000;

export class Membership {
	readonly #options: MembershipOptions;
	readonly #table: MemberTable;
	readonly #observers: ObserverTable;
	readonly #targets: JoinTarget[];
	readonly #seeds = new Map<string, Seed>();
	/** Seeds heard whose control endpoint we have yet to learn: pulled once we do, until one answers. */
	readonly #heardSeeds = new Set<string>();
	readonly #random: () => number;
	readonly #resolver: SeedResolver | undefined;
	/** Members we sent our `join` to, by id, with the incarnation it was for (or when to try again). */
	readonly #joined = new Map<string, {incarnation: number; retryAtMs?: number}>();
	/** Our own list's digest, sent with each pull: a member that sees the mesh as we do answers `unchanged`. */
	readonly #listDigest = new MemberListDigest();
	#loopTimer: NodeJS.Timeout | undefined;
	#gossipTimer: NodeJS.Timeout | undefined;
	readonly #pullPace: Pace;
	/** When the pending pull is due (performance.now), so that a change can bring it forward. */
	#gossipDueAtMs = 0;
	/** The table's version at the last step: a new one means our list changed. */
	#seenVersion = -1;
	/** The table's version when a pass of #sendJoins found no join to send, and when the first retry falls due. */
	#joinsSettled: {version: number; untilMs: number} | undefined;
	#dnsTimer: NodeJS.Timeout | undefined;
	#selfListed: Readonly<Member> | undefined;
	#inFlight = 0;
	#pulls = 0;
	#pullsUnchanged = 0;
	#pullFailures = 0;
	#joinsSent = 0;
	/** A seed (or any member) has answered a pull: we are in the mesh. */
	#inMesh = false;
	#running = false;

	constructor(options: MembershipOptions) {
		this.#options = options;
		this.#random = options.random ?? Math.random;
		this.#pullPace = new Pace(options.gossipIntervalMs ?? 2000, PULL_SLOWDOWN);
		this.#targets = options.joins.map((text) => parseJoinTarget(text));
		this.#table = new MemberTable({
			selfId: options.node.id,
			selfEndpoint: options.node.endpoint,
			maxMembers: options.maxMembers,
			ttlMs: options.ttlMs,
			reconnectTimeoutMs: options.reconnectTimeoutMs ?? 600_000,
			endpointAllowed: options.endpointAllowed,
			wallClockOffsetMs: performance.timeOrigin,
			fanout: options.fanout,
			random: this.#random,
		});
		this.#observers = new ObserverTable({selfId: options.node.id, ttlMs: options.observerTtlMs, wallClockOffsetMs: performance.timeOrigin});
		for (const endpoint of options.staticPeers) {
			this.#table.pin(endpoint);
		}

		this.#resolver = this.#targets.some((target) => target.kind === 'dns') ? (options.resolver ?? createSeedResolver()) : undefined;
	}

	start(): void {
		if (this.#running) {
			return;
		}

		this.#running = true;
		const nowMs = performance.now();
		for (const target of this.#targets) {
			if (target.kind === 'endpoint') {
				this.#addSeed(target.endpoint, undefined, nowMs);
			}
		}

		if (this.#resolver !== undefined) {
			void this.#resolveDns();
			this.#dnsTimer = setInterval(() => {
				void this.#resolveDns();
			}, DNS_REFRESH_MS);
			this.#dnsTimer.unref?.();
		}

		this.#loopTimer = setInterval(() => {
			this.#step();
		}, this.#options.loopMs ?? LOOP_MS);
		this.#scheduleGossip(this.#pullPace.everyMs);
		this.#step();
	}

	stop(): void {
		this.#running = false;
		clearInterval(this.#loopTimer);
		clearTimeout(this.#gossipTimer);
		clearInterval(this.#dnsTimer);
	}

	/**
	Every member this node knows, itself first: what the `members` op answers. Each other member says
	whether it is `coupled` (we hold its data link and hear it) or only known (`--fanout`: not picked).
	*/
	members(): Array<Readonly<KnownMember>> {
		const list = this.#table.members(performance.now());
		list.unshift(this.#self());
		for (const observer of this.#observers.members()) {
			list.push(observer);
		}

		return list;
	}

	/** This node as it lists itself, made again only when what it announces changes (its control endpoint). */
	#self(): Readonly<Member> {
		const {node} = this.#options;
		const listed = this.#selfListed;
		if (listed !== undefined && listed.control === node.control && listed.incarnation === node.incarnation) {
			return listed;
		}

		const self: Readonly<Member> = Object.freeze({
			id: node.id,
			endpoint: node.endpoint,
			...(node.control === undefined ? {} : {control: node.control}),
			incarnation: node.incarnation,
			state: 'alive',
			legacy: false,
			// Our own state has not changed since we started.
			changedAtMs: node.incarnation,
			...(node.observer === true ? {observer: true} : {}),
		} satisfies Member);
		this.#selfListed = self;
		return self;
	}

	/** The `join` op: a member announces itself; we subscribe to it (through the dial plan). An observer is listed only. */
	join(announcement: JoinAnnouncement): JoinResult {
		const nowMs = performance.now();
		if (announcement.observer === true) {
			return this.#joinObserver(announcement, nowMs);
		}

		// An observer that came back as a member (a newer process without --observe).
		if ((this.#observers.incarnationOf(announcement.id) ?? Number.POSITIVE_INFINITY) < announcement.incarnation) {
			this.#observers.remove(announcement.id);
		}

		const {result, events} = this.#table.announce(announcement, nowMs);
		this.#report(events);
		if (result.ok) {
			this.#applyPlan(nowMs);
		}

		return result;
	}

	stats(): MembershipStats {
		return {
			members: this.#table.size + 1,
			dials: this.#table.dialCount,
			pulls: this.#pulls,
			pullsUnchanged: this.#pullsUnchanged,
			pullFailures: this.#pullFailures,
			pullEveryMs: this.#pullPace.everyMs,
			joinsSent: this.#joinsSent,
			observers: this.#observers.size,
			refused: {...this.#table.refused(), ...this.#observers.refused()},
		};
	}

	#joinObserver(announcement: JoinAnnouncement, nowMs: number): JoinResult {
		const member = this.#table.get(announcement.id);
		if (member !== undefined && typeof announcement.incarnation === 'number') {
			if (member.incarnation >= announcement.incarnation) {
				// The same process cannot be both: a member's id is taken until it restarts.
				return {ok: false, error: 'bad-request', message: `${announcement.id} is a member at incarnation ${member.incarnation}; an observer needs a newer one`};
			}

			// It came back as an observer: stop dialling the member it was, once we no longer hear that one.
			const forgotten = this.#table.forget(announcement.id, nowMs);
			if (forgotten === undefined) {
				return {ok: false, error: 'bad-request', message: `${announcement.id} is a member this node hears; an observer with its id must wait until it is silent`};
			}

			this.#report(forgotten);
			this.#applyPlan(nowMs);
		}

		const {result, events} = this.#observers.announce(announcement, nowMs);
		this.#report(events);
		return result;
	}

	/** Merge a member list as if a pull had returned it (the `members` subcommand and tests use it). */
	merge(list: unknown): void {
		const nowMs = performance.now();
		this.#observe(nowMs);
		this.#report(this.#table.merge(list, nowMs));
	}

	#step(): void {
		if (!this.#running) {
			return;
		}

		const nowMs = performance.now();
		this.#observe(nowMs);
		this.#report(this.#table.sweep(nowMs));
		this.#report(this.#observers.sweep(nowMs));
		if (this.#table.version !== this.#seenVersion) {
			this.#seenVersion = this.#table.version;
			this.#quicken();
		}

		this.#applyPlan(nowMs);
		this.#tendSeeds(nowMs);
		this.#sendJoins(nowMs);
	}

	/** What the data plane heard: direct evidence for the table. */
	#observe(nowMs: number): void {
		for (const peer of this.#options.node.heardPeers()) {
			const endpoint = peer.endpoint ?? peer.via;
			// Past its TTL the node still lists a peer for a moment: that is no evidence of life.
			if (endpoint === undefined || peer.silentForMs >= this.#options.ttlMs) {
				continue;
			}

			// An observer publishes nothing: heard on the data plane at a newer incarnation, it is a member again.
			if ((this.#observers.incarnationOf(peer.id) ?? Number.POSITIVE_INFINITY) < peer.incarnation) {
				this.#observers.remove(peer.id);
			}

			this.#report(this.#table.heard({id: peer.id, endpoint, control: peer.control, incarnation: peer.incarnation, atMs: nowMs - peer.silentForMs}, nowMs));
			if (this.#seeds.size === 0 && this.#heardSeeds.size === 0) {
				continue;
			}

			// A seed is found by the endpoint the member announces or by the link we hear it through.
			const seed = this.#seeds.get(endpoint) ?? (peer.via === undefined ? undefined : this.#seeds.get(peer.via));
			if (seed !== undefined) {
				// Heard: the seed is a member now, its link the dial plan's. Its control endpoint may come a
				// message or two later (a node announces it once a second after its first seconds).
				this.#seeds.delete(seed.endpoint);
				this.#heardSeeds.add(peer.id);
			}

			if (!this.#inMesh && peer.control !== undefined && this.#heardSeeds.delete(peer.id)) {
				this.#pull(peer.control);
			}
		}
	}

	#applyPlan(nowMs: number): void {
		const {node} = this.#options;
		const plan = this.#table.plan(nowMs, this.#silenced());
		for (const endpoint of plan.unsubscribe) {
			if (!this.#seeds.has(endpoint)) {
				node.removePeer(endpoint);
			}
		}

		for (const endpoint of plan.subscribe) {
			node.addPeer(endpoint);
		}
	}

	/** Members our own inbound blackhole silences: their links are kept while it lasts. */
	#silenced(): Silenced | undefined {
		const faults = this.#options.node.faults?.();
		if (faults === undefined) {
			return undefined;
		}

		if (faults.all?.blackhole === true) {
			return 'all';
		}

		const ids = Object.entries(faults.peers).filter(([, fault]) => fault.blackhole).map(([id]) => id);
		return ids.length === 0 ? undefined : new Set(ids);
	}

	#addSeed(endpoint: string, from: string | undefined, nowMs: number): void {
		if (this.#seeds.has(endpoint) || endpoint === this.#options.node.endpoint) {
			return;
		}

		// A seed that is already a member needs no seeding.
		for (const member of this.#table.records()) {
			if (member.endpoint === endpoint) {
				return;
			}
		}

		this.#seeds.set(endpoint, {endpoint, ...(from === undefined ? {} : {from}), subscribed: false, openedAtMs: 0, nextTryAtMs: nowMs, attempts: 0});
	}

	/** Serf's retry-join: dial each unanswered seed, give it a window, back off, say so. */
	#tendSeeds(nowMs: number): void {
		const {node} = this.#options;
		const probeMs = this.#options.seedProbeMs ?? 3000;
		for (const seed of this.#seeds.values()) {
			if (seed.subscribed) {
				if (nowMs - seed.openedAtMs < probeMs) {
					continue;
				}

				seed.subscribed = false;
				if (!this.#table.isPinned(seed.endpoint)) {
					node.removePeer(seed.endpoint);
				}

				const retryInMs = Math.min(SEED_BACKOFF_MAX_MS, SEED_BACKOFF_START_MS * 2 ** Math.min(seed.attempts - 1, 30));
				seed.nextTryAtMs = nowMs + retryInMs;
				this.#options.emit({
					kind: 'join-retry',
					endpoint: seed.endpoint,
					...(seed.from === undefined ? {} : {seed: seed.from}),
					attempt: seed.attempts,
					retryInMs,
					reason: `no message from ${seed.endpoint} within ${probeMs} ms; retrying in ${Math.round(retryInMs / 1000)} s`,
				});
				continue;
			}

			if (nowMs >= seed.nextTryAtMs) {
				seed.subscribed = true;
				seed.openedAtMs = nowMs;
				seed.attempts++;
				node.addPeer(seed.endpoint);
			}
		}
	}

	async #resolveDns(): Promise<void> {
		for (const target of this.#targets) {
			if (target.kind !== 'dns' || !this.#running) {
				continue;
			}

			const label = `dns:${target.name}:${target.port}`;
			try {
				// eslint-disable-next-line no-await-in-loop -- one name at a time; there are few.
				const endpoints = await resolveSeeds(this.#resolver!, target.name, target.port);
				const {endpointAllowed} = this.#options;
				// With CURVE, pod IPs the allow file does not list are looked up for the names it does (PTR).
				// eslint-disable-next-line no-await-in-loop -- as above.
				const seeds = endpointAllowed === undefined ? endpoints : await allowedSeeds(this.#resolver!, endpoints, endpointAllowed);
				const nowMs = performance.now();
				for (const endpoint of seeds) {
					this.#addSeed(endpoint, label, nowMs);
				}
			} catch (error) {
				if (this.#running) {
					this.#options.emit({kind: 'join-retry', seed: label, retryInMs: DNS_REFRESH_MS, reason: `${(error as Error).message}; resolving again in ${DNS_REFRESH_MS / 1000} s`});
				}
			}
		}
	}

	/** Anti-entropy: pull from one random member that is alive (heard by us) and has a control plane. */
	#gossip(): void {
		if (!this.#running) {
			return;
		}

		this.#scheduleGossip(this.#pullPace.everyMs);
		const nowMs = performance.now();
		const candidates = [...this.#table.records()].filter((record) =>
			record.control !== undefined && record.state === 'alive' && record.heardAtMs !== undefined && nowMs - record.heardAtMs < this.#options.ttlMs);
		if (candidates.length === 0) {
			return;
		}

		const chosen = candidates[Math.floor(this.#random() * candidates.length)]!;
		this.#pull(chosen.control!);
	}

	#pull(control: string): void {
		if (this.#inFlight >= MAX_REQUESTS_IN_FLIGHT) {
			return;
		}

		this.#inFlight++;
		this.#pulls++;
		const since = this.#listDigest.of(this.members());
		this.#options.client.request(control, {op: 'members', since}, PULL_TIMEOUT_MS).then((reply) => {
			if (!this.#running) {
				return;
			}

			if (reply.ok && Array.isArray(reply['members'])) {
				const nowMs = performance.now();
				if (!this.#inMesh) {
					this.#inMesh = true;
					// Serf's retry-join stops once one seed answered: the other seeds are members by now, or
					// will be through gossip (a seed named differently from what it announces included).
					this.#dropSeeds();
				}

				if (reply['unchanged'] === true) {
					// The member lists what we list: nothing in it is news.
					this.#pullsUnchanged++;
					this.#pullPace.quiet();
					return;
				}

				this.#quicken();

				// Our ears first: gossip that calls a member dead is refuted only by a recent hearing, and
				// the step's last look may be a second old, past half a short TTL (a live member was
				// killed by gossip, redialled, heard, killed again: a loop across the mesh).
				this.#observe(nowMs);
				this.#report(this.#table.merge(reply['members'], nowMs));
				// A pull that changed nothing the plan reads finds it settled (member-table.ts): no pass over the members.
				this.#applyPlan(nowMs);
			} else {
				this.#pullFailures++;
			}
		}, () => {
			this.#pullFailures++;
		}).finally(() => {
			this.#inFlight--;
		});
	}

	/**
	A member pulled from us (the `members` op) with the digest of its own list. When the lists differ,
	one of us knows something the other does not: gossip quickens, so that the news crosses at the
	gossip interval, not at a settled mesh's pace.
	*/
	pulledBy(listsDiffer: boolean): void {
		if (listsDiffer && this.#running) {
			this.#quicken();
		}
	}

	#scheduleGossip(inMs: number): void {
		clearTimeout(this.#gossipTimer);
		this.#gossipDueAtMs = performance.now() + inMs;
		this.#gossipTimer = setTimeout(() => {
			this.#gossip();
		}, inMs);
	}

	/** Back to pulling every gossip interval; a pull due later than one interval from now comes forward. */
	#quicken(): void {
		if (this.#pullPace.changed() && this.#running && this.#gossipDueAtMs - performance.now() > this.#pullPace.everyMs) {
			this.#scheduleGossip(this.#pullPace.everyMs);
		}
	}

	#dropSeeds(): void {
		const memberEndpoints = new Set([...this.#table.records()].map((record) => record.endpoint));
		for (const seed of this.#seeds.values()) {
			// A seed that is a member's endpoint too is the dial plan's link now: left open.
			if (seed.subscribed && !this.#table.isPinned(seed.endpoint) && !memberEndpoints.has(seed.endpoint)) {
				this.#options.node.removePeer(seed.endpoint);
			}
		}

		this.#seeds.clear();
		this.#heardSeeds.clear();
	}

	/**
	One `join` to each member we hear that has a control plane, per incarnation of it; an observer's
	again every refresh interval, since nothing else tells the member it is still there.
	*/
	#sendJoins(nowMs: number): void {
		const settled = this.#joinsSettled;
		if (settled?.version === this.#table.version && nowMs < settled.untilMs) {
			return;
		}

		const {node} = this.#options;
		const observer = node.observer === true;
		const refreshMs = this.#options.observerRefreshMs ?? OBSERVER_REFRESH_MS;
		let nextRetryAtMs = Number.POSITIVE_INFINITY;
		let sentAny = false;
		for (const record of this.#table.records()) {
			if (this.#inFlight >= MAX_REQUESTS_IN_FLIGHT) {
				this.#joinsSettled = undefined;
				return;
			}

			if (record.control === undefined || record.heardAtMs === undefined || record.state === 'dead') {
				continue;
			}

			const sent = this.#joined.get(record.id);
			if (sent?.incarnation === record.incarnation && (sent.retryAtMs === undefined || nowMs < sent.retryAtMs)) {
				nextRetryAtMs = Math.min(nextRetryAtMs, sent.retryAtMs ?? Number.POSITIVE_INFINITY);
				continue;
			}

			sentAny = true;

			const incarnation = record.incarnation;
			this.#joined.set(record.id, {incarnation});
			this.#inFlight++;
			this.#joinsSent++;
			// On the wire the announcing node's id is `node`: `id` is the request's own.
			const request = {
				op: 'join' as const,
				node: node.id,
				endpoint: node.endpoint,
				...(node.control === undefined ? {} : {control: node.control}),
				incarnation: node.incarnation,
				...(observer ? {observer: true} : {}),
			};
			this.#options.client.request(record.control, request, PULL_TIMEOUT_MS).then((reply) => {
				if (!reply.ok) {
					this.#retryJoin(record.id, incarnation, JOIN_RETRY_MS);
				} else if (observer) {
					this.#retryJoin(record.id, incarnation, refreshMs);
				}
			}, () => {
				this.#retryJoin(record.id, incarnation, JOIN_RETRY_MS);
			}).finally(() => {
				this.#inFlight--;
			});
		}

		// Nothing to send until the table changes or a retry falls due: the steps until then skip the pass.
		this.#joinsSettled = sentAny ? undefined : {version: this.#table.version, untilMs: nextRetryAtMs};
		// Bounded like the table: forget what we sent to members that are gone.
		if (this.#joined.size > this.#table.size * 2 + 16) {
			for (const id of this.#joined.keys()) {
				if (this.#table.get(id) === undefined) {
					this.#joined.delete(id);
				}
			}
		}
	}

	/** A join to send again after `inMs` (it failed, or an observer's refresh): the next step looks again. */
	#retryJoin(id: string, incarnation: number, inMs: number): void {
		this.#joined.set(id, {incarnation, retryAtMs: performance.now() + inMs});
		this.#joinsSettled = undefined;
	}

	#report(events: MemberEvent[]): void {
		// Most steps report nothing, 20 times a step: no iterator for an empty list in code this cold.
		if (events.length === 0) {
			return;
		}

		this.#quicken();
		for (const event of events) {
			this.#options.emit(event);
		}
	}
}
