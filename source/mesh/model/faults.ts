/**
The faults an operator injects into a node's traffic, changeable while the node runs.

Inbound faults apply per peer and to all peers at once; outbound faults apply to what this node
publishes. Pure apart from the messages it holds: the caller passes monotonic time in milliseconds,
and the plan draws from the uniform generator it was given, so a seeded run makes the same
decisions every time.

Delayed messages are held and released in order of release time, not of arrival, so jitter
reorders them the way a real network would.
*/

import {ALL_PEERS, NO_INBOUND_FAULT, NO_OUTBOUND_FAULT, type FaultsInForce, type FaultTarget, type InboundFault, type OutboundFault} from './fault-types.js';
import type {Uniform} from './random.js';
import {isPrintableId} from './wire.js';

/** The largest delay or jitter one fault may add; more is a typo, and would pile up held messages. */
export const MAX_FAULT_DELAY_MS = 60_000;
/** Messages held per direction before further delayed ones are dropped; bounds memory. */
export const MAX_HELD_MESSAGES = 100_000;

/** A bad fault value or target, with a one-line message naming it. */
export class FaultError extends RangeError {
	constructor(message: string) {
		super(message);
		this.name = 'FaultError';
	}
}

export type DropReason = 'drop' | 'blackhole' | 'overflow';

/** What became of one inbound message. */
export type InboundDecision =
	/** No copy goes through. */
	| {dropped: true; reason: DropReason}
	/** `now` copies go through at once, `held` copies were queued; more than one copy in all is a duplicate. */
	| {dropped: false; now: number; held: number};

/** What became of one outbound message. */
export type OutboundDecision = 'send' | 'held' | 'dropped' | 'overflow';

/** A fault plan entry that changed, as `setInbound`, `setOutbound` and `clear` report it. */
export type FaultChange =
	| {direction: 'inbound'; target: FaultTarget; fault: InboundFault | undefined}
	| {direction: 'outbound'; fault: OutboundFault | undefined};

const INBOUND_KEYS = Object.keys(NO_INBOUND_FAULT) as Array<keyof InboundFault>;
const OUTBOUND_KEYS = Object.keys(NO_OUTBOUND_FAULT) as Array<keyof OutboundFault>;

/** Messages waiting for their release time: a binary min-heap on (release time, arrival order). */
export class ReleaseQueue<T> {
	readonly #heap: Array<{atMs: number; seq: number; item: T}> = [];
	#seq = 0;

	get size(): number {
		return this.#heap.length;
	}

	/** The earliest release time, or undefined when nothing is held. */
	get nextReleaseMs(): number | undefined {
		return this.#heap[0]?.atMs;
	}

