/**
Control planes for the synthetic peers of ui-peers.ts, so that the mesh view has a row per peer.

One ZMTP ROUTER per peer (the built-in engine of packages/zmtp, which the node's own control server
uses without CURVE), each on a loopback port of its own: the mesh view asks each member at the
endpoint it announced and checks that the reply names that member, so members cannot share one.
Node's event loop serves them all; a ROUTER is a listening socket and the connections the console
opens, no thread or libzmq socket each.

Each answers as a member of a synchronized mesh that hears every other peer (and the console, when
named) alive: `view` (paged as the node pages it, with the same fields the node sends: whole peer
objects, or with `brief: true`, the mesh console's form, `[id, state]` pairs with the table's digest,
and nothing but the digest when the console's `since` matches it) and `members`. Anything else gets `unknown-op`. The peer entries are rendered to
JSON once; a reply joins the page's entries and the member's phase of the moment (the phase its
data frames carry), so answering costs the worker little next to the console that parses it.
*/

import {ZmtpRouter} from '@chorus-tui/zmtp';
import {peerTableDigest} from '../../source/cluster/digest.js';
import {MAX_VIEW_BRIEF_PEERS, MAX_VIEW_PEERS} from '../../source/cluster/protocol.js';

export type SyntheticPeer = {id: string; endpoint: string; offset: number};

export type ControlPlanesOptions = {
	peers: readonly SyntheticPeer[];
	/** The console's node id: every peer lists it alive, as a real member that hears it would. */
	consoleId: string | undefined;
	incarnation: number;
	omega: number;
	/** The phase a peer with this offset publishes at this monotonic time. */
	phaseOf: (offset: number, nowMs: number) => number;
};

export type ControlPlanes = {
	/** Each peer's bound control endpoint, in the order of `peers`. */
	endpoints: string[];
	close(): void;
};

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

