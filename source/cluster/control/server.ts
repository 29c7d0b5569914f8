/**
The control endpoint of a node: a ZeroMQ ROUTER that answers control requests (protocol.ts).

Everything a client sends is bounded before it reaches the node: the socket drops a request over
MAX_REQUEST_BYTES with its connection (either engine, as it arrives), each client and all clients together are
rate-limited, malformed requests get an error reply, and with CURVE only listed keys get through
the handshake (ZAP, a domain of its own) and only `role=operator` keys may send write ops. Each
refusal counts in `refused` by reason and makes a `control-refused` event (at most one a second per
reason, with the count since the last).

The ROUTER is the built-in engine's (@chorus-tui/zmtp) when CURVE is off, and libzmq's (zeromq.js,
loaded here, not before) when it is on: only libzmq speaks CURVE. Loading zeromq.js cost a default
node about 3 MiB of resident memory and two threads (see bench/optimizations.md).
*/

import {performance} from 'node:perf_hooks';
import {ZmtpRouter} from '@chorus-tui/zmtp';
import type * as zmq from 'zeromq';
import type {AllowList} from '../../mesh/security/curve/allow-list.js';
import {registerZapDomain, uniqueZapDomain} from '../../mesh/security/curve/zap.js';
import {RateLimiter} from '../../mesh/security/rate-limiter.js';
import type {EventDetails} from '../../mesh/snapshot.js';
import {DEFAULT_FAULT_LEASE_MS, MAX_REPLY_BYTES, MAX_REQUEST_BYTES, WRITE_OPS, type ControlRefusal, type ControlReply} from '../protocol.js';
import {LeaseBook, LeaseTimer} from './leases.js';
import {ControlOps, errorReply, type ControlEventKind, type ControlledNode, type MembershipHook} from './ops.js';
import {ProofChecker} from './proof.js';
import {parseRequest} from './requests.js';

export type ControlServerOptions = {
	/** Where to bind, `tcp://host:port` (see address.ts for the default and the loopback rule). */
	endpoint: string;
	node: ControlledNode;
	/** When membership runs, `members` and `join` are its; otherwise they come from the peer table. */
	membership?: MembershipHook;
	/** CURVE on: our key pair and the allow file in force (a function: the file may be read again). */
	curve?: {publicKey: string; secretKey: string; allow: () => AllowList};
	/**
	A fault request's lease when it names none, in ms; 0: no expiry.
	@default 30_000
	*/
	defaultLeaseMs?: number;
	/** Asked after a `stop` reply is sent: stop the session and exit 0 (the run layer's). */
	onStop: () => void;
	onEvent?: (event: EventDetails<ControlEventKind>) => void;
	/**
	Requests a second from one client (a ROUTER connection), with a burst of a second's worth.
	@default 50
	*/
	clientRatePerS?: number;
	/**
	Requests a second from all clients together: what reconnecting for a fresh allowance cannot beat.
	@default 1000
	*/
	totalRatePerS?: number;
};

/** The control port is taken, or the address cannot be bound. */
export class ControlBindError extends Error {
	constructor(
		readonly endpoint: string,
		readonly code: string | undefined,
		message: string,
	) {
		super(message);
		this.name = 'ControlBindError';
	}
}

/** The ROUTER under the server: the built-in engine's, or libzmq's with CURVE. */
type RouterSocket = {
	/** Where it listens (the bound address). */
	readonly endpoint: string;
	/** A reply to the client `routingId` names; dropped when it is gone or does not read. Never throws. */
	send(frames: [Buffer, ...Array<Buffer | string>]): Promise<void> | void;
	close(): void;
	/** Settles when the socket has closed and every request read has been answered. */
	readonly serving: Promise<void>;
};

/** What the server does with what comes through its socket. */
type RouterHandler = {
	onFrames(frames: Buffer[]): Promise<void> | void;
	/**
	A connection came (true) or went (false), to count those dropped before their first request;
	undefined for libzmq's notice, which says neither (the first for a client is its connect).
	*/
	onConnection(client: string, up: boolean | undefined): void;
	/** The engine closed a connection for breaking a bound (the built-in engine says which). */
	onDropped(detail: string): void;
};

