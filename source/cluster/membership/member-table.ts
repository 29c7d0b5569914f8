/**
The member table: who is in the mesh, as this node knows it, and which data endpoints to dial.

Pure: time is an argument (monotonic milliseconds), nothing here touches a socket. The runtime
(membership.ts) feeds it three kinds of news and applies its dial plan:

- `heard`: the data plane delivered a message from a member (direct evidence: it is alive);
- `announce`: a member sent `join` ("here I am; subscribe to me");
- `merge`: another node's `members` list (gossip, as memberlist's push/pull).

Rules (memberlist's, adapted to a mesh whose incarnation is the process start time):
- Per id, the highest incarnation wins, then the later state: alive < suspect < dead.
- Direct evidence outranks gossip at the same incarnation: a member we heard within its TTL stays
  alive whatever gossip says (memberlist's refutation, done by the listener instead of the member,
  since a member cannot bump its own incarnation here).
- A member silent past its TTL is `dead`; its endpoint is redialled with backoff, one probe per
  step, until the reconnect timeout, then the member is forgotten. A tombstone keeps gossip from
  bringing it back; only the member itself (data plane or `join`) with a newer incarnation does.
- Static members (`--peer`, legacy Python nodes included) are never forgotten and their links are
  the node's own: the table never closes them.
- A member silenced by this node's own inbound blackhole (a partition) turns dead like any silent
  one, but its live link is kept, with no backoff: the link is fine, we are ignoring it. So when
  the blackhole lifts it is heard at once, however long the partition lasted (memberlist keeps
  probing a dead member's address the same way; the fault is ours, not the network's).
- Sparse mesh (`fanout`, fanout.ts): past a size, only k picked members are subscribed; the others
  are known from gossip alone, so our silence ages only the picks. A pick heard and then silent past
  its TTL is dead, as in a full mesh; a pick never heard since it was picked is only dropped (and not
  picked again for a minute), since spreading its death would be spreading a guess. Either is replaced.
  Dead members are still probed with backoff, as in a full mesh.
- At most `maxMembers` members besides this node; only unicast `tcp://host:port` endpoints (and with
  CURVE only those the allow file lists, through `endpointAllowed`). Every refusal is counted.
*/

import type {Member, MemberState} from '../protocol.js';
import {isPrintableId} from '../../mesh/model/wire.js';
import {endpointRefusal, usableControl} from './endpoints.js';
import {FanoutPicker, type FanoutPolicy} from './fanout.js';

export type MemberRefusal =
	| 'bad-member'
	| 'bad-endpoint'
	| 'not-unicast'
	| 'not-allowed'
	| 'too-many-members'
	| 'forgotten'
	| 'stale';

export type MemberEventKind = 'member-joined' | 'member-dead' | 'member-forgotten';

export type MemberEvent = {
	kind: MemberEventKind;
	peer: string;
	endpoint: string;
	incarnation: number;
	/** How we learned it: `data` (heard it), `join` (it announced itself), `gossip`, `static`, or why it died or was forgotten. */
	reason: string;
};

export type MemberTableOptions = {
	selfId: string;
	/** This node's own data endpoint: never dialled. */
	selfEndpoint?: string;
	/** At most this many members besides this node (`--max-peers`). */
	maxMembers: number;
	/** A member silent this long is dead (the data plane's TTL). */
	ttlMs: number;
	/** A member silent this long is suspect. @default ttlMs / 2 */
	suspectAfterMs?: number;
	/** A dead member is redialled this long, then forgotten (`--reconnect-timeout`). */
	reconnectTimeoutMs: number;
	/** First redial delay after a failed probe; doubled each step. @default 1000 */
	backoffStartMs?: number;
	/** @default 60_000 */
	backoffMaxMs?: number;
	/** How long one probe of a dead or unheard endpoint stays open before it counts as failed. @default 1500 */
	probeMs?: number;
	/** With CURVE: only endpoints the allow file lists. @default every endpoint */
	endpointAllowed?: (endpoint: string) => boolean;
	/** Added to `nowMs` to give `changedAtMs` (wall clock). @default 0 */
	wallClockOffsetMs?: number;
	/** `--fanout`: subscribe to k members picked at random once the mesh is large (fanout.ts). @default a full mesh */
	fanout?: FanoutPolicy;
	/** Draws for the fan-out's picks. @default Math.random */
	random?: () => number;
	/**
	Skip a plan that would change nothing: nothing it reads changed since the last, and nothing in it
	waits on time yet. false: work every plan out in full (what the tests hold the shortcut to). @default true
	*/
	settledPlans?: boolean;
};

