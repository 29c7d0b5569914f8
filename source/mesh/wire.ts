/**
Wire protocol v1: one ZeroMQ frame holding one UTF-8 JSON object. It interoperates both ways with the
original Python nodes, which send exactly `{"node_id": "ee15c401", "phase": 0.0, "lamport_time": 64}`.

Decoding never throws: every frame comes back either as a message or as a counted reject reason.
*/

/** Frames larger than this are refused by the subscriber socket itself (ZeroMQ `maxMessageSize`). */
export const MAX_MESSAGE_BYTES = 64 * 1024;
export const PROTOCOL_VERSION = 1;
export const MAX_NODE_ID_LENGTH = 64;
/**
A v1 message is one flat object; extra fields may nest a little. V8's JSON.parse takes tens of
milliseconds on 64 KiB of `[[[[…`, so a peer could stall a node with a few such frames a second;
a linear scan refuses them first, at a cost of microseconds.
*/
export const MAX_NESTING_DEPTH = 32;
const NESTING_SCAN_FROM_BYTES = 1024;

/** Every reason a frame can be refused, in the order a frame meets the checks. */
export const REJECT_REASONS = [
	'oversize',
	'multipart',
	/** Arrays or objects nested deeper than MAX_NESTING_DEPTH: refused before parsing, which they make slow. */
	'too-deep',
	'malformed-json',
	'not-object',
	'missing-field',
	'bad-type',
	'non-finite',
	'own-id',
	'stale',
	'lamport-jump',
	'peer-limit',
	/** More than the per-peer rate allows (ten times the rate it announces, or 100/s). */
	'rate-limit',
	/** A node id that the allow file binds to another key than the connection's. */
	'id-mismatch',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export type WireMessage = {
	nodeId: string;
	phaseRad: number;
	lamportTime: number;
	/** Milliseconds since the epoch when the sender's process started; 0 for legacy nodes. */
	incarnation: number;
	omegaRadPerS?: number;
	hz?: number;
	endpoint?: string;
	/** Coupling weight in [0, 1]; 1 when absent. */
	weight: number;
	latencyMs?: number;
	tokenHz?: number;
};

export type DecodeResult = {ok: true; message: WireMessage} | {ok: false; reason: RejectReason};

const REQUIRED_FIELDS = ['node_id', 'phase', 'lamport_time'] as const;

// Fatal so that invalid UTF-8 is refused instead of silently turned into U+FFFD.
const utf8 = new TextDecoder('utf-8', {fatal: true});

/** C0 and C1 control characters and DEL: what makes a string unsafe to print or to use as an id. */
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F-\u009F]/u;

export function isPrintableId(id: string): boolean {
	if (id.length === 0 || CONTROL_CHARACTERS.test(id)) {
		return false;
	}

	// Length in code points, so an id of 64 emoji is as long as one of 64 letters.
	let codePoints = 0;
	for (const _ of id) {
		if (++codePoints > MAX_NODE_ID_LENGTH) {
			return false;
		}
	}

	return true;
}

function reject(reason: RejectReason): DecodeResult {
	return {ok: false, reason};
}

/** Non-negative safe integer: Lamport times and incarnations. */
function isCount(value: unknown): value is number {
	return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
Decode one frame.

`ownId` lets the decoder refuse our own messages echoed back (a node listed as its own peer).
`maxBytes` is the node's `--max-message-bytes`, which the socket enforces first.
*/
export function decode(frame: Uint8Array | string, ownId?: string, maxBytes = MAX_MESSAGE_BYTES): DecodeResult {
	const byteLength = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
	if (byteLength > maxBytes) {
		return reject('oversize');
	}

	// A frame can nest no deeper than it is long, and parsing a short one is fast however it nests.
	if (byteLength > NESTING_SCAN_FROM_BYTES && exceedsNestingDepth(frame, MAX_NESTING_DEPTH)) {
		return reject('too-deep');
	}

	let parsed: unknown;
	try {
		parsed = JSON.parse(typeof frame === 'string' ? frame : utf8.decode(frame));
	} catch {
		// Invalid UTF-8, bare NaN/Infinity from Python's json.dumps, truncation, nesting too deep.
		return reject('malformed-json');
	}

	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		return reject('not-object');
	}

	const fields = parsed as Record<string, unknown>;
	for (const name of REQUIRED_FIELDS) {
		if (!Object.hasOwn(fields, name) || fields[name] === null) {
			return reject('missing-field');
		}
	}

	const {node_id: nodeId, phase, lamport_time: lamportTime} = fields;
	if (typeof nodeId !== 'string' || !isPrintableId(nodeId)) {
		return reject('bad-type');
	}

	if (typeof phase !== 'number') {
		return reject('bad-type');
	}

	// JSON.parse turns 1e400 into Infinity: a finite-looking literal that is not.
	if (!Number.isFinite(phase)) {
		return reject('non-finite');
	}

	if (!isCount(lamportTime)) {
		return reject(typeof lamportTime === 'number' && !Number.isFinite(lamportTime) ? 'non-finite' : 'bad-type');
	}

	const message: WireMessage = {nodeId, phaseRad: phase, lamportTime, incarnation: 0, weight: 1};

	const optional = decodeOptionalFields(fields, message);
	if (optional !== undefined) {
		return reject(optional);
	}

	if (ownId !== undefined && nodeId === ownId) {
		return reject('own-id');
	}

	return {ok: true, message};
}

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Whether JSON text opens more than `maxDepth` arrays or objects at once (strings skipped). */
export function exceedsNestingDepth(frame: Uint8Array | string, maxDepth: number): boolean {
	const bytes = typeof frame === 'string' ? Buffer.from(frame) : frame;
	const {length} = bytes;
	let depth = 0;
	let inString = false;
	for (let index = 0; index < length; index++) {
		const code = bytes[index]!;
		if (inString) {
			if (code === BACKSLASH) {
				index++;
			} else if (code === QUOTE) {
				inString = false;
			}
		} else if (code === QUOTE) {
			inString = true;
		} else if (code === OPEN_BRACKET || code === OPEN_BRACE) {
			if (++depth > maxDepth) {
				return true;
			}
		} else if (code === CLOSE_BRACKET || code === CLOSE_BRACE) {
			depth--;
		}
	}

	return false;
}