/** libzmq's ZMQ_ROUTER_NOTIFY: an empty message from a peer when it connects and when it goes. */
const ZMQ_ROUTER_NOTIFY = 97;
const NOTIFY_CONNECT_AND_DISCONNECT = 3;
/** Connections whose requests we count (to tell a connection dropped before its first request). */
const MAX_TRACKED_CONNECTIONS = 4096;
const REFUSAL_EVENT_INTERVAL_MS = 1000;

export class ControlServer {
	readonly #options: ControlServerOptions;
	#router: RouterSocket | undefined;
	readonly #ops: ControlOps;
	readonly #leases = new LeaseBook();
	readonly #leaseTimer: LeaseTimer;
	readonly #clients: RateLimiter;
	readonly #everyone: RateLimiter;
	readonly #proofs: ProofChecker | undefined;
	readonly #refused = new Map<ControlRefusal, number>();
	/** Per reason: when its last event went out, and refusals since. */
	readonly #refusalEvents = new Map<ControlRefusal, {lastMs: number; since: number}>();
	/** Routing id → requests seen on that connection (ROUTER_NOTIFY tells connects and disconnects). */
	readonly #connections = new Map<string, number>();
	#releaseZap: (() => Promise<void>) | undefined;
	#endpoint: string;
	#stopped = false;