/** Direct evidence from the data plane. */
export type Heard = {
	id: string;
	/** The member's data endpoint: its announced one, or the link its message came through. */
	endpoint: string;
	control?: string;
	incarnation: number;
	/** When it was last heard (monotonic); default now. */
	atMs?: number;
};

/** A member as this node lists it: `coupled` when we hold a data link to it and hear it (its phase is in our coupling sum). */
export type KnownMember = Member & {coupled?: boolean};

export type MemberRecord = Member & {
	/** Last direct evidence (monotonic); undefined: known only from gossip or a join. */
	heardAtMs: number | undefined;
	/** When this incarnation entered the table (the TTL of a member never heard counts from here). */
	learnedAtMs: number;
	deadAtMs: number | undefined;
	static: boolean;
};

type Dial = {
	subscribed: boolean;
	/** The subscription is a probe (of a dead or never-heard endpoint), opened at `openedAtMs`. */
	probing: boolean;
	openedAtMs: number;
	/** How long this probe may stay open unheard. */
	windowMs: number;
	/** Failed probes in a row: the backoff step. */
	step: number;
	nextDialAtMs: number;
};

export type DialPlan = {subscribe: string[]; unsubscribe: string[]};

/** Member ids this node's own inbound blackhole silences (`'all'`: a blackhole on every peer). */
export type Silenced = ReadonlySet<string> | 'all';

export type JoinResult = {ok: true} | {ok: false; error: 'bad-request' | 'too-many-members'; message: string};

const STATE_RANK: Record<MemberState, number> = {alive: 0, suspect: 1, dead: 2};
/** A pick never heard within its TTL is not picked again for this long (it may still be picked by others). */
const UNREACHABLE_PICK_MS = 60_000;
const STATES = new Set<string>(['alive', 'suspect', 'dead']);

export class MemberTable {
	readonly #options: Required<Omit<MemberTableOptions, 'selfEndpoint' | 'fanout' | 'random'>> & {selfEndpoint: string | undefined};
	/**
	Bumped by every change the dial plan reads: a member added, removed or renewed, a state, a first
	hearing, an endpoint, a pin; and by a control endpoint learned or changed (membership's joins go
	there). A member heard again moves nothing the plan reads but its TTL, which #settled bounds in
	time instead.
	*/
	#version = 0;
	/**
	The last plan's table version, and the first instant at which a plan could change something
	without the table changing (a member's TTL running out, a probe window closing, a backoff ending).
	A steady full mesh's plan is then a comparison, once a second, not a pass over every member.
	*/
	#settled: {version: number; untilMs: number} | undefined;
	/** Undefined: a full mesh, every member subscribed. */
	readonly #fanout: FanoutPicker | undefined;
	readonly #members = new Map<string, MemberRecord>();
	/** Forgotten ids and the incarnation they had, with when they were forgotten. */
	readonly #tombstones = new Map<string, {incarnation: number; atMs: number}>();
	readonly #dials = new Map<string, Dial>();
	/** Sparse mesh: picks never heard from here, and until when they are not picked again. */
	readonly #unreachable = new Map<string, number>();
	/** Endpoints whose links belong to the node (static peers): never closed by the plan. */
	readonly #pinned = new Set<string>();
	readonly #refused = new Map<MemberRefusal, number>();
	/**
	Each record as members() last listed it, frozen: every NDJSON snapshot lists every member, and
	most seconds none of them changed (bench/optimizations.md, "Membership's cost to a node").
	*/
	readonly #listed = new WeakMap<MemberRecord, Readonly<KnownMember>>();
	#dialCount = 0;