function finiteOrReason(value: unknown): RejectReason | undefined {
	if (typeof value !== 'number') {
		return 'bad-type';
	}

	return Number.isFinite(value) ? undefined : 'non-finite';
}

/** Optional fields: absent (or null) is fine; present with the wrong type is not. */
function decodeOptionalFields(fields: Record<string, unknown>, message: WireMessage): RejectReason | undefined {
	const {v, incarnation, omega, hz, endpoint, weight, latency_ms: latencyMs, token_hz: tokenHz} = fields;

	if (v !== undefined && v !== null && v !== PROTOCOL_VERSION) {
		return 'bad-type';
	}

	if (incarnation !== undefined && incarnation !== null) {
		if (!isCount(incarnation)) {
			return typeof incarnation === 'number' && !Number.isFinite(incarnation) ? 'non-finite' : 'bad-type';
		}

		message.incarnation = incarnation;
	}

	// Written out rather than looped over a table: this runs for every message, and a table of
	// closures would be allocated anew each time.
	if (omega !== undefined && omega !== null) {
		const reason = finiteOrReason(omega);
		if (reason) {
			return reason;
		}

		message.omegaRadPerS = omega as number;
	}

	if (latencyMs !== undefined && latencyMs !== null) {
		const reason = finiteOrReason(latencyMs);
		if (reason) {
			return reason;
		}

		message.latencyMs = latencyMs as number;
	}

	if (tokenHz !== undefined && tokenHz !== null) {
		const reason = finiteOrReason(tokenHz);
		if (reason) {
			return reason;
		}

		message.tokenHz = tokenHz as number;
	}

	if (hz !== undefined && hz !== null) {
		const reason = finiteOrReason(hz);
		if (reason) {
			return reason;
		}

		if ((hz as number) <= 0) {
			return 'bad-type';
		}

		message.hz = hz as number;
	}

	if (weight !== undefined && weight !== null) {
		const reason = finiteOrReason(weight);
		if (reason) {
			return reason;
		}

		if ((weight as number) < 0 || (weight as number) > 1) {
			return 'bad-type';
		}

		message.weight = weight as number;
	}

	if (endpoint !== undefined && endpoint !== null) {
		if (typeof endpoint !== 'string' || endpoint.length > 256 || CONTROL_CHARACTERS.test(endpoint)) {
			return 'bad-type';
		}

		message.endpoint = endpoint;
	}

	return undefined;
}

export type OutboundState = {
	nodeId: string;
	phaseRad: number;
	lamportTime: number;
	incarnation: number;
	omegaRadPerS: number;
	hz: number;
	endpoint: string;
};

/**
Encode this node's state. The three legacy fields come first and keep their legacy names, so an
original Python node reads the message as its own kind.
*/
export function encode(state: OutboundState): string {
	return JSON.stringify({
		node_id: state.nodeId,
		phase: state.phaseRad,
		lamport_time: state.lamportTime,
		v: PROTOCOL_VERSION,
		incarnation: state.incarnation,
		omega: state.omegaRadPerS,
		hz: state.hz,
		endpoint: state.endpoint,
	});
}
