/**
The control plane's client: one request to a node's control endpoint, one reply or a timeout.

One DEALER per endpoint, kept in a small cache (least recently used goes first), so that gossip
asking the same members again and again does not handshake every time. Without CURVE the DEALER is
the built-in engine's (@chorus-tui/zmtp); with CURVE it is libzmq's, and zeromq.js is loaded with the
first such request, not with this file: a node that never needs CURVE never loads the addon.
*/

import {ZmtpDealer} from '@chorus-tui/zmtp';
import {CONTROL_VERSION, WRITE_OPS, type ControlReply, type ControlRequest} from '../protocol.js';
import {writeProof} from './proof.js';

type Body<R> = R extends {leaseMs: number} ? Omit<R, 'v' | 'id' | 'leaseMs'> & {leaseMs?: number} : Omit<R, 'v' | 'id'>;

/**
What a caller sends: a request without the envelope (`v` and `id` are the client's). A fault's
`leaseMs` may be left out: the node applies its `--fault-lease`.
*/
export type ControlRequestBody = ControlRequest extends infer R ? (R extends ControlRequest ? Body<R> : never) : never;

/** CURVE keys for a client: our pair, and the server's public key (CURVE authenticates the server). */
export type ControlCurve = {publicKey: string; secretKey: string; serverKey: string};

export type ControlClientOptions = {
	/**
	How long a request waits for its reply.
	@default 2000
	*/
	timeoutMs?: number;
	/**
	CURVE keys for an endpoint, or undefined for a plain connection. A function so that one client can
	reach members with different server keys (membership looks them up in the allow file).
	*/
	curve?: ControlCurve | ((endpoint: string) => ControlCurve | undefined);
	/**
	Requests waiting for a reply, over all endpoints; one more is refused at once.
	@default 64
	*/
	maxInFlight?: number;
	/**
	DEALER sockets kept open; the least recently used is closed to make room.
	@default 16
	*/
	maxSockets?: number;
	/**
	A reply larger than this makes libzmq drop the connection (a hostile server cannot fill our memory).
	@default 4 MiB
	*/
	maxReplyBytes?: number;
};

/** No reply in time: the endpoint is down, unreachable, refused our key, or too slow. */
export class ControlTimeoutError extends Error {
	constructor(
		readonly endpoint: string,
		readonly timeoutMs: number,
	) {
		super(`no reply from ${endpoint} within ${timeoutMs} ms`);
		this.name = 'ControlTimeoutError';
	}
}

/** A request the client would not send (too many in flight, the client closed). */
export class ControlClientError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ControlClientError';
	}
}

type Pending = {
	resolve: (reply: ControlReply) => void;
	reject: (error: Error) => void;
	timer: NodeJS.Timeout;
};

/** A DEALER to one endpoint, whichever engine's: sends a request, hands each reply's last frame to `onReply`. */
type Dealer = {
	send(frame: string): Promise<void> | void;
	close(): void;
};

type Link = {
	dealer: Dealer;
	/** Sends one at a time: zeromq.js allows a single send in progress per socket. */
	sending: Promise<void>;
	pending: Map<number, Pending>;
};

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_MAX_IN_FLIGHT = 64;
const DEFAULT_MAX_SOCKETS = 16;
const DEFAULT_MAX_REPLY_BYTES = 4 * 1024 * 1024;

/**
Sends requests to control endpoints. `request()` resolves with the reply (ok or error: an error
reply is an answer, not a failure) and rejects with a ControlTimeoutError when none comes in time.
`close()` closes every socket and rejects what is still waiting.
*/
export class ControlClient {
	readonly #options: Required<Omit<ControlClientOptions, 'curve'>> & Pick<ControlClientOptions, 'curve'>;
	/** Insertion order is recency order: a used link is moved to the end. */
	readonly #links = new Map<string, Link>();
	#nextId = 1;
	#inFlight = 0;
	#closed = false;