	constructor(options: MemberTableOptions) {
		// `??`, not a spread: an option passed as undefined takes its default.
		this.#options = {
			selfId: options.selfId,
			selfEndpoint: options.selfEndpoint,
			maxMembers: options.maxMembers,
			ttlMs: options.ttlMs,
			reconnectTimeoutMs: options.reconnectTimeoutMs,
			suspectAfterMs: options.suspectAfterMs ?? options.ttlMs / 2,
			backoffStartMs: options.backoffStartMs ?? 1000,
			backoffMaxMs: options.backoffMaxMs ?? 60_000,
			probeMs: options.probeMs ?? 1500,
			endpointAllowed: options.endpointAllowed ?? (() => true),
			wallClockOffsetMs: options.wallClockOffsetMs ?? 0,
			settledPlans: options.settledPlans ?? true,
		};
		this.#fanout = options.fanout === undefined ? undefined : new FanoutPicker({...options.fanout, random: options.random ?? Math.random});
	}

	/** Members besides this node, any state. */
	get size(): number {
		return this.#members.size;
	}

	/** Bumped by every change the dial plan reads: membership quickens gossip when it moves. */
	get version(): number {
		return this.#version;
	}

	/** Subscriptions the plan has opened so far (each a dial of one endpoint). */
	get dialCount(): number {
		return this.#dialCount;
	}

	/** Refusals by reason (a copy). */
	refused(): Partial<Record<MemberRefusal, number>> {
		return Object.fromEntries(this.#refused);
	}

	get(id: string): MemberRecord | undefined {
		return this.#members.get(id);
	}

	/** Every member besides this node, as the `members` op lists them; given `nowMs`, each says whether it is coupled. */
	members(nowMs?: number): Array<Readonly<KnownMember>> {
		const members: Array<Readonly<KnownMember>> = [];
		for (const record of this.#members.values()) {
			const coupled = nowMs === undefined ? undefined : this.#coupled(record, nowMs);
			let listed = this.#listed.get(record);
			if (listed === undefined || !listsAsIs(listed, record, coupled)) {
				listed = toMember(record, coupled);
				this.#listed.set(record, listed);
			}

			members.push(listed);
		}

		return members;
	}

	/** How many members are coupled now: heard within their TTL on a link we hold (picked, or static). */
	coupledCount(nowMs: number): number {
		let count = 0;
		for (const record of this.#members.values()) {
			count += this.#coupled(record, nowMs) ? 1 : 0;
		}

		return count;
	}

	records(): Iterable<MemberRecord> {
		return this.#members.values();
	}

	/**
	Forget a member now, as if its reconnect timeout had passed: it came back as an observer
	(`--observe`) at a newer incarnation, and an observer's endpoint is never dialled. Not while we
	hear it (our own ears outrank a request: a listed key could otherwise cut any member out) nor a
	static one; undefined then.
	*/
	forget(id: string, nowMs: number): MemberEvent[] | undefined {
		const record = this.#members.get(id);
		if (record === undefined || record.static || (record.heardAtMs !== undefined && nowMs - record.heardAtMs < this.#options.ttlMs)) {
			return undefined;
		}

		this.#members.delete(id);
		this.#version++;
		this.#tombstones.set(id, {incarnation: record.incarnation, atMs: nowMs});
		return [this.#event('member-forgotten', record, 'came back as an observer')];
	}

	/** A static `--peer` endpoint: its link is the node's, never closed here. */
	pin(endpoint: string): void {
		this.#pinned.add(endpoint);
		this.#version++;
	}

	isPinned(endpoint: string): boolean {
		return this.#pinned.has(endpoint);
	}

	/** The data plane delivered a message from `heard.id`. */
	heard(heard: Heard, nowMs: number): MemberEvent[] {
		if (heard.id === this.#options.selfId) {
			return [];
		}

		const atMs = heard.atMs ?? nowMs;
		const record = this.#members.get(heard.id);
		// Heard every second with the same endpoints: what was judged usable once is not parsed again.
		const control = record !== undefined && heard.control === record.control && heard.endpoint === record.endpoint ? record.control : usableControl(heard.control, heard.endpoint);
		if (record !== undefined) {
			if (heard.incarnation < record.incarnation) {
				this.#refuse('stale');
				return [];
			}

			if (heard.incarnation === record.incarnation && record.state === 'dead' && atMs <= (record.deadAtMs ?? nowMs)) {
				// What we heard is older than its death: no news.
				return [];
			}

			const events: MemberEvent[] = [];
			if (heard.incarnation > record.incarnation || record.state === 'dead') {
				const restarted = heard.incarnation > record.incarnation;
				this.#renew(record, heard.endpoint, heard.incarnation, nowMs);
				events.push(this.#event('member-joined', record, restarted ? 'restarted' : 'alive again'));
			} else if (record.state !== 'alive') {
				this.#setState(record, 'alive', nowMs);
			}

			// Heard again within its TTL changes nothing the plan reads (#settled bounds the TTL); heard first,
			// or again after it, makes a member live.
			if (record.heardAtMs === undefined || nowMs - record.heardAtMs >= this.#options.ttlMs) {
				this.#version++;
			}

			record.heardAtMs = Math.max(record.heardAtMs ?? atMs, atMs);
			if (control !== undefined) {
				this.#setControl(record, control);
			}

			this.#dialFor(record.endpoint).step = 0;
			return events;
		}

		const refusal = this.#admissible(heard.id, heard.endpoint, heard.incarnation, nowMs);
		if (refusal !== undefined) {
			this.#refuse(refusal);
			return [];
		}

		const added = this.#add({id: heard.id, endpoint: heard.endpoint, control, incarnation: heard.incarnation, state: 'alive'}, nowMs);
		added.heardAtMs = atMs;
		added.static = this.#pinned.has(heard.endpoint);
		return [this.#event('member-joined', added, added.static ? 'static' : 'data')];
	}

	/** A `join` request: the member says it exists. It counts as the member speaking. */
	announce(announcement: unknown, nowMs: number): {result: JoinResult; events: MemberEvent[]} {
		const fields = announcement as Partial<Member> | undefined;
		if (
			typeof fields !== 'object'
			|| fields === null
			|| typeof fields.id !== 'string'
			|| !isPrintableId(fields.id)
			|| !isIncarnation(fields.incarnation)
			|| endpointRefusal(fields.endpoint) !== undefined
			|| (fields.control !== undefined && endpointRefusal(fields.control) !== undefined)
		) {
			this.#refuse('bad-member');
			return {result: {ok: false, error: 'bad-request', message: 'join needs id, endpoint (tcp://host:port), incarnation and optionally control'}, events: []};
		}

		if (fields.id === this.#options.selfId) {
			return {result: {ok: true}, events: []};
		}

		const record = this.#members.get(fields.id);
		if (record !== undefined) {
			if (fields.incarnation < record.incarnation) {
				this.#refuse('stale');
				return {result: {ok: true}, events: []};
			}

			const events: MemberEvent[] = [];
			if (fields.incarnation > record.incarnation || record.state === 'dead') {
				const restarted = fields.incarnation > record.incarnation;
				this.#renew(record, fields.endpoint!, fields.incarnation, nowMs);
				events.push(this.#event('member-joined', record, restarted ? 'restarted (join)' : 'join'));
			}

			const control = usableControl(fields.control, fields.endpoint!);
			if (control !== undefined) {
				this.#setControl(record, control);
			}

			return {result: {ok: true}, events};
		}

		const refusal = this.#admissible(fields.id, fields.endpoint!, fields.incarnation, nowMs);
		if (refusal !== undefined) {
			this.#refuse(refusal);
			if (refusal === 'too-many-members') {
				return {result: {ok: false, error: 'too-many-members', message: `this node knows ${this.#options.maxMembers} members, its bound (--max-peers)`}, events: []};
			}

			return {result: {ok: false, error: 'bad-request', message: `join refused: ${refusal}`}, events: []};
		}

		const added = this.#add({id: fields.id, endpoint: fields.endpoint!, control: usableControl(fields.control, fields.endpoint!), incarnation: fields.incarnation, state: 'alive'}, nowMs);
		return {result: {ok: true}, events: [this.#event('member-joined', added, 'join')]};
	}

	/**
	Merge another node's member list (gossip). Entries are untrusted: each is checked, and at most
	`maxMembers` plus a margin are looked at, the rest counted as `too-many-members` unread.
	*/
	merge(list: unknown, nowMs: number): MemberEvent[] {
		if (!Array.isArray(list)) {
			this.#refuse('bad-member');
			return [];
		}

		const events: MemberEvent[] = [];
		// A true list names at most maxMembers others, us and a few the sender has not yet forgotten.
		const readable = Math.min(list.length, this.#options.maxMembers * 2 + 16);
		if (list.length > readable) {
			this.#refuse('too-many-members', list.length - readable);
		}

		for (let index = 0; index < readable; index++) {
			const event = this.#mergeOne(list[index], nowMs);
			if (event !== undefined) {
				events.push(event);
			}
		}

		return events;
	}

	/** Age members: alive → suspect → dead by silence; dead past the reconnect timeout → forgotten. */
	sweep(nowMs: number): MemberEvent[] {
		const events: MemberEvent[] = [];
		const {ttlMs, suspectAfterMs, reconnectTimeoutMs} = this.#options;
		for (const record of this.#members.values()) {
			if (record.state === 'dead') {
				if (!record.static && nowMs - (record.deadAtMs ?? nowMs) >= reconnectTimeoutMs) {
					this.#members.delete(record.id);
					this.#version++;
					this.#tombstones.set(record.id, {incarnation: record.incarnation, atMs: nowMs});
					events.push(this.#event('member-forgotten', record, `dead for ${Math.round((nowMs - record.deadAtMs!) / 1000)} s`));
				}

				continue;
			}

			// Sparse mesh: we hear only our picks (and static peers); the others' state is gossip's word.
			const sparse = this.#fanout?.sparse === true && !record.static;
			const pickedAtMs = sparse ? this.#fanout?.pickedAtMs(record.id) : undefined;
			if (sparse && pickedAtMs === undefined) {
				continue;
			}

			if (pickedAtMs !== undefined && (record.heardAtMs ?? Number.NEGATIVE_INFINITY) < pickedAtMs) {
				// A pick not heard since it was picked is no proof of death (a slow first connection, a path
				// from here only): it is dropped and not picked again for a while, and gossip keeps its say.
				// Declared dead, it would be spread as dead to members that cannot check it.
				if (nowMs - pickedAtMs >= ttlMs) {
					this.#unreachable.set(record.id, nowMs + UNREACHABLE_PICK_MS);
				}

				continue;
			}

			// A pick's silence counts from when it was heard since it was picked.
			const silentMs = nowMs - (record.heardAtMs ?? record.learnedAtMs);
			if (silentMs >= ttlMs) {
				this.#setState(record, 'dead', nowMs);
				events.push(this.#event('member-dead', record, record.heardAtMs === undefined ? `never heard in ${Math.round(silentMs)} ms` : `silent ${Math.round(silentMs)} ms`));
			} else if (record.heardAtMs !== undefined) {
				// Only our own ears turn a member suspect; one never heard keeps gossip's word until its TTL.
				this.#setState(record, silentMs >= suspectAfterMs ? 'suspect' : 'alive', nowMs);
			}
		}

		for (const [id, tombstone] of this.#tombstones) {
			if (nowMs - tombstone.atMs >= reconnectTimeoutMs) {
				this.#tombstones.delete(id);
			}
		}

		// Bounded like the members: the oldest tombstones go first (a Map keeps insertion order).
		for (const id of this.#tombstones.keys()) {
			if (this.#tombstones.size <= this.#options.maxMembers) {
				break;
			}

			this.#tombstones.delete(id);
		}

		return events;
	}

	/**
	Which endpoints to subscribe to and which to drop now. An endpoint with a member heard within its
	TTL stays subscribed; any other (never heard, or dead) is probed: subscribed for `probeMs` (the
	first probe of a new member for its TTL), then dropped until the next backoff step. So each
	endpoint is dialled at most once per step, whatever gossip says.

	`silenced`: members whose silence is this node's own doing (an inbound blackhole on their link,
	as a partition sets). They may be dead to us, but their link is fine: a live link is kept open,
	without backoff, so that they are heard the moment the blackhole lifts.
	*/
	plan(nowMs: number, silenced?: Silenced): DialPlan {
		const settled = this.#settled;
		if (settled?.version === this.#version && nowMs < settled.untilMs && silenced === undefined) {
			return {subscribe: [], unsubscribe: []};
		}

		const plan: DialPlan = {subscribe: [], unsubscribe: []};
		const fanout = this.#fanout?.update(this.#candidates(nowMs), nowMs);
		const picks = fanout?.mode === 'sparse' ? fanout.picks : undefined;
		const wanted = new Map<string, 'live' | 'hold' | 'probe'>();
		// The first instant a plan could change something while the table does not.
		let untilMs = Number.POSITIVE_INFINITY;
		for (const record of this.#members.values()) {
			if (record.endpoint === this.#options.selfEndpoint) {
				continue;
			}

			const picked = picks?.has(record.id) === true;
			if (picks !== undefined && !picked && record.state !== 'dead' && !record.static) {
				// Known, not picked: no link (a dead member is still probed with backoff, as in a full mesh).
				continue;
			}

			// A pick is held open until it is heard, or until its silence makes it dead (sweep) and it is replaced.
			const heardWithinTtl = record.state !== 'dead' && record.heardAtMs !== undefined && nowMs - record.heardAtMs < this.#options.ttlMs;
			if (heardWithinTtl) {
				untilMs = Math.min(untilMs, record.heardAtMs! + this.#options.ttlMs);
			}

			const live = heardWithinTtl || picked;
			const held = !live && silenced !== undefined && (silenced === 'all' || silenced.has(record.id));
			const want = live ? 'live' : (held ? 'hold' : 'probe');
			if (want !== 'probe' || wanted.get(record.endpoint) === undefined) {
				wanted.set(record.endpoint, want);
			}
		}

		// Keys, not [key, value] entries: in code that runs once a second V8 does not optimise, and there
		// each destructured entry allocates an iterator and its results (bench/optimizations.md).
		for (const endpoint of this.#dials.keys()) {
			if (!wanted.has(endpoint)) {
				if (this.#dials.get(endpoint)!.subscribed && !this.#pinned.has(endpoint)) {
					plan.unsubscribe.push(endpoint);
				}

				this.#dials.delete(endpoint);
			}
		}

		for (const endpoint of wanted.keys()) {
			if (this.#pinned.has(endpoint)) {
				continue;
			}

			const want = wanted.get(endpoint)!;
			const dial = this.#dialFor(endpoint);
			if (want === 'live') {
				dial.probing = false;
				dial.step = 0;
				if (!dial.subscribed) {
					this.#open(dial, endpoint, nowMs, Number.POSITIVE_INFINITY, plan);
				}

				continue;
			}

			if (want === 'hold' && dial.subscribed && !dial.probing) {
				// Silent because we ignore it: the link stays, and the backoff does not grow.
				dial.step = 0;
				continue;
			}

			if (dial.subscribed) {
				// A live link whose member fell silent is dropped at once; a probe when its window is over.
				if (!dial.probing || nowMs - dial.openedAtMs >= dial.windowMs) {
					dial.subscribed = false;
					dial.probing = false;
					dial.nextDialAtMs = nowMs + this.#backoffMs(dial.step);
					dial.step++;
					plan.unsubscribe.push(endpoint);
				}
			} else if (nowMs >= dial.nextDialAtMs) {
				// The first dial of an endpoint gets a whole TTL to be heard, whatever gossip says of it (a member
				// another node calls dead may be alive from here); later probes the short window.
				this.#open(dial, endpoint, nowMs, dial.step === 0 ? this.#options.ttlMs : this.#options.probeMs, plan);
				dial.probing = true;
			}

			untilMs = Math.min(untilMs, dial.subscribed ? dial.openedAtMs + dial.windowMs : dial.nextDialAtMs);
		}

		// A sparse mesh's picks change with time too (fanout.ts), and a blackhole's set with every call.
		this.#settled = this.#options.settledPlans && picks === undefined && silenced === undefined ? {version: this.#version, untilMs} : undefined;
		return plan;
	}

	/** Members the fan-out may pick: alive or suspect, not static (their links are the node's), not us. */
	#candidates(nowMs: number): string[] {
		for (const id of this.#unreachable.keys()) {
			if (nowMs >= this.#unreachable.get(id)! || !this.#members.has(id)) {
				this.#unreachable.delete(id);
			}
		}

		const ids: string[] = [];
		for (const record of this.#members.values()) {
			if (record.state !== 'dead' && !record.static && record.endpoint !== this.#options.selfEndpoint && !this.#unreachable.has(record.id)) {
				ids.push(record.id);
			}
		}

		return ids;
	}

	/** In our coupling sum: heard within its TTL over a link we hold (every member in a full mesh; a pick or a static peer in a sparse one). */
	#coupled(record: MemberRecord, nowMs: number): boolean {
		return (
			record.state !== 'dead'
			&& record.heardAtMs !== undefined
			&& nowMs - record.heardAtMs < this.#options.ttlMs
			&& (record.static || this.#fanout === undefined || this.#fanout.isPicked(record.id))
		);
	}

	#open(dial: Dial, endpoint: string, nowMs: number, windowMs: number, plan: DialPlan): void {
		dial.subscribed = true;
		dial.openedAtMs = nowMs;
		dial.windowMs = windowMs;
		this.#dialCount++;
		plan.subscribe.push(endpoint);
	}

	#backoffMs(step: number): number {
		return Math.min(this.#options.backoffMaxMs, this.#options.backoffStartMs * 2 ** Math.min(step, 30));
	}

	#dialFor(endpoint: string): Dial {
		let dial = this.#dials.get(endpoint);
		if (dial === undefined) {
			dial = {subscribed: false, probing: false, openedAtMs: 0, windowMs: 0, step: 0, nextDialAtMs: 0};
			this.#dials.set(endpoint, dial);
		}

		return dial;
	}

	#mergeOne(entry: unknown, nowMs: number): MemberEvent | undefined {
		const fields = entry as Partial<Member> | undefined;
		if (
			typeof fields !== 'object'
			|| fields === null
			|| typeof fields.id !== 'string'
			|| !isPrintableId(fields.id)
			|| !isIncarnation(fields.incarnation)
			|| typeof fields.state !== 'string'
			|| !STATES.has(fields.state)
		) {
			this.#refuse('bad-member');
			return undefined;
		}

		// Observers are listed by the nodes they joined and never spread by gossip (observers.ts).
		if (fields.id === this.#options.selfId || fields.observer === true) {
			return undefined;
		}

		const {state} = fields as {state: MemberState};
		const record = this.#members.get(fields.id);
		// What we hold already (the same incarnation, no later state, its control endpoint known): most of
		// every pull, every two seconds. Nothing in it can change the record, so it is not parsed.
		if (record?.incarnation === fields.incarnation && STATE_RANK[state] <= STATE_RANK[record.state] && record.control !== undefined) {
			return undefined;
		}

		// A control endpoint that is not a unicast tcp one is dropped: the member stays, data only.
		const control = typeof fields.endpoint === 'string' ? usableControl(fields.control, fields.endpoint) : undefined;
		if (record === undefined) {
			const refusal = this.#admissible(fields.id, fields.endpoint, fields.incarnation, nowMs);
			if (refusal !== undefined) {
				this.#refuse(refusal);
				return undefined;
			}

			const added = this.#add({id: fields.id, endpoint: fields.endpoint!, control, incarnation: fields.incarnation, state}, nowMs);
			return state === 'dead' ? undefined : this.#event('member-joined', added, 'gossip');
		}

		const newer = fields.incarnation > record.incarnation;
		const later = fields.incarnation === record.incarnation && STATE_RANK[state] > STATE_RANK[record.state];
		if (!newer && !later) {
			if (record.control === undefined && control !== undefined && fields.incarnation === record.incarnation) {
				this.#setControl(record, control);
			}

			return undefined;
		}

		if (newer) {
			if (endpointRefusal(fields.endpoint) !== undefined || !this.#options.endpointAllowed(fields.endpoint!)) {
				this.#refuse(endpointRefusal(fields.endpoint) ?? 'not-allowed');
				return undefined;
			}

			this.#renew(record, fields.endpoint!, fields.incarnation, nowMs);
			if (control === undefined) {
				record.control = undefined;
				record.legacy = true;
			} else {
				this.#setControl(record, control);
			}

			if (state !== 'alive') {
				this.#setState(record, state, nowMs);
			}

			return state === 'dead' ? this.#event('member-dead', record, 'gossip') : this.#event('member-joined', record, 'restarted (gossip)');
		}

		// Same incarnation, a later state: our own ears refute it while we hear the member.
		if (record.heardAtMs !== undefined && nowMs - record.heardAtMs < this.#options.suspectAfterMs) {
			return undefined;
		}

		this.#setState(record, state, nowMs);
		return state === 'dead' ? this.#event('member-dead', record, 'gossip') : undefined;
	}

	#admissible(id: string, endpoint: unknown, incarnation: number, nowMs: number): MemberRefusal | undefined {
		const endpointProblem = endpointRefusal(endpoint);
		if (endpointProblem !== undefined) {
			return endpointProblem;
		}

		if (!this.#options.endpointAllowed(endpoint as string)) {
			return 'not-allowed';
		}

		const tombstone = this.#tombstones.get(id);
		if (tombstone !== undefined) {
			if (incarnation <= tombstone.incarnation) {
				return 'forgotten';
			}

			this.#tombstones.delete(id);
		}

		// A dead member makes room for a live one rather than keep it out.
		if (this.#members.size >= this.#options.maxMembers && !this.#evictOneDead(nowMs)) {
			return 'too-many-members';
		}

		return undefined;
	}

	/** Gossip may bring a forgotten id back only with a newer incarnation than the tombstone; gossip never does (see merge). */
	#evictOneDead(nowMs: number): boolean {
		let oldest: MemberRecord | undefined;
		for (const record of this.#members.values()) {
			if (record.state === 'dead' && !record.static && (oldest === undefined || (record.deadAtMs ?? 0) < (oldest.deadAtMs ?? 0))) {
				oldest = record;
			}
		}

		if (oldest === undefined) {
			return false;
		}

		this.#members.delete(oldest.id);
		this.#version++;
		this.#tombstones.set(oldest.id, {incarnation: oldest.incarnation, atMs: nowMs});
		return true;
	}

	#add(member: Pick<Member, 'id' | 'endpoint' | 'control' | 'incarnation' | 'state'>, nowMs: number): MemberRecord {
		const record: MemberRecord = {
			id: member.id,
			endpoint: member.endpoint,
			...(member.control === undefined ? {} : {control: member.control}),
			incarnation: member.incarnation,
			state: member.state,
			legacy: member.control === undefined,
			changedAtMs: Math.round(this.#options.wallClockOffsetMs + nowMs),
			heardAtMs: undefined,
			learnedAtMs: nowMs,
			deadAtMs: member.state === 'dead' ? nowMs : undefined,
			static: this.#pinned.has(member.endpoint),
		};
		this.#members.set(member.id, record);
		this.#version++;
		return record;
	}

	/** A new incarnation, or a dead member speaking again: alive, its TTL counted from now. */
	#renew(record: MemberRecord, endpoint: string, incarnation: number, nowMs: number): void {
		if (incarnation > record.incarnation) {
			record.heardAtMs = undefined;
		}

		record.incarnation = incarnation;
		if (endpointRefusal(endpoint) === undefined && endpoint !== record.endpoint) {
			record.endpoint = endpoint;
			record.static = this.#pinned.has(endpoint);
		}

		record.learnedAtMs = nowMs;
		record.deadAtMs = undefined;
		this.#version++;
		this.#setState(record, 'alive', nowMs, true);
	}

	#setState(record: MemberRecord, state: MemberState, nowMs: number, force = false): void {
		if (record.state === state && !force) {
			return;
		}

		record.state = state;
		this.#version++;
		record.changedAtMs = Math.round(this.#options.wallClockOffsetMs + nowMs);
		record.deadAtMs = state === 'dead' ? nowMs : undefined;
	}

	#event(kind: MemberEventKind, record: MemberRecord, reason: string): MemberEvent {
		return {kind, peer: record.id, endpoint: record.endpoint, incarnation: record.incarnation, reason};
	}

	/**
	A member's control endpoint, learned or changed: a version of its own, since membership's joins
	and pulls go there (a member's first messages may come before the ones that carry it).
	*/
	#setControl(record: MemberRecord, control: string): void {
		if (record.control !== control) {
			record.control = control;
			this.#version++;
		}

		record.legacy = false;
	}

	#refuse(reason: MemberRefusal, count = 1): void {
		this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + count);
	}
}

function isIncarnation(value: unknown): value is number {
	return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Built field by field, not spread: every NDJSON snapshot and every pull lists every member. Frozen: members() hands it out again. */
function toMember(record: MemberRecord, coupled?: boolean): Readonly<KnownMember> {
	const {id, endpoint, control, incarnation, state, legacy, changedAtMs} = record;
	const member: KnownMember = control === undefined
		? {id, endpoint, incarnation, state, legacy, changedAtMs}
		: {id, endpoint, control, incarnation, state, legacy, changedAtMs};
	if (coupled !== undefined) {
		member.coupled = coupled;
	}

	return Object.freeze(member);
}

/** Whether `listed` still says what the record says (every field toMember copies). */
function listsAsIs(listed: Readonly<KnownMember>, record: MemberRecord, coupled: boolean | undefined): boolean {
	return listed.state === record.state
		&& listed.incarnation === record.incarnation
		&& listed.changedAtMs === record.changedAtMs
		&& listed.control === record.control
		&& listed.endpoint === record.endpoint
		&& listed.legacy === record.legacy
		&& listed.coupled === coupled;
}
