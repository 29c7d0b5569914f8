/**
The inbound path of a node, from frames to the peer table: decode, screen (security), inbound
faults, admit, and observe the sender's Lamport time. Every step counts what it refuses.
*/

import {performance} from 'node:perf_hooks';
import type {FaultPlan} from './model/faults.js';
import type {LamportClock} from './model/lamport.js';
import type {PeerTable} from './model/peer-table.js';
import * as wire from './model/wire.js';
import type {RejectReason, WireMessage} from './model/wire.js';
import type {OnFrames} from './net/transport.js';
import type {NodeSecurity} from './security/screening.js';
import type {EventDetails, NodeEventKind} from './snapshot.js';
import type {NodeCounters} from './stats.js';

/**
What each shared frame decoded to, for every node of this process: a publish over inproc:// hands
one Buffer to each of its k subscribers (SubscriberSocket.sharesFrames), and decoding it k times
was over a quarter of the busy time of a 1,000-node mesh in one process (bench/optimizations.md).
Decoded without an own id and frozen, so that no receiver can change what the others read; the
own-id and size checks, which differ between receivers, are made by each. Weak: an entry goes with
its frame.
*/
const sharedDecodes = new WeakMap<Uint8Array, Readonly<WireMessage> | RejectReason>();

/** An inbound message a delay fault holds, with the time it came off the socket. */
export type HeldMessage = {message: WireMessage; receivedAtMs: number; connection: string};

/** The parts of its node the inbound path works with; it owns none of them. */
export type AdmissionParts = {
	id: string;
	/** The transport's frame limit, for the decoder; undefined: the wire format's. */
	maxMessageBytes: number | undefined;
	ttlMs: number;
	table: PeerTable;
	clock: LamportClock;
	security: NodeSecurity;
	faults: FaultPlan<HeldMessage, string>;
	counters: NodeCounters;
	emit: (event: EventDetails<NodeEventKind>) => void;
};

export class Admission {
	readonly #id: string;
	readonly #maxMessageBytes: number | undefined;
	readonly #ttlMs: number;
	readonly #table: PeerTable;
	readonly #clock: LamportClock;
	readonly #security: NodeSecurity;
	readonly #faults: FaultPlan<HeldMessage, string>;
	readonly #counters: NodeCounters;
	readonly #emit: (event: EventDetails<NodeEventKind>) => void;

	constructor(parts: AdmissionParts) {
		this.#id = parts.id;
		this.#maxMessageBytes = parts.maxMessageBytes;
		this.#ttlMs = parts.ttlMs;
		this.#table = parts.table;
		this.#clock = parts.clock;
		this.#security = parts.security;
		this.#faults = parts.faults;
		this.#counters = parts.counters;
		this.#emit = parts.emit;
	}

	/** What the transport hands every message to. */
	readonly onFrames: OnFrames = (frames, endpoint) => {
		const frame = this.#oneFrame(frames);
		if (frame !== undefined) {
			// The message, or the reason it is refused: no result wrapper to allocate per message.
			this.#receive(wire.decodeMessage(frame, this.#id, this.#maxMessageBytes), endpoint);
		}
	};

	/**
	What the transport hands a message of a link whose frames every receiver shares: decoded once for
	all of them (see sharedDecodes), with the same outcome, reason for reason, as `onFrames`.
	*/
	readonly onSharedFrames: OnFrames = (frames, endpoint) => {
		const frame = this.#oneFrame(frames);
		if (frame !== undefined) {
			this.#receive(this.#decodeShared(frame), endpoint);
		}
	};

	/** Counts a message in; its one frame, or undefined when it had several (refused and counted). */
	#oneFrame(frames: readonly Buffer[]): Buffer | undefined {
		this.#counters.received++;
		if (frames.length !== 1) {
			this.#counters.reject('multipart');
			return undefined;
		}

