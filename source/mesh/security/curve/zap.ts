/**
The ZAP handler (ZeroMQ RFC 27): libzmq asks it, over `inproc://zeromq.zap.01` in the socket's
context, whether a client may complete its handshake with a CURVE server socket.

There is one such endpoint per context, and every node in a process shares zeromq.js's default
context, so one handler serves every node of the process. Each node's publisher gets its own ZAP
domain, and the handler answers with the policy registered for that domain. The handler runs while
at least one domain is registered, and closes with the last one so that no handle stays open.
*/

import type * as zmq from 'zeromq';
import {z85Encode} from './z85.js';

export const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

export type ZapRequest = {
	domain: string;
	/** The client's IP address, as libzmq reports it. */
	address: string;
	mechanism: string;
	/** The client's CURVE public key in Z85; undefined for other mechanisms. */
	publicKey?: string;
};

export type ZapPolicy = {
	allows(publicKey: string): boolean;
	/** Called for every refusal, after the answer is sent. */
	onRefused?(request: ZapRequest, reason: 'key-not-allowed' | 'not-curve'): void;
};

type Handler = {router: zmq.Router; loop: Promise<void>};

const BIND_ATTEMPTS = 40;
const BIND_RETRY_MS = 25;

const policies = new Map<string, ZapPolicy>();
let handler: Promise<Handler> | undefined;
/** The last handler's shutdown; a new handler binds only after the old one let go of the endpoint. */
let closing: Promise<void> = Promise.resolve();
let nextDomain = 1;

/** A ZAP domain name no other node of this process uses. */
export function uniqueZapDomain(label: string): string {
	return `chorus/${nextDomain++}/${label}`.slice(0, 200);
}

/**
Register the policy for a domain, starting the process's handler if it is not running. Resolves
with the function that unregisters it; call it after the publisher is closed.
*/
export async function registerZapDomain(domain: string, policy: ZapPolicy): Promise<() => Promise<void>> {
	if (policies.has(domain)) {
		throw new Error(`ZAP domain ${domain} is registered twice`);
	}

	policies.set(domain, policy);
	try {
		await (handler ??= startHandler());
	} catch (error) {
		policies.delete(domain);
		throw error;
	}

	let released = false;
	return async () => {
		if (released) {
			return;
		}

		released = true;
		policies.delete(domain);
		if (policies.size === 0 && handler !== undefined) {
			const running = handler;
			handler = undefined;
			closing = (async () => {
				const {router, loop} = await running;
				router.close();
				await loop;
			})();
			await closing;
		}
	};
}

async function startHandler(): Promise<Handler> {
	await closing;
	// Loaded here, with the first CURVE node, not with this file: a node without CURVE never loads
	// zeromq.js. The module is cached, so this is the context the node's libzmq sockets use too.
	const zeromq = await import('zeromq');
	// libzmq's reaper thread frees a closed socket's inproc endpoint a moment after close(): a new
	// handler started right after the last one stopped may find it still taken, briefly.
	for (let attempt = 1; ; attempt++) {
		const router = new zeromq.Router({linger: 0});
		try {
			// eslint-disable-next-line no-await-in-loop -- a retry loop: each attempt waits for the last.
			await router.bind(ZAP_ENDPOINT);
			return {router, loop: serve(router)};
		} catch (error) {
			router.close();
			if ((error as {code?: string}).code !== 'EADDRINUSE' || attempt >= BIND_ATTEMPTS) {
				handler = undefined;
				throw new Error(`cannot start the CURVE authentication handler: ${(error as Error).message}`, {cause: error});
			}
		}

		// eslint-disable-next-line no-await-in-loop -- the pause between two attempts.
		await new Promise((resolve) => setTimeout(resolve, BIND_RETRY_MS));
	}
}

async function serve(router: zmq.Router): Promise<void> {
	try {
		for await (const frames of router) {
			await answer(router, frames);
		}
	} catch {
		// The router was closed: the last node stopped.
	}
}

async function answer(router: zmq.Router, frames: Buffer[]): Promise<void> {
	// [routing id, empty delimiter, version, request id, domain, address, identity, mechanism, ...credentials]
	const [routingId, delimiter, version, requestId, domainFrame, addressFrame, , mechanismFrame, ...credentials] = frames;
	if (routingId === undefined || requestId === undefined) {
		return;
	}

	const request: ZapRequest = {
		domain: domainFrame?.toString() ?? '',
		address: addressFrame?.toString() ?? '',
		mechanism: mechanismFrame?.toString() ?? '',
	};
	const key = credentials.at(-1);
	if (request.mechanism === 'CURVE' && key?.length === 32) {
		request.publicKey = z85Encode(key);
	}

	const policy = policies.get(request.domain);
	let refusal: 'key-not-allowed' | 'not-curve' | undefined;
	if (policy === undefined) {
		// Not one of ours (a socket of this process that set no domain): refuse CURVE clients we
		// know nothing about, let anything else through as libzmq would without a handler.
		refusal = request.mechanism === 'CURVE' ? 'key-not-allowed' : undefined;
	} else if (request.publicKey === undefined) {
		refusal = 'not-curve';
	} else if (!policy.allows(request.publicKey)) {
		refusal = 'key-not-allowed';
	}

	const ok = version?.toString() === '1.0' && refusal === undefined;
	try {
		await router.send([
			routingId,
			delimiter ?? Buffer.alloc(0),
			'1.0',
			requestId,
			ok ? '200' : '400',
			ok ? 'OK' : 'not allowed',
			ok && request.publicKey !== undefined ? request.publicKey : '',
			'',
		]);
	} catch {
		return;
	}

	if (refusal !== undefined) {
		policy?.onRefused?.(request, refusal);
	}
}
