/**
A node's guards against peers it does not trust: CURVE with an allow list (ZAP on our publisher,
pinned server keys on our subscriptions), the node-id binding of the allow file, the per-peer rate
limit, and the warning about an exposed, unencrypted bind. The node calls it at a few points of its
life; everything that decides is here.
*/

import type * as zmq from 'zeromq';
import type {TransportOptions} from '../net/transport.js';
import type {RejectReason, WireMessage} from '../model/wire.js';
import type {AllowList} from './curve/allow-list.js';
import {planAllowListChange, type AllowListChange} from './curve/reload.js';
import {RateLimiter} from './rate-limiter.js';
import {registerZapDomain, uniqueZapDomain, type ZapRequest} from './curve/zap.js';

export type CurveOptions = {
	/** This node's key pair, Z85. */
	publicKey: string;
	secretKey: string;
	/** Who may subscribe to us, whose endpoints we may subscribe to, and which id each key may use. */
	allow: AllowList;
};

export type {AllowListChange} from './curve/reload.js';

export type SecurityOptions = {
	/** CURVE on: every connection encrypted and authenticated. */
	curve?: CurveOptions;
	/** Messages per second from a peer that announces no rate; ten times `hz` for one that does. @default 100 */
	defaultPeerRatePerS?: number;
};

export type SecurityEvent = {kind: 'auth-refused' | 'warning'; [detail: string]: unknown};

/** At most one `auth-refused` event per client address and reason in this long; the count is exact. */
const REFUSAL_EVENT_INTERVAL_MS = 5000;
const MAX_REFUSAL_SOURCES = 1024;
const PRUNE_INTERVAL_MS = 1000;

export class NodeSecurity {
	readonly #curve: CurveOptions | undefined;
	readonly #limiter: RateLimiter;
	readonly #emit: (event: SecurityEvent) => void;
	readonly #domain: string;
	readonly #lastRefusalEvent = new Map<string, {atMs: number; unreported: number}>();
	/** The allow list in force: replaced whole by `replaceAllowList` (SIGHUP), never edited. */
	#allow: AllowList | undefined;
	/** Peer endpoints we subscribe to, and those we were asked to but hold no key for (see `subscribing`). */
	readonly #subscribed = new Set<string>();
	readonly #waitingForKey = new Set<string>();
	#releaseZap: (() => Promise<void>) | undefined;
	#authRefused = 0;
	#lastPruneMs = 0;