	private constructor(options: ControlServerOptions) {
		this.#options = options;
		this.#endpoint = options.endpoint;
		const now = () => performance.now();
		this.#ops = new ControlOps({
			node: options.node,
			membership: options.membership,
			controlEndpoint: () => this.#endpoint,
			leases: this.#leases,
			onLeasesChanged: () => {
				this.#leaseTimer.reschedule();
			},
			now,
			onStop: options.onStop,
			emit(event) {
				options.onEvent?.(event);
			},
		});
		this.#leaseTimer = new LeaseTimer(this.#leases, now, (expired) => {
			this.#ops.expire(expired);
		});
		const clientRatePerS = options.clientRatePerS ?? 50;
		this.#clients = new RateLimiter({defaultRatePerS: clientRatePerS, maxRatePerS: clientRatePerS, maxKeys: 1024});
		const totalRatePerS = options.totalRatePerS ?? 1000;
		this.#everyone = new RateLimiter({defaultRatePerS: totalRatePerS, maxRatePerS: totalRatePerS, maxKeys: 1});
		this.#proofs = options.curve === undefined ? undefined : new ProofChecker(options.curve.secretKey);
	}

	/** Bind and serve. Rejects with a ControlBindError when the address cannot be bound. */
	static async start(options: ControlServerOptions): Promise<ControlServer> {
		const server = new ControlServer(options);
		const handler: RouterHandler = {
			onFrames: async (frames) => server.#onFrames(frames),
			onConnection(client, up) {
				server.#onConnectionNotice(client, up);
			},
			onDropped(detail) {
				server.#refuse('dropped', undefined, detail);
			},
		};
		try {
			server.#router = options.curve === undefined ? await openBuiltinRouter(options.endpoint, handler) : await server.#openCurveRouter(options.curve, handler);
		} catch (error) {
			await server.#releaseZap?.();
			const code = (error as {code?: string}).code;
			const why = code === 'EADDRINUSE' ? 'the port is already in use' : (error as Error).message;
			throw new ControlBindError(options.endpoint, code, `cannot bind the control endpoint ${options.endpoint}: ${why}; choose another with --control <port>, or --no-control`);
		}

		server.#endpoint = server.#router.endpoint;
		return server;
	}

	/** libzmq's ROUTER with CURVE and a ZAP domain of its own; rejects (the socket closed) when it cannot bind. */
	async #openCurveRouter(curve: NonNullable<ControlServerOptions['curve']>, handler: RouterHandler): Promise<RouterSocket> {
		const zeromq = await import('zeromq');
		const domain = uniqueZapDomain('control');
		const router = new zeromq.Router({
			linger: 0,
			// libzmq drops a larger request with its connection, before it is read into our memory.
			maxMessageSize: MAX_REQUEST_BYTES,
			receiveHighWaterMark: 1000,
			// A client that does not read loses its replies; it never blocks us.
			sendHighWaterMark: 1000,
			sendTimeout: 0,
			curveServer: true,
			curvePublicKey: curve.publicKey,
			curveSecretKey: curve.secretKey,
			zapDomain: domain,
		});
		let notify = true;
		try {
			(router as unknown as {setInt32Option(option: number, value: number): void}).setInt32Option(ZMQ_ROUTER_NOTIFY, NOTIFY_CONNECT_AND_DISCONNECT);
		} catch {
			// A libzmq built without its draft options: connections dropped before a request go uncounted.
			notify = false;
		}

		try {
			this.#releaseZap = await registerZapDomain(domain, {
				allows: (publicKey) => curve.allow().allows(publicKey),
				onRefused: () => {
					this.#refuse('unauthenticated', undefined, 'a CURVE client whose key the allow file does not list');
				},
			});
			await router.bind(this.#options.endpoint);
		} catch (error) {
			router.close();
			throw error;
		}

		return {
			endpoint: router.lastEndpoint ?? this.#options.endpoint,
			async send(frames) {
				try {
					await router.send(frames);
				} catch {
					// The client is gone or not reading (the send queue is full): its reply is dropped.
				}
			},
			close() {
				router.close();
			},
			serving: serveLibzmq(router, notify, handler),
		};
	}

	/** Where it listens (the bound address). */
	get endpoint(): string {
		return this.#endpoint;
	}

	/** Refusals by reason, for `stats.controlRefused`. */
	get refused(): Record<string, number> {
		return Object.fromEntries(this.#refused);
	}

	/** Running fault leases: entry → field → ms left. */
	leases(): Record<string, Record<string, number>> {
		return this.#leases.all(performance.now());
	}

	async stop(): Promise<void> {
		if (this.#stopped) {
			return;
		}

		this.#stopped = true;
		this.#leaseTimer.stop();
		this.#router?.close();
		await this.#router?.serving;
		await this.#releaseZap?.();
	}

	async #onFrames(frames: Buffer[]): Promise<void> {
		const [routingId, ...rest] = frames;
		if (routingId === undefined) {
			return;
		}

		const client = routingId.toString('hex');
		const seen = this.#connections.get(client);
		if (seen !== undefined) {
			this.#connections.set(client, seen + 1);
		}

		// A REQ client puts an empty delimiter before its request; a DEALER sends the request alone.
		const request = rest.length === 2 && rest[0]!.length === 0 ? rest[1]! : rest.length === 1 ? rest[0]! : undefined;
		const reply = this.#answer(request, client);
		if (reply === undefined) {
			return;
		}

		const text = JSON.stringify(reply.reply);
		await this.#router?.send(rest.length === 2 ? [routingId, Buffer.alloc(0), text] : [routingId, text]);
		reply.afterReply?.();
	}

	#answer(frame: Buffer | undefined, client: string): {reply: ControlReply; afterReply?: () => void} | undefined {
		const nowMs = performance.now();
		if (!this.#everyone.allow('all', undefined, nowMs) || !this.#clients.allow(client, undefined, nowMs)) {
			// The reply names the request when that is cheap to learn, so that the client can match it.
			const id = frame !== undefined && frame.length <= 1024 ? parseRequest(frame, 0) : undefined;
			return {reply: this.#refuse('rate-limited', id?.ok ? id.request.id : id?.id, 'too many requests; slow down')};
		}

		if (frame === undefined) {
			return {reply: this.#refuse('bad-request', null, 'a request is one frame (after an empty delimiter for REQ sockets)')};
		}

		const parsed = parseRequest(frame, this.#options.defaultLeaseMs ?? DEFAULT_FAULT_LEASE_MS);
		if (!parsed.ok) {
			return {reply: this.#refuse(parsed.error, parsed.id, parsed.message)};
		}

		const {request} = parsed;
		if (this.#proofs !== undefined && WRITE_OPS.has(request.op)) {
			const proof = this.#proofs.check(request.auth, request.op, request.id, Date.now());
			if (!proof.ok) {
				return {reply: this.#refuse('forbidden', request.id, `${request.op} needs an operator key: ${proof.reason}`)};
			}

			const allow = this.#options.curve!.allow();
			if (!allow.allows(proof.key) || !allow.isOperator(proof.key)) {
				return {reply: this.#refuse('forbidden', request.id, `${request.op} needs a key with role=operator in the allow file`)};
			}
		}

		try {
			return this.#ops.run(request);
		} catch (error) {
			return {reply: this.#refuse('internal', request.id, (error as Error).message.split('\n')[0] ?? 'internal error')};
		}
	}

	/** A connect notice starts counting a connection; a disconnect notice before any request counts as `dropped`. */
	#onConnectionNotice(client: string, up: boolean | undefined): void {
		const requests = this.#connections.get(client);
		if (up ?? requests === undefined) {
			if (this.#connections.size >= MAX_TRACKED_CONNECTIONS) {
				this.#connections.delete(this.#connections.keys().next().value!);
			}

			this.#connections.set(client, 0);
			return;
		}

		this.#connections.delete(client);
		if (requests === 0) {
			this.#refuse('dropped', undefined, `a connection closed before it sent a whole request (libzmq drops requests over ${MAX_REQUEST_BYTES} bytes with their connection)`);
		}
	}

	/** Count a refusal, maybe emit its event, and build its reply. */
	#refuse(reason: ControlRefusal, id: string | number | null | undefined, message: string): ControlReply {
		this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
		const nowMs = performance.now();
		const last = this.#refusalEvents.get(reason);
		if (last === undefined || nowMs - last.lastMs >= REFUSAL_EVENT_INTERVAL_MS) {
			this.#refusalEvents.set(reason, {lastMs: nowMs, since: 0});
			this.#options.onEvent?.({kind: 'control-refused', reason, count: (last?.since ?? 0) + 1, message});
		} else {
			last.since++;
		}

		const code = reason === 'unauthenticated' || reason === 'dropped' ? 'forbidden' : reason;
		return errorReply(id ?? null, code, message);
	}
}

/**
The built-in engine's ROUTER (no CURVE): it closes a connection whose request is over
MAX_REQUEST_BYTES as it arrives (libzmq does the same), and says so, so the refusal is counted by its reason.
*/
async function openBuiltinRouter(endpoint: string, handler: RouterHandler): Promise<RouterSocket> {
	let replying: Promise<void> = Promise.resolve();
	const router = new ZmtpRouter({
		maxMessageBytes: MAX_REQUEST_BYTES,
		// A client that does not read loses its replies past this (at most two of the largest).
		maxQueuedBytesPerPeer: 2 * MAX_REPLY_BYTES,
		onMessage(routingId, frames) {
			// One request at a time, in the order they came: a reply is sent before the next is answered.
			// A request that fails unexpectedly must not stall the ones after it.
			replying = replying.then(async () => handler.onFrames([routingId, ...frames])).catch(() => undefined);
		},
		onEvent(event) {
			switch (event.type) {
				case 'connect':
				case 'disconnect': {
					handler.onConnection(event.routingId.toString('hex'), event.type === 'connect');
					break;
				}

				case 'client-refused': {
					if (event.reason !== 'send-queue-full' && event.reason !== 'ping-dropped') {
						handler.onDropped(`a connection closed by the server: ${event.reason} (${event.detail})`);
					}

					break;
				}

				case 'client-handshake-failed': {
					// Not a control client (a port scan, another protocol): nothing reached the node.
					break;
				}
			}
		},
	});
	let closed!: () => void;
	const closing = new Promise<void>((resolve) => {
		closed = resolve;
	});
	try {
		const bound = await router.bind(endpoint);
		return {
			endpoint: bound,
			send([routingId, ...frames]) {
				router.send(routingId, frames);
			},
			close() {
				router.close();
				closed();
			},
			serving: closing.then(async () => replying),
		};
	} catch (error) {
		router.close();
		throw error;
	}
}

/** Read libzmq's ROUTER until it closes; a ROUTER_NOTIFY notice is an empty frame after the routing id. */
async function serveLibzmq(router: zmq.Router, notify: boolean, handler: RouterHandler): Promise<void> {
	try {
		for await (const frames of router) {
			if (notify && frames.length === 2 && frames[1]!.length === 0) {
				handler.onConnection(frames[0]!.toString('hex'), undefined);
				continue;
			}

			// One request at a time: a reply is sent before the next is read.
			await handler.onFrames(frames);
		}
	} catch {
		// The router was closed: the server stopped.
	}
}