	push(item: T, atMs: number): void {
		const heap = this.#heap;
		heap.push({atMs, seq: this.#seq++, item});
		let index = heap.length - 1;
		while (index > 0) {
			const parent = (index - 1) >> 1;
			if (!before(heap[index]!, heap[parent]!)) {
				break;
			}

			[heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
			index = parent;
		}
	}

	/** Remove and return every item due at `nowMs`, earliest release first (ties in arrival order). */
	releaseDue(nowMs: number): T[] {
		const due: T[] = [];
		while (this.#heap.length > 0 && this.#heap[0]!.atMs <= nowMs) {
			due.push(this.#pop());
		}

		return due;
	}

	clear(): void {
		this.#heap.length = 0;
	}

	#pop(): T {
		const heap = this.#heap;
		const top = heap[0]!;
		const last = heap.pop()!;
		if (heap.length > 0) {
			heap[0] = last;
			let index = 0;
			for (;;) {
				const left = 2 * index + 1;
				const right = left + 1;
				let smallest = index;
				if (left < heap.length && before(heap[left]!, heap[smallest]!)) {
					smallest = left;
				}

				if (right < heap.length && before(heap[right]!, heap[smallest]!)) {
					smallest = right;
				}

				if (smallest === index) {
					break;
				}

				[heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
				index = smallest;
			}
		}

		return top.item;
	}
}

function before(a: {atMs: number; seq: number}, b: {atMs: number; seq: number}): boolean {
	return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

/** Two independent chances: the event happens unless it escapes both. Exact when one is zero. */
function eitherChance(a: number, b: number): number {
	if (a === 0 || b === 0) {
		return a + b;
	}

	return 1 - (1 - a) * (1 - b);
}

/**
The fault in force for a peer given the per-peer entry and the all-peers entry: drop and duplicate
chances combine as independent events, delays and jitters add, and a blackhole on either wins.
*/
export function combineInbound(a: InboundFault | undefined, b: InboundFault | undefined): InboundFault | undefined {
	if (a === undefined) {
		return b;
	}

	if (b === undefined) {
		return a;
	}

	return {
		drop: eitherChance(a.drop, b.drop),
		delayMs: a.delayMs + b.delayMs,
		jitterMs: a.jitterMs + b.jitterMs,
		duplicate: eitherChance(a.duplicate, b.duplicate),
		blackhole: a.blackhole || b.blackhole,
	};
}

export function isNoInboundFault(fault: InboundFault): boolean {
	return fault.drop === 0 && fault.delayMs === 0 && fault.jitterMs === 0 && fault.duplicate === 0 && !fault.blackhole;
}

export function isNoOutboundFault(fault: OutboundFault): boolean {
	return fault.drop === 0 && fault.delayMs === 0 && fault.jitterMs === 0;
}

function checkProbability(name: string, value: unknown): number {
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
		throw new FaultError(`${name} must be a probability from 0 to 1, not ${String(value)}`);
	}

	return value;
}

function checkDelay(name: string, value: unknown): number {
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_FAULT_DELAY_MS) {
		throw new FaultError(`${name} must be a number of milliseconds from 0 to ${MAX_FAULT_DELAY_MS}, not ${String(value)}`);
	}

	return value;
}

function checkKeys(patch: object, allowed: readonly string[], direction: string): void {
	if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
		throw new FaultError(`${direction} fault must be an object of ${allowed.join(', ')}`);
	}

	for (const key of Object.keys(patch)) {
		if (!allowed.includes(key)) {
			throw new FaultError(`unknown ${direction} fault '${key}'; use ${allowed.join(', ')}`);
		}
	}
}

/** The fields both directions share: drop, delay, jitter. Validated; undefined leaves a field as it was. */
function patchDropAndDelay<T extends OutboundFault>(next: T, patch: Partial<OutboundFault>): T {
	if (patch.drop !== undefined) {
		next.drop = checkProbability('drop', patch.drop);
	}

	if (patch.delayMs !== undefined) {
		next.delayMs = checkDelay('delayMs', patch.delayMs);
	}

	if (patch.jitterMs !== undefined) {
		next.jitterMs = checkDelay('jitterMs', patch.jitterMs);
	}

	return next;
}

/** Apply a patch to a fault, validating every value it sets. Undefined values leave a field as it was. */
export function patchInbound(base: InboundFault, patch: Partial<InboundFault>): InboundFault {
	checkKeys(patch, INBOUND_KEYS, 'inbound');
	const next = patchDropAndDelay({...base}, patch);
	if (patch.duplicate !== undefined) {
		next.duplicate = checkProbability('duplicate', patch.duplicate);
	}

	if (patch.blackhole !== undefined) {
		if (typeof patch.blackhole !== 'boolean') {
			throw new FaultError(`blackhole must be true or false, not ${String(patch.blackhole)}`);
		}

		next.blackhole = patch.blackhole;
	}

	return next;
}

export function patchOutbound(base: OutboundFault, patch: Partial<OutboundFault>): OutboundFault {
	checkKeys(patch, OUTBOUND_KEYS, 'outbound');
	return patchDropAndDelay({...base}, patch);
}

/** A fault target: `'all'` or a peer id (1–64 printable characters). */
export function checkTarget(target: unknown): FaultTarget {
	if (typeof target !== 'string' || !isPrintableId(target)) {
		throw new FaultError(`fault target must be '${ALL_PEERS}' or a peer id of 1-64 printable characters`);
	}

	return target;
}

/**
A node's fault plan. `In` and `Out` are whatever the node holds for a delayed message (a decoded
message with its arrival time; an encoded frame).

The node asks `inboundActive` and `outboundEngaged` first, so that traffic with no fault set costs
one property read.
*/
export class FaultPlan<In, Out> {
	readonly #random: Uniform;
	readonly #peers = new Map<string, InboundFault>();
	#all: InboundFault | undefined;
	#outbound: OutboundFault | undefined;
	readonly #heldInbound = new ReleaseQueue<In>();
	readonly #heldOutbound = new ReleaseQueue<Out>();
	readonly #maxHeld: number;

	constructor(random: Uniform, options: {maxHeld?: number} = {}) {
		this.#random = random;
		this.#maxHeld = options.maxHeld ?? MAX_HELD_MESSAGES;
	}

	/** Whether any inbound fault is in force. */
	get inboundActive(): boolean {
		return this.#all !== undefined || this.#peers.size > 0;
	}

	/** Whether outbound traffic must pass through the plan: a fault is in force, or frames are held. */
	get outboundEngaged(): boolean {
		return this.#outbound !== undefined || this.#heldOutbound.size > 0;
	}

	/** Inbound messages held now. */
	get heldInbound(): number {
		return this.#heldInbound.size;
	}

	/** Outbound frames held now. */
	get heldOutbound(): number {
		return this.#heldOutbound.size;
	}

	/** Set some fields of the inbound fault on a peer or on `'all'`; a fault patched back to all-zero is removed. */
	setInbound(target: FaultTarget, patch: Partial<InboundFault>): FaultChange {
		checkTarget(target);
		const current = target === ALL_PEERS ? this.#all : this.#peers.get(target);
		const next = patchInbound(current ?? NO_INBOUND_FAULT, patch);
		const fault = isNoInboundFault(next) ? undefined : next;
		if (target === ALL_PEERS) {
			this.#all = fault;
		} else if (fault === undefined) {
			this.#peers.delete(target);
		} else {
			this.#peers.set(target, fault);
		}

		return {direction: 'inbound', target, fault: fault && {...fault}};
	}

	setOutbound(patch: Partial<OutboundFault>): FaultChange {
		const next = patchOutbound(this.#outbound ?? NO_OUTBOUND_FAULT, patch);
		this.#outbound = isNoOutboundFault(next) ? undefined : next;
		return {direction: 'outbound', fault: this.#outbound && {...this.#outbound}};
	}

	/**
	Remove every fault; returns what was in force. Held messages stay in flight and arrive when due,
	as packets already on the wire would.
	*/
	clear(): FaultChange[] {
		const cleared: FaultChange[] = [];
		if (this.#all !== undefined) {
			cleared.push({direction: 'inbound', target: ALL_PEERS, fault: undefined});
		}

		for (const target of this.#peers.keys()) {
			cleared.push({direction: 'inbound', target, fault: undefined});
		}

		if (this.#outbound !== undefined) {
			cleared.push({direction: 'outbound', fault: undefined});
		}

		this.#all = undefined;
		this.#peers.clear();
		this.#outbound = undefined;
		return cleared;
	}

	/** The faults in force, as copies. */
	inForce(): FaultsInForce {
		const inForce: FaultsInForce = {peers: {}};
		if (this.#all !== undefined) {
			inForce.all = {...this.#all};
		}

		for (const [id, fault] of this.#peers) {
			inForce.peers[id] = {...fault};
		}

		if (this.#outbound !== undefined) {
			inForce.outbound = {...this.#outbound};
		}

		return inForce;
	}

	/** The inbound fault in force for one peer: its own entry combined with the all-peers one (a copy). */
	inboundFor(peerId: string): InboundFault | undefined {
		const fault = this.#inboundFor(peerId);
		return fault && {...fault};
	}

	/**
	Decide the fate of one message from `peerId` that arrived at `nowMs`. Copies that go through at
	once are the caller's to deliver; delayed copies are held until `releaseInbound` hands them back.

	Draws, in this order and only when the fault needs them: one for drop, one for duplicate, one
	jitter per copy. So a seed and a sequence of messages fix every decision.
	*/
	inbound(peerId: string, item: In, nowMs: number): InboundDecision {
		const fault = this.#inboundFor(peerId);
		if (fault === undefined) {
			return {dropped: false, now: 1, held: 0};
		}

		if (fault.blackhole) {
			return {dropped: true, reason: 'blackhole'};
		}

		if (fault.drop > 0 && this.#random() < fault.drop) {
			return {dropped: true, reason: 'drop'};
		}

		const copies = fault.duplicate > 0 && this.#random() < fault.duplicate ? 2 : 1;
		let now = 0;
		let held = 0;
		for (let copy = 0; copy < copies; copy++) {
			const delayMs = this.#delayMs(fault);
			if (delayMs <= 0) {
				now++;
			} else if (this.#heldInbound.size < this.#maxHeld) {
				this.#heldInbound.push(item, nowMs + delayMs);
				held++;
			}
		}

		return now + held === 0 ? {dropped: true, reason: 'overflow'} : {dropped: false, now, held};
	}

	/** Held inbound messages due at `nowMs`, earliest release first. */
	releaseInbound(nowMs: number): In[] {
		return this.#heldInbound.releaseDue(nowMs);
	}

	/** Decide the fate of one frame this node publishes at `nowMs`. */
	outbound(item: Out, nowMs: number): OutboundDecision {
		const fault = this.#outbound;
		if (fault === undefined) {
			return 'send';
		}

		if (fault.drop > 0 && this.#random() < fault.drop) {
			return 'dropped';
		}

		const delayMs = this.#delayMs(fault);
		if (delayMs <= 0) {
			return 'send';
		}

		if (this.#heldOutbound.size >= this.#maxHeld) {
			return 'overflow';
		}

		this.#heldOutbound.push(item, nowMs + delayMs);
		return 'held';
	}

	/** Held outbound frames due at `nowMs`, earliest release first. */
	releaseOutbound(nowMs: number): Out[] {
		return this.#heldOutbound.releaseDue(nowMs);
	}

	/** Forget every held message (the node stopped). */
	discardHeld(): void {
		this.#heldInbound.clear();
		this.#heldOutbound.clear();
	}

	#inboundFor(peerId: string): InboundFault | undefined {
		return combineInbound(this.#peers.get(peerId), this.#all);
	}

	#delayMs(fault: {delayMs: number; jitterMs: number}): number {
		return fault.jitterMs > 0 ? fault.delayMs + this.#random() * fault.jitterMs : fault.delayMs;
	}
}
