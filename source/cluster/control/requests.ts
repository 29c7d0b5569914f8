/**
From one request frame to a checked request, or to the error reply it gets. Never throws: whatever
a client sends comes back as a request or as an error with a code (protocol.ts).
*/

import {ALL_PEERS, type InboundFault, type OutboundFault} from '../../mesh/model/fault-types.js';
import {exceedsNestingDepth, isPrintableId, isTcpEndpoint} from '../../mesh/model/wire.js';
import {CONTROL_VERSION, MAX_LINKS_PER_REQUEST, MAX_REQUEST_BYTES, MAX_DIGEST_CHARS, type ControlErrorCode, type ControlOp, type ControlRequest} from '../protocol.js';

/** One decoder for every request: making one loads a converter each time (decode() keeps no state between calls). */
const utf8 = new TextDecoder('utf-8', {fatal: true});
const OPS: ReadonlySet<string> = new Set<ControlOp>(['members', 'view', 'fault', 'clear', 'stop', 'join']);
/** A request is a flat object with a `fault` inside; deeper is refused before parsing. */
const MAX_DEPTH = 8;
/** A lease longer than a day is a typo, not an intent; 0 is "no expiry", said on purpose. */
export const MAX_LEASE_MS = 24 * 60 * 60 * 1000;
/** The longest delay or jitter a fault may add, as the node's fault plan accepts. */
const MAX_DELAY_MS = 60_000;

export type RequestProblem = {error: ControlErrorCode; message: string; id: string | number | null};

export type ParsedRequest = {ok: true; request: ControlRequest & {auth?: unknown}} | ({ok: false} & RequestProblem);