export async function startControlPlanes(options: ControlPlanesOptions): Promise<ControlPlanes> {
	const {peers, consoleId, incarnation, omega, phaseOf} = options;
	const routers: ZmtpRouter[] = [];
	const endpoints: string[] = [];
	// Every peer's offsets are fixed, so the mesh's r is too: each member reports it as its local r.
	let sumCos = 0;
	let sumSin = 0;
	for (const peer of peers) {
		sumCos += Math.cos(peer.offset);
		sumSin += Math.sin(peer.offset);
	}

	const r = round4(Math.hypot(sumCos, sumSin) / peers.length);
	const startedEpochMs = Date.now();
	const byId = new Map(peers.map((peer) => [peer.id, peer]));
	// Sorted by id, as the node sorts its peer table in a `view` reply.
	const ids = [...peers.map((peer) => peer.id), ...(consoleId === undefined ? [] : [consoleId])].sort();
	const entryOf = (id: string, control: string | undefined) => {
		const peer = byId.get(id);
		return JSON.stringify({
			id,
			state: 'alive',
			lamport: 1,
			lastSeenMs: 40,
			ttlRemainingMs: 2960,
			phaseDiff: 0,
			incarnation,
			endpoint: peer?.endpoint ?? 'tcp://127.0.0.1:1',
			...(control === undefined ? {} : {control}),
		});
	};

	const closeAll = () => {
		for (const router of routers) {
			router.close();
		}
	};

	try {
		for (const [index, peer] of peers.entries()) {
			const router: ZmtpRouter = new ZmtpRouter({
				maxConnections: 16,
				onMessage(routingId, frames) {
					// A REQ client puts an empty delimiter first; a DEALER (the console's client) sends the request alone.
					const delimited = frames.length === 2 && frames[0]!.length === 0;
					const reply = answer(index, frames.at(-1)!);
					router.send(routingId, delimited ? [Buffer.alloc(0), reply] : [reply]);
				},
			});
			routers.push(router);
			endpoints.push(await router.bind('tcp://127.0.0.1:0'));
		}
	} catch (error) {
		closeAll();
		throw error;
	}

	const controlOf = new Map(peers.map((peer, index) => [peer.id, endpoints[index]!]));
	const entries = ids.map((id) => ({id, json: entryOf(id, controlOf.get(id)), brief: JSON.stringify([id, 'alive'])}));
	// Each member's table never changes: its digest (the node's own function) is computed once, when first asked.
	const digests = new Map<number, string>();
	const digestOf = (index: number) => {
		let digest = digests.get(index);
		if (digest === undefined) {
			digest = peerTableDigest(entries.filter((entry) => entry.id !== peers[index]!.id).map((entry): [string, string] => [entry.id, 'alive']));
			digests.set(index, digest);
		}

		return digest;
	};

	function answer(index: number, frame: Buffer): string {
		let request: Record<string, unknown>;
		try {
			request = JSON.parse(frame.toString('utf8')) as Record<string, unknown>;
		} catch {
			return JSON.stringify({v: 1, id: null, ok: false, error: 'malformed-json', message: 'not JSON'});
		}

		const requestId = typeof request['id'] === 'string' || typeof request['id'] === 'number' ? request['id'] : null;
		const peer = peers[index]!;
		const offset = Math.max(0, Math.floor(Number(request['offset'] ?? 0)) || 0);
		const brief = request['op'] === 'view' && request['brief'] === true;
		// The node's defaults and bounds (ops.ts): 100 a page unless asked, at most the form's maximum.
		const limit = Math.max(0, Math.min(brief ? MAX_VIEW_BRIEF_PEERS : MAX_VIEW_PEERS, Math.floor(Number(request['limit'] ?? 100)) || 0));
		const others = entries.filter((entry) => entry.id !== peer.id);
		const page = others.slice(offset, offset + limit);
		const truncated = offset + page.length < others.length;
		const head = `{"v":1,"id":${JSON.stringify(requestId)},"ok":true`;
		const tail = `"offset":${offset},"total":${others.length},"truncated":${truncated}}`;
		switch (request['op']) {
			case 'view': {
				const phase = round4(phaseOf(peer.offset, performance.now()));
				const t = Date.now() - startedEpochMs;
				if (brief) {
					const node = {id: peer.id, incarnation, phase, omega: round4(omega), r, control: endpoints[index]};
					const digest = digestOf(index);
					const fields = `${head},"brief":true,"t":${t},"node":${JSON.stringify(node)},"faults":{"peers":{}},"leasesMs":{},"digest":"${digest}"`;
					// As the node does (ops.ts): the peers left out when the console holds this table already.
					return request['since'] === digest
						? `${fields},"unchanged":true,"peers":[],"offset":0,"total":${others.length},"truncated":false}`
						: `${fields},"peers":[${page.map((entry) => entry.brief).join(',')}],${tail}`;
				}

				const node = {id: peer.id, incarnation, lamport: 1, phase, r, endpoint: peer.endpoint, omega: round4(omega), hz: 10, control: endpoints[index]};
				return `${head},"t":${t},"node":${JSON.stringify(node)},"faults":{"peers":{}},"leasesMs":{},"peers":[${page.map((entry) => entry.json).join(',')}],${tail}`;
			}

			case 'members': {
				const members = page.map((entry) => {
					const member = byId.get(entry.id);
					const control = controlOf.get(entry.id);
					return JSON.stringify({
						id: entry.id,
						endpoint: member?.endpoint ?? 'tcp://127.0.0.1:1',
						...(control === undefined ? {} : {control}),
						incarnation,
						state: 'alive',
						legacy: control === undefined,
						changedAtMs: startedEpochMs,
					});
				});
				return `${head},"members":[${members.join(',')}],${tail}`;
			}

			default: {
				return JSON.stringify({v: 1, id: requestId, ok: false, error: 'unknown-op', message: 'this synthetic member answers view and members'});
			}
		}
	}

	return {endpoints, close: closeAll};
}