	constructor(options: ControlClientOptions = {}) {
		this.#options = {
			timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
			maxInFlight: options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
			maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
			maxReplyBytes: options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES,
			curve: options.curve,
		};
	}

	get inFlight(): number {
		return this.#inFlight;
	}

	/** Send one request; `timeoutMs` overrides the client's for this one. */
	async request(endpoint: string, body: ControlRequestBody, timeoutMs = this.#options.timeoutMs): Promise<ControlReply> {
		if (this.#closed) {
			throw new ControlClientError('the control client is closed');
		}

		if (this.#inFlight >= this.#options.maxInFlight) {
			throw new ControlClientError(`too many control requests in flight (${this.#inFlight}); try again later`);
		}

		const curve = typeof this.#options.curve === 'function' ? this.#options.curve(endpoint) : this.#options.curve;
		const id = this.#nextId++;
		const request: Record<string, unknown> = {...body, v: CONTROL_VERSION, id};
		if (curve !== undefined && WRITE_OPS.has(body.op)) {
			// Over CURVE the server knows we hold a listed key, not which one: the proof says which,
			// so that it can check the key's role (proof.ts).
			request['auth'] = writeProof(curve, request.op as string, id, Date.now());
		}

		this.#inFlight++;
		try {
			const link = await this.#link(endpoint, curve);
			return await new Promise<ControlReply>((resolve, reject) => {
				const timer = setTimeout(() => {
					link.pending.delete(id);
					reject(new ControlTimeoutError(endpoint, timeoutMs));
				}, timeoutMs);
				link.pending.set(id, {resolve, reject, timer});
				const frame = JSON.stringify(request);
				link.sending = link.sending.then(async () => link.dealer.send(frame));
			});
		} finally {
			this.#inFlight--;
		}
	}

	/** Close every socket; requests still waiting are rejected. */
	async close(): Promise<void> {
		this.#closed = true;
		for (const endpoint of this.#links.keys()) {
			this.#drop(endpoint, 'the control client closed');
		}
	}

	async #link(endpoint: string, curve: ControlCurve | undefined): Promise<Link> {
		const known = this.#links.get(endpoint);
		if (known !== undefined) {
			this.#links.delete(endpoint);
			this.#links.set(endpoint, known);
			return known;
		}

		const open = curve === undefined ? openBuiltinDealer : await this.#libzmqDealer(curve);
		if (this.#closed) {
			throw new ControlClientError('the control client is closed');
		}

		// Another request may have opened it while the module loaded.
		const raced = this.#links.get(endpoint);
		if (raced !== undefined) {
			return raced;
		}

		const pending = new Map<number, Pending>();
		const dealer = open(endpoint, this.#options, (frame) => {
			settle(pending, frame);
		});
		const link: Link = {dealer, sending: Promise.resolve(), pending};
		this.#links.set(endpoint, link);
		while (this.#links.size > this.#options.maxSockets) {
			const oldest = this.#links.keys().next().value!;
			this.#drop(oldest, 'its socket was closed to make room for another endpoint');
		}

		return link;
	}

	/** zeromq.js, loaded with the first CURVE request; a DEALER with the keys of this endpoint. */
	async #libzmqDealer(curve: ControlCurve): Promise<OpenDealer> {
		const zeromq = await import('zeromq');
		return (endpoint, options, onReply) => {
			const dealer = new zeromq.Dealer({
				linger: 0,
				maxMessageSize: options.maxReplyBytes,
				// A send to an endpoint that is not connected yet waits at most this long; the request's
				// own timer decides the answer.
				sendTimeout: options.timeoutMs,
				sendHighWaterMark: options.maxInFlight,
				receiveHighWaterMark: options.maxInFlight,
				reconnectInterval: 200,
				curveServerKey: curve.serverKey,
				curvePublicKey: curve.publicKey,
				curveSecretKey: curve.secretKey,
			});
			dealer.connect(endpoint);
			void (async () => {
				try {
					for await (const frames of dealer) {
						onReply(frames.at(-1));
					}
				} catch {
					// The socket was closed.
				}
			})();

			return {
				async send(frame) {
					try {
						await dealer.send(frame);
					} catch {
						// No peer to send to within the send timeout, or closed: the request's timer answers.
					}
				},
				close() {
					dealer.close();
				},
			};
		};
	}

	#drop(endpoint: string, why: string): void {
		const link = this.#links.get(endpoint);
		if (link === undefined) {
			return;
		}

		this.#links.delete(endpoint);
		for (const pending of link.pending.values()) {
			clearTimeout(pending.timer);
			pending.reject(new ControlClientError(`request to ${endpoint} abandoned: ${why}`));
		}

		link.pending.clear();
		link.dealer.close();
	}
}

type OpenDealer = (endpoint: string, options: Required<Omit<ControlClientOptions, 'curve'>>, onReply: (frame: Buffer | undefined) => void) => Dealer;

/**
The built-in engine's DEALER (no CURVE): what is sent before the link is up waits (at most
maxInFlight requests), a reply over maxReplyBytes closes the link, and it redials with backoff.
*/
const openBuiltinDealer: OpenDealer = (endpoint, options, onReply) => {
	const dealer = new ZmtpDealer({
		endpoint,
		maxMessageBytes: options.maxReplyBytes,
		sendHighWaterMark: options.maxInFlight,
		reconnectIntervalMs: 200,
		reconnectIntervalMaxMs: 1000,
		// A REQ-style envelope has an empty frame first; the reply is the last frame either way.
		onMessage(frames) {
			onReply(frames.at(-1));
		},
	});
	dealer.connect();
	return {
		send(frame) {
			// Refused only past maxInFlight waiting for the link: the request's timer answers.
			dealer.send(frame);
		},
		close() {
			dealer.close();
		},
	};
};

/** A reply's frame settles the request it names; anything else is ignored. */
function settle(pending: Map<number, Pending>, frame: Buffer | undefined): void {
	const reply = parseReply(frame);
	if (reply === undefined || typeof reply.id !== 'number') {
		return;
	}

	const request = pending.get(reply.id);
	if (request !== undefined) {
		pending.delete(reply.id);
		clearTimeout(request.timer);
		request.resolve(reply);
	}
}

function parseReply(frame: Buffer | undefined): ControlReply | undefined {
	if (frame === undefined) {
		return undefined;
	}

	try {
		const value: unknown = JSON.parse(frame.toString('utf8'));
		if (typeof value === 'object' && value !== null && typeof (value as {ok?: unknown}).ok === 'boolean') {
			return value as ControlReply;
		}
	} catch {
		// Not JSON: not a reply of ours.
	}

	return undefined;
}

/** One request with a client of its own, closed afterwards: for `ctl` and scripts. */
export async function controlRequest(endpoint: string, body: ControlRequestBody, options: ControlClientOptions = {}): Promise<ControlReply> {
	const client = new ControlClient({...options, maxSockets: 1});
	try {
		return await client.request(endpoint, body);
	} finally {
		await client.close();
	}
}