	constructor(nodeId: string, options: SecurityOptions, emit: (event: SecurityEvent) => void) {
		this.#curve = options.curve;
		this.#allow = options.curve?.allow;
		this.#limiter = new RateLimiter(
			options.defaultPeerRatePerS === undefined ? {} : {defaultRatePerS: options.defaultPeerRatePerS},
		);
		this.#emit = emit;
		this.#domain = uniqueZapDomain(nodeId);
	}

	get curveEnabled(): boolean {
		return this.#curve !== undefined;
	}

	/** Clients refused at our publisher: a key not on the allow list, no CURVE, a failed handshake. */
	get authRefused(): number {
		return this.#authRefused;
	}

	/** Socket options that turn CURVE on, for the transport. */
	transportOptions(): Partial<TransportOptions> {
		const curve = this.#curve;
		if (curve === undefined) {
			return {};
		}

		return {
			publisherOptions: {
				curveServer: true,
				curveSecretKey: curve.secretKey,
				curvePublicKey: curve.publicKey,
				zapDomain: this.#domain,
				// No handler, no entry: fail closed.
				zapEnforceDomain: true,
			} satisfies Partial<zmq.Publisher>,
			// Read when a link is (re)opened: a reloaded allow file pins its key from the next dial on.
			subscriberOptions: (endpoint: string) => ({
				curveServerKey: this.#allow?.serverKeyFor(endpoint) ?? null,
				curvePublicKey: curve.publicKey,
				curveSecretKey: curve.secretKey,
			}),
		};
	}

	/**
	Whether we may subscribe to an endpoint. With CURVE on, only to one whose key the allow file
	gives: without a pinned server key the connection would be neither encrypted nor authenticated.
	*/
	canSubscribe(endpoint: string): boolean {
		return this.#allow === undefined || this.#allow.serverKeyFor(endpoint) !== undefined;
	}

	/**
	`canSubscribe`, remembering the answer: an endpoint refused for want of a key is subscribed to
	when a reloaded allow file gives one.
	*/
	subscribing(endpoint: string): boolean {
		const allowed = this.canSubscribe(endpoint);
		(allowed ? this.#subscribed : this.#waitingForKey).add(endpoint);
		(allowed ? this.#waitingForKey : this.#subscribed).delete(endpoint);
		return allowed;
	}

	/** The node no longer wants this endpoint (removePeer). */
	unsubscribed(endpoint: string): void {
		this.#subscribed.delete(endpoint);
		this.#waitingForKey.delete(endpoint);
	}

	/**
	Put a new allow list in force (the file read again on SIGHUP), at once for ZAP and id binding,
	and say what the node must do about connections made under the old one. Undefined without CURVE.
	*/
	replaceAllowList(next: AllowList): AllowListChange | undefined {
		const before = this.#allow;
		if (before === undefined) {
			return undefined;
		}

		const change = planAllowListChange(before, next, this.#subscribed, this.#waitingForKey);
		this.#allow = next;
		for (const endpoint of change.close) {
			this.#subscribed.delete(endpoint);
			this.#waitingForKey.add(endpoint);
		}

		for (const endpoint of change.open) {
			this.#waitingForKey.delete(endpoint);
			this.#subscribed.add(endpoint);
		}

		return change;
	}

	/** Start answering ZAP requests for our publisher's domain; before the publisher binds. */
	async start(): Promise<void> {
		if (this.#curve === undefined || this.#releaseZap !== undefined) {
			return;
		}

		this.#releaseZap = await registerZapDomain(this.#domain, {
			allows: (publicKey) => this.#allow?.allows(publicKey) ?? false,
			onRefused: (request, reason) => {
				this.#refused(reason, request);
			},
		});
	}

	/** After the publisher is closed. */
	async stop(): Promise<void> {
		const release = this.#releaseZap;
		this.#releaseZap = undefined;
		await release?.();
	}

	/** A client's handshake with our publisher failed before ZAP was asked (no CURVE, a wrong server key). */
	clientHandshakeFailed(reason: string, code: string | undefined): void {
		if (this.#curve === undefined) {
			return;
		}

		this.#refused(code === 'ERR_ZMTP_MECHANISM_MISMATCH' ? 'not-curve' : 'handshake-failed', {code, detail: reason});
	}

	/**
	Check a decoded message against what its connection may send. `endpoint` is the subscription it
	came through; with CURVE on, its pinned key says who sent it.
	*/
	screen(message: WireMessage, endpoint: string, nowMs: number): RejectReason | undefined {
		const allow = this.#allow;
		if (allow !== undefined) {
			const key = allow.serverKeyFor(endpoint);
			if (key === undefined || !allow.mayClaim(key, message.nodeId)) {
				return 'id-mismatch';
			}
		}

		if (nowMs - this.#lastPruneMs >= PRUNE_INTERVAL_MS) {
			this.#lastPruneMs = nowMs;
			this.#limiter.prune(nowMs);
		}

		// One bucket per connection: a peer cannot slip the limit by changing its id.
		return this.#limiter.allow(endpoint, message.hz, nowMs) ? undefined : 'rate-limit';
	}

	#refused(reason: string, details: Partial<ZapRequest> & Record<string, unknown>): void {
		this.#authRefused++;
		const source = `${details.address ?? ''}/${reason}`;
		const nowMs = Date.now();
		const last = this.#lastRefusalEvent.get(source);
		if (last !== undefined && nowMs - last.atMs < REFUSAL_EVENT_INTERVAL_MS) {
			last.unreported++;
			return;
		}

		if (this.#lastRefusalEvent.size >= MAX_REFUSAL_SOURCES) {
			this.#lastRefusalEvent.clear();
		}

		this.#lastRefusalEvent.set(source, {atMs: nowMs, unreported: 0});
		const event: SecurityEvent = {kind: 'auth-refused', reason};
		if (details.address !== undefined) {
			event['address'] = details.address;
		}

		if (details.publicKey !== undefined) {
			event['publicKey'] = details.publicKey;
		}

		if (details.code !== undefined) {
			event['code'] = details.code;
		}

		if (last !== undefined && last.unreported > 0) {
			event['alsoRefusedSinceLastEvent'] = last.unreported;
		}

		this.#emit(event);
	}
}

/**
The warning for a bind that other machines can reach while CURVE is off, or undefined when the bind
is loopback-only (or a local ipc:// path) or CURVE is on.
*/
export function exposureWarning(bindEndpoint: string, curveEnabled: boolean): string | undefined {
	if (curveEnabled || isLoopbackOnly(bindEndpoint)) {
		return undefined;
	}

	return `bound to ${bindEndpoint} without CURVE: anyone who can reach it can read this node's state and feed it; use --curve-secret-key-file and --allow (see README, "Running across machines safely")`;
}

export function isLoopbackOnly(endpoint: string): boolean {
	if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) {
		return true;
	}

	const host = /^tcp:\/\/(.+):[^:]+$/.exec(endpoint)?.[1]?.replace(/^\[(.*)\]$/, '$1');
	if (host === undefined) {
		return false;
	}

	return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1' || host === 'localhost';
}