		return frames[0];
	}

	/** `wire.decodeMessage` for this receiver, from the decode every receiver of the frame shares. */
	#decodeShared(frame: Uint8Array): Readonly<WireMessage> | RejectReason {
		// The decoder's first check, and one that differs between receivers.
		if (frame.byteLength > (this.#maxMessageBytes ?? wire.MAX_MESSAGE_BYTES)) {
			return 'oversize';
		}

		let decoded = sharedDecodes.get(frame);
		if (decoded === undefined) {
			const fresh = wire.decodeMessage(frame, undefined, Number.POSITIVE_INFINITY);
			decoded = typeof fresh === 'string' ? fresh : Object.freeze(fresh);
			sharedDecodes.set(frame, decoded);
		}

		// The decoder's last check, after every other has passed: the same reason as onFrames gives.
		return typeof decoded !== 'string' && decoded.nodeId === this.#id ? 'own-id' : decoded;
	}

	/** A decoded frame on its way in: refused and counted, or screened and admitted. */
	#receive(message: Readonly<WireMessage> | RejectReason, endpoint: string): void {
		if (typeof message === 'string') {
			this.#counters.reject(message);
			return;
		}

		// One clock reading per message (a reading costs about as much as the rate limit check): the
		// screen and the admission below are microseconds apart.
		const nowMs = performance.now();
		// Who may send what through this connection (the allow file's id binding), and how often.
		const refused = this.#security.screen(message, endpoint, nowMs);
		if (refused !== undefined) {
			this.#counters.reject(refused);
			return;
		}

		if (this.#faults.inboundActive) {
			this.#admitThroughFaults(message, nowMs, endpoint);
			return;
		}

		this.#admit(message, nowMs, endpoint);
	}

	/**
	Admit the held messages now due, stamped with the time they came off the socket: the delay then
	shows as the peer's age and its phase as old as it is. One that waited past the TTL carries
	information the TTL says to ignore, so it is dropped rather than reviving an evicted peer.
	*/
	admitHeld(nowMs: number): void {
		for (const {message, receivedAtMs, connection} of this.#faults.releaseInbound(nowMs)) {
			if (nowMs - receivedAtMs > this.#ttlMs) {
				this.#counters.faultDropped++;
				continue;
			}

			this.#admit(message, receivedAtMs, connection);
		}
	}

	/** `connection`: the peer endpoint the message came through (a Lamport leap needs a witness on another). */
	#admit(message: WireMessage, nowMs: number, connection: string): void {
		const outcome = this.#table.admit(message, nowMs, this.#clock.time, connection);
		if (!outcome.admitted) {
			this.#counters.reject(outcome.reason);
			if (outcome.quarantined) {
				this.#emit({kind: 'peer-quarantined', peer: outcome.quarantined.id, reason: outcome.reason});
			}

			return;
		}

		this.#counters.admitted++;
		this.#clock.observe(message.lamportTime);
		switch (outcome.change) {
			case 'joined': {
				this.#emit({kind: 'peer-joined', peer: message.nodeId, incarnation: message.incarnation});
				break;
			}

			case 'rejoined': {
				this.#emit({kind: 'peer-rejoined', peer: message.nodeId});
				break;
			}

			case 'restarted': {
				this.#emit({kind: 'peer-restarted', peer: message.nodeId, incarnation: message.incarnation});
				break;
			}

			case 'updated': {
				break;
			}
		}
	}

	/** An inbound message while a fault is in force: dropped, held, delivered, or delivered twice. */
	#admitThroughFaults(message: WireMessage, nowMs: number, connection: string): void {
		const decision = this.#faults.inbound(message.nodeId, {message, receivedAtMs: nowMs, connection}, nowMs);
		if (decision.dropped) {
			this.#counters.faultDropped++;
			return;
		}

		// A duplicate copy is an extra message received, as a duplicated packet would be.
		const extraCopies = decision.now + decision.held - 1;
		this.#counters.faultDuplicated += extraCopies;
		this.#counters.received += extraCopies;
		for (let copy = 0; copy < decision.now; copy++) {
			this.#admit(message, nowMs, connection);
		}
	}
}
