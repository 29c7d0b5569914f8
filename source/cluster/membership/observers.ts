/**
The observers that joined this node (`chorus-tui --observe`): listed in `members`, never dialled,
so never in a coupling sum.

An observer publishes nothing, so the data plane cannot say it is alive and the member table's
heartbeat rules (alive → suspect → dead by silence) do not apply. Instead its `join` is its
heartbeat: it sends one to each member every OBSERVER_REFRESH_MS, and an observer whose last join
is older than the TTL (OBSERVER_TTL_MS) is forgotten with a `member-forgotten` event. Observers are
never merged from gossip either: each node lists only those that joined it, so nothing but the
observer itself keeps its entry alive.

Bounded apart from the members (`maxObservers`), so that observers cannot crowd members out of
--max-peers, nor members observers. A known observer is always refreshed; a new one past the bound
is refused and counted.

Pure: time is an argument (monotonic milliseconds).
*/

import {isPrintableId} from '../../mesh/model/wire.js';
import {OBSERVER_TTL_MS, type JoinAnnouncement, type Member} from '../protocol.js';
import {endpointRefusal, usableControl} from './endpoints.js';
import type {JoinResult, MemberEvent} from './member-table.js';

export type ObserverRefusal = 'bad-member' | 'stale' | 'too-many-observers';

export type ObserverTableOptions = {
	selfId: string;
	/** At most this many observers at once. @default DEFAULT_MAX_OBSERVERS */
	maxObservers?: number;
	/** An observer whose last join is this old is forgotten. @default OBSERVER_TTL_MS */
	ttlMs?: number;
	/** Added to `nowMs` to give `changedAtMs` (wall clock). @default 0 */
	wallClockOffsetMs?: number;
};

type ObserverRecord = {
	id: string;
	endpoint: string;
	control: string | undefined;
	incarnation: number;
	/** Its last join (monotonic). */
	lastJoinAtMs: number;
	/** Wall-clock milliseconds of its first join at this incarnation. */
	changedAtMs: number;
};

/** Operators watching one mesh at once: a few consoles, dashboards and scripts, not hundreds. */
export const DEFAULT_MAX_OBSERVERS = 64;

export class ObserverTable {
	readonly #selfId: string;
	readonly #maxObservers: number;
	readonly #ttlMs: number;
	readonly #wallClockOffsetMs: number;
	readonly #observers = new Map<string, ObserverRecord>();
	readonly #refused = new Map<ObserverRefusal, number>();

	constructor(options: ObserverTableOptions) {
		this.#selfId = options.selfId;
		this.#maxObservers = options.maxObservers ?? DEFAULT_MAX_OBSERVERS;
		this.#ttlMs = options.ttlMs ?? OBSERVER_TTL_MS;
		this.#wallClockOffsetMs = options.wallClockOffsetMs ?? 0;
	}

	get size(): number {
		return this.#observers.size;
	}

	/** The incarnation of the observer with this id, if it is listed. */
	incarnationOf(id: string): number | undefined {
		return this.#observers.get(id)?.incarnation;
	}

	/** Refusals by reason (a copy). */
	refused(): Partial<Record<ObserverRefusal, number>> {
		return Object.fromEntries(this.#refused);
	}

	/** An observer's `join` (first or refresh). Untrusted: every field is checked. */
	announce(announcement: JoinAnnouncement, nowMs: number): {result: JoinResult; events: MemberEvent[]} {
		const {id, endpoint, control, incarnation} = announcement as Partial<JoinAnnouncement>;
		if (
			typeof id !== 'string'
			|| !isPrintableId(id)
			|| typeof incarnation !== 'number'
			|| !Number.isSafeInteger(incarnation)
			|| incarnation < 0
			|| endpointRefusal(endpoint) !== undefined
		) {
			this.#refuse('bad-member');
			return {result: {ok: false, error: 'bad-request', message: 'join needs id, endpoint (tcp://host:port), incarnation and optionally control'}, events: []};
		}

		if (id === this.#selfId) {
			return {result: {ok: true}, events: []};
		}

		const known = this.#observers.get(id);
		if (known !== undefined) {
			if (incarnation < known.incarnation) {
				this.#refuse('stale');
				return {result: {ok: true}, events: []};
			}

			const restarted = incarnation > known.incarnation;
			Object.assign(known, {
				endpoint: endpoint!,
				control: usableControl(control, endpoint!),
				incarnation,
				lastJoinAtMs: nowMs,
				...(restarted ? {changedAtMs: this.#wallMs(nowMs)} : {}),
			});
			return {result: {ok: true}, events: restarted ? [this.#event('member-joined', known, 'observer restarted (join)')] : []};
		}

		if (this.#observers.size >= this.#maxObservers) {
			this.#refuse('too-many-observers');
			return {result: {ok: false, error: 'too-many-members', message: `this node lists ${this.#maxObservers} observers, its bound`}, events: []};
		}

		const record: ObserverRecord = {
			id,
			endpoint: endpoint!,
			control: usableControl(control, endpoint!),
			incarnation,
			lastJoinAtMs: nowMs,
			changedAtMs: this.#wallMs(nowMs),
		};
		this.#observers.set(id, record);
		return {result: {ok: true}, events: [this.#event('member-joined', record, 'observer (join)')]};
	}

	/** Forget observers whose last join is older than the TTL. */
	sweep(nowMs: number): MemberEvent[] {
		const events: MemberEvent[] = [];
		for (const record of this.#observers.values()) {
			const silentMs = nowMs - record.lastJoinAtMs;
			if (silentMs >= this.#ttlMs) {
				this.#observers.delete(record.id);
				events.push(this.#event('member-forgotten', record, `observer: no join for ${Math.round(silentMs / 1000)} s`));
			}
		}

		return events;
	}

	/** Remove an observer now (it came back as a member, at a newer incarnation). */
	remove(id: string): void {
		this.#observers.delete(id);
	}

	/** Every observer as the `members` op lists it: alive while it keeps joining, flagged `observer`. */
	members(): Member[] {
		return [...this.#observers.values()].map((record) => ({
			id: record.id,
			endpoint: record.endpoint,
			...(record.control === undefined ? {} : {control: record.control}),
			incarnation: record.incarnation,
			state: 'alive',
			legacy: false,
			changedAtMs: record.changedAtMs,
			observer: true,
		}));
	}

	#wallMs(nowMs: number): number {
		return Math.round(this.#wallClockOffsetMs + nowMs);
	}

	#event(kind: MemberEvent['kind'], record: ObserverRecord, reason: string): MemberEvent {
		return {kind, peer: record.id, endpoint: record.endpoint, incarnation: record.incarnation, reason};
	}

	#refuse(reason: ObserverRefusal): void {
		this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
	}
}