function problem(error: ControlErrorCode, message: string, id: string | number | null = null): ParsedRequest {
	return {ok: false, error, message, id};
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRequestId(value: unknown): value is string | number {
	return (typeof value === 'string' && value.length <= 128) || (typeof value === 'number' && Number.isFinite(value));
}

function optionalCount(fields: Record<string, unknown>, name: string, max: number): number | undefined | string {
	const value = fields[name];
	if (value === undefined || value === null) {
		return undefined;
	}

	return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max ? value : `\`${name}\` must be a whole number from 0 to ${max}`;
}

function probability(value: unknown): boolean {
	return typeof value === 'number' && value >= 0 && value <= 1;
}

function milliseconds(value: unknown): boolean {
	return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_DELAY_MS;
}

const INBOUND_FIELDS: Record<keyof InboundFault, (value: unknown) => boolean> = {
	drop: probability,
	delayMs: milliseconds,
	jitterMs: milliseconds,
	duplicate: probability,
	blackhole: (value) => typeof value === 'boolean',
};

const OUTBOUND_FIELDS: Record<keyof OutboundFault, (value: unknown) => boolean> = {
	drop: probability,
	delayMs: milliseconds,
	jitterMs: milliseconds,
};

/** A fault patch with known fields and valid values, or a one-line reason. */
function faultPatch<T extends string>(value: unknown, rules: Record<T, (value: unknown) => boolean>): Record<string, unknown> | string {
	if (!isRecord(value)) {
		return '`fault` must be an object, e.g. {"drop": 0.3}';
	}

	const patch: Record<string, unknown> = {};
	for (const [name, field] of Object.entries(value)) {
		const rule = (rules as Record<string, ((value: unknown) => boolean) | undefined>)[name];
		if (rule === undefined || !Object.hasOwn(rules, name)) {
			return `unknown fault field \`${name}\`; known: ${Object.keys(rules).join(', ')}`;
		}

		if (!rule(field)) {
			return `fault field \`${name}\` has a bad value`;
		}

		patch[name] = field;
	}

	return Object.keys(patch).length === 0 ? '`fault` sets nothing' : patch;
}

/** Parse and check one request frame. `defaultLeaseMs` fills a fault request's missing `leaseMs`. */
export function parseRequest(frame: Buffer, defaultLeaseMs: number): ParsedRequest {
	if (frame.length > MAX_REQUEST_BYTES) {
		return problem('too-large', `a request may be at most ${MAX_REQUEST_BYTES} bytes`);
	}

	if (exceedsNestingDepth(frame, MAX_DEPTH)) {
		return problem('malformed-json', `nested deeper than ${MAX_DEPTH}`);
	}

	let value: unknown;
	try {
		value = JSON.parse(utf8.decode(frame));
	} catch {
		return problem('malformed-json', 'not a JSON object in UTF-8');
	}

	if (!isRecord(value)) {
		return problem('malformed-json', 'a request is a JSON object');
	}

	const id = isRequestId(value['id']) ? value['id'] : null;
	if (id === null) {
		return problem('bad-request', '`id` must be a string (at most 128 characters) or a number');
	}

	if (value['v'] !== CONTROL_VERSION) {
		return problem('unsupported-version', `this node speaks control protocol v${CONTROL_VERSION}; send "v": ${CONTROL_VERSION}`, id);
	}

	const op = value['op'];
	if (typeof op !== 'string' || !OPS.has(op)) {
		return problem('unknown-op', `unknown op; known: ${[...OPS].join(', ')}`, id);
	}

	const base = {v: CONTROL_VERSION, id, auth: value['auth']} as const;
	switch (op as ControlOp) {
		case 'members':
		case 'view': {
			const offset = optionalCount(value, 'offset', Number.MAX_SAFE_INTEGER);
			const limit = optionalCount(value, 'limit', 100_000);
			if (typeof offset === 'string' || typeof limit === 'string') {
				return problem('bad-request', typeof offset === 'string' ? offset : limit as string, id);
			}

			const {brief} = value;
			if (brief !== undefined && brief !== null && typeof brief !== 'boolean') {
				return problem('bad-request', '`brief` must be true or false when given', id);
			}

			const {since} = value;
			if (since !== undefined && since !== null && (typeof since !== 'string' || since.length > MAX_DIGEST_CHARS)) {
				return problem('bad-request', `\`since\` must be a digest of at most ${MAX_DIGEST_CHARS} characters when given`, id);
			}

			return {ok: true, request: {...base, op: op as 'view', offset, limit, ...(brief === true ? {brief: true} : {}), ...(typeof since === 'string' ? {since} : {})}};
		}

		case 'clear':
		case 'stop': {
			return {ok: true, request: {...base, op: op as 'clear'}};
		}

		case 'fault': {
			return parseFault(value, base, defaultLeaseMs);
		}

		case 'join': {
			const {node: nodeId, endpoint, control, incarnation, observer} = value;
			if (typeof nodeId !== 'string' || !isPrintableId(nodeId)) {
				return problem('bad-request', '`node` must be the joining node id (1-64 printable characters)', id);
			}

			if (typeof endpoint !== 'string' || !isTcpEndpoint(endpoint)) {
				return problem('bad-request', '`endpoint` must be tcp://host:port', id);
			}

			if (control !== undefined && control !== null && (typeof control !== 'string' || !isTcpEndpoint(control))) {
				return problem('bad-request', '`control` must be tcp://host:port when given', id);
			}

			if (incarnation !== undefined && (typeof incarnation !== 'number' || !Number.isSafeInteger(incarnation) || incarnation < 0)) {
				return problem('bad-request', '`incarnation` must be a whole number of milliseconds', id);
			}

			if (observer !== undefined && observer !== null && typeof observer !== 'boolean') {
				return problem('bad-request', '`observer` must be true or false when given', id);
			}

			// The envelope's `id` is the request's; the joining node's id travels as `node`.
			return {
				ok: true,
				request: {
					...base,
					op: 'join',
					node: nodeId,
					endpoint,
					...(typeof control === 'string' ? {control} : {}),
					incarnation: typeof incarnation === 'number' ? incarnation : 0,
					...(observer === true ? {observer: true} : {}),
				},
			};
		}
	}
}

function parseFault(value: Record<string, unknown>, base: {v: 1; id: string | number; auth: unknown}, defaultLeaseMs: number): ParsedRequest {
	const {id} = base;
	const leaseMs = value['leaseMs'] ?? defaultLeaseMs;
	if (typeof leaseMs !== 'number' || !Number.isInteger(leaseMs) || leaseMs < 0 || leaseMs > MAX_LEASE_MS) {
		return problem('bad-request', `\`leaseMs\` must be a whole number from 0 (no expiry) to ${MAX_LEASE_MS}`, id);
	}

	switch (value['direction']) {
		case 'inbound': {
			const target = value['target'] ?? ALL_PEERS;
			if (typeof target !== 'string' || !isPrintableId(target)) {
				return problem('bad-request', '`target` must be a peer id or "all"', id);
			}

			const fault = faultPatch(value['fault'], INBOUND_FIELDS);
			if (typeof fault === 'string') {
				return problem('bad-request', fault, id);
			}

			return {ok: true, request: {...base, op: 'fault', direction: 'inbound', target, fault, leaseMs}};
		}

		case 'outbound': {
			const fault = faultPatch(value['fault'], OUTBOUND_FIELDS);
			if (typeof fault === 'string') {
				return problem('bad-request', fault, id);
			}

			return {ok: true, request: {...base, op: 'fault', direction: 'outbound', fault, leaseMs}};
		}

		case 'link': {
			const peer = value['peer'];
			if (typeof peer !== 'string' || !isPrintableId(peer) || peer === ALL_PEERS) {
				return problem('bad-request', '`peer` must be one peer id', id);
			}

			const blackhole = value['blackhole'] ?? true;
			if (typeof blackhole !== 'boolean') {
				return problem('bad-request', '`blackhole` must be true or false', id);
			}

			return {ok: true, request: {...base, op: 'fault', direction: 'link', peer, blackhole, leaseMs}};
		}

		case 'links': {
			const peers = value['peers'];
			if (!Array.isArray(peers) || peers.length === 0 || peers.length > MAX_LINKS_PER_REQUEST) {
				return problem('bad-request', `\`peers\` must be a list of 1 to ${MAX_LINKS_PER_REQUEST} peer ids`, id);
			}

			if (!peers.every((peer): peer is string => typeof peer === 'string' && isPrintableId(peer) && peer !== ALL_PEERS)) {
				return problem('bad-request', '`peers` must hold peer ids only (not "all")', id);
			}

			const blackhole = value['blackhole'] ?? true;
			if (typeof blackhole !== 'boolean') {
				return problem('bad-request', '`blackhole` must be true or false', id);
			}

			return {ok: true, request: {...base, op: 'fault', direction: 'links', peers: [...new Set(peers)], blackhole, leaseMs}};
		}

		default: {
			return problem('bad-request', '`direction` must be inbound, outbound, link or links', id);
		}
	}
}
