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
a linear scan refuses them first, at a cost of microseconds. The limit holds for frames of every
size, as documented, though a short one would parse fast however deep.
*/
export const MAX_NESTING_DEPTH = 32;

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
	/** An incarnation (a process start time) more than a day ahead of our wall clock. */
	'incarnation-ahead',
	'stale',
	/** A Lamport time over 2^52, or a leap ahead of our clock that no second source confirms. */
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
	/** The sender's control endpoint (`tcp://host:port`), when it runs a control plane; legacy nodes send none. */
	control?: string;
	/** Coupling weight in [0, 1]; 1 when absent. */
	weight: number;
	latencyMs?: number;
	tokenHz?: number;
	/**
	When the sender took the phase it sends: wall-clock milliseconds since the epoch (`sent_ms`),
	from nodes that stamp their messages; undefined from legacy ones. The receiver reads the age of
	the phase from it (phase-estimator.ts).
	*/
	sentMs?: number;
};

export type DecodeResult = {ok: true; message: WireMessage} | {ok: false; reason: RejectReason};

// Fatal so that invalid UTF-8 is refused instead of silently turned into U+FFFD.
const utf8 = new TextDecoder('utf-8', {fatal: true});

/** C0 and C1 control characters and DEL: what makes a string unsafe to print or to use as an id. */
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F-\u009F]/u;

export function isPrintableId(id: string): boolean {
	if (id.length === 0 || CONTROL_CHARACTERS.test(id)) {
		return false;
	}

	// Length in code points, so an id of 64 emoji is as long as one of 64 letters. A string has no
	// more code points than UTF-16 units, so only a long one needs counting.
	if (id.length <= MAX_NODE_ID_LENGTH) {
		return true;
	}

	let codePoints = 0;
	for (const _ of id) {
		if (++codePoints > MAX_NODE_ID_LENGTH) {
			return false;
		}
	}

	return true;
}

/** Non-negative safe integer: Lamport times and incarnations. */
function isCount(value: unknown): value is number {
	return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Why a count field is refused: `non-finite` for 1e400 and the like, `bad-type` for anything else. */
function countReason(value: unknown): RejectReason {
	return typeof value === 'number' && !Number.isFinite(value) ? 'non-finite' : 'bad-type';
}

/**
Decode one frame.

`ownId` lets the decoder refuse our own messages echoed back (a node listed as its own peer).
`maxBytes` is the node's `--max-message-bytes`, which the socket enforces first.
*/
export function decode(frame: Uint8Array | string, ownId?: string, maxBytes = MAX_MESSAGE_BYTES): DecodeResult {
	const decoded = decodeMessage(frame, ownId, maxBytes);
	return typeof decoded === 'string' ? {ok: false, reason: decoded} : {ok: true, message: decoded};
}

/**
`decode` without the result wrapper: the message, or the reason it is refused (a string). The node's
receive path uses this one, so that a message costs one object and not two.
*/
export function decodeMessage(
	frame: Uint8Array | string,
	ownId?: string,
	maxBytes = MAX_MESSAGE_BYTES,
): WireMessage | RejectReason {
	const isText = typeof frame === 'string';
	const byteLength = isText ? Buffer.byteLength(frame) : frame.byteLength;
	if (byteLength > maxBytes) {
		return 'oversize';
	}

	let text: string;
	if (isText) {
		text = frame;
	} else {
		try {
			text = utf8.decode(frame);
		} catch {
			// Invalid UTF-8; the depth is checked first, as for any frame.
			return exceedsNestingDepth(frame, MAX_NESTING_DEPTH) ? 'too-deep' : 'malformed-json';
		}
	}

	// Scanned on the text, which has the same brackets and quotes as the bytes: UTF-8 never encodes
	// another character with an ASCII byte. Only a frame with more than one bracket can nest, and a
	// message has one `{`, first, and no `[`: two searches in native code pass it (about 20 ns), where
	// a scan in JavaScript costs a quarter of what decoding it does.
	if (mayNest(text) && exceedsNestingDepth(text, MAX_NESTING_DEPTH)) {
		return 'too-deep';
	}

	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		// Bare NaN/Infinity from Python's json.dumps, truncation, nesting too deep.
		return 'malformed-json';
	}

	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		return 'not-object';
	}

	return validate(parsed as Record<string, unknown>, ownId);
}

/**
The checks on a parsed object, in the order a frame meets them: the first that fails is the reason.
Fields are read by name (one inline-cached load each, the same few object shapes every time).
*/
function validate(fields: Record<string, unknown>, ownId: string | undefined): WireMessage | RejectReason {
	const {node_id: nodeId, phase, lamport_time: lamportTime} = fields;
	if (
		nodeId === undefined ||
		nodeId === null ||
		phase === undefined ||
		phase === null ||
		lamportTime === undefined ||
		lamportTime === null
	) {
		return 'missing-field';
	}

	// Own properties only: a field inherited from a tampered Object.prototype does not count. Asked
	// only when the prototype has such a field, since three own-property lookups per message cost
	// about as much as the rest of these checks, and reading the prototype costs next to nothing.
	if (
		prototypeHasRequiredField() &&
		(!Object.hasOwn(fields, 'node_id') || !Object.hasOwn(fields, 'phase') || !Object.hasOwn(fields, 'lamport_time'))
	) {
		return 'missing-field';
	}

	if (typeof nodeId !== 'string' || !isPrintableId(nodeId)) {
		return 'bad-type';
	}

	if (typeof phase !== 'number') {
		return 'bad-type';
	}

	// JSON.parse turns 1e400 into Infinity: a finite-looking literal that is not.
	if (!Number.isFinite(phase)) {
		return 'non-finite';
	}

	if (!isCount(lamportTime)) {
		return countReason(lamportTime);
	}

	// Optional fields: absent (or null) is fine; present with the wrong type is not. Written out
	// rather than looped over a table: this runs for every message.
	const {v, incarnation, omega, hz, endpoint, control, weight, latency_ms: latencyMs, token_hz: tokenHz} = fields;
	if (v !== undefined && v !== null && v !== PROTOCOL_VERSION) {
		return 'bad-type';
	}

	const hasIncarnation = incarnation !== undefined && incarnation !== null;
	if (hasIncarnation && !isCount(incarnation)) {
		return countReason(incarnation);
	}

	const omegaReason = optionalFiniteReason(omega);
	if (omegaReason !== undefined) {
		return omegaReason;
	}

	const latencyReason = optionalFiniteReason(latencyMs);
	if (latencyReason !== undefined) {
		return latencyReason;
	}

	const {sent_ms: sentMs} = fields;
	const sentReason = optionalFiniteReason(sentMs);
	if (sentReason !== undefined) {
		return sentReason;
	}

	const tokenReason = optionalFiniteReason(tokenHz);
	if (tokenReason !== undefined) {
		return tokenReason;
	}

	const hzReason = optionalFiniteReason(hz);
	if (hzReason !== undefined) {
		return hzReason;
	}

	if (typeof hz === 'number' && hz <= 0) {
		return 'bad-type';
	}

	const weightReason = optionalFiniteReason(weight);
	if (weightReason !== undefined) {
		return weightReason;
	}

	if (typeof weight === 'number' && (weight < 0 || weight > 1)) {
		return 'bad-type';
	}

	if (
		endpoint !== undefined &&
		endpoint !== null &&
		(typeof endpoint !== 'string' || endpoint.length > 256 || CONTROL_CHARACTERS.test(endpoint))
	) {
		return 'bad-type';
	}

	if (control !== undefined && control !== null && (typeof control !== 'string' || !isTcpEndpoint(control))) {
		return 'bad-type';
	}

	if (ownId !== undefined && nodeId === ownId) {
		return 'own-id';
	}

	// Every field present, absent ones as undefined: one object shape for every message, whatever
	// its sender wrote, keeps the code that reads messages monomorphic.
	return {
		nodeId,
		phaseRad: phase,
		lamportTime,
		incarnation: hasIncarnation ? (incarnation) : 0,
		omegaRadPerS: asNumber(omega),
		hz: asNumber(hz),
		endpoint: typeof endpoint === 'string' ? endpoint : undefined,
		control: typeof control === 'string' ? control : undefined,
		weight: typeof weight === 'number' ? weight : 1,
		latencyMs: asNumber(latencyMs),
		tokenHz: asNumber(tokenHz),
		sentMs: asNumber(sentMs),
	};
}

const OBJECT_PROTOTYPE = Object.prototype as Record<string, unknown>;

function prototypeHasRequiredField(): boolean {
	return (
		OBJECT_PROTOTYPE['node_id'] !== undefined ||
		OBJECT_PROTOTYPE['phase'] !== undefined ||
		OBJECT_PROTOTYPE['lamport_time'] !== undefined
	);
}

/** An optional finite number: absent (or null) passes; anything but a finite number has a reason. */
function optionalFiniteReason(value: unknown): RejectReason | undefined {
	if (value === undefined || value === null) {
		return undefined;
	}

	if (typeof value !== 'number') {
		return 'bad-type';
	}

	return Number.isFinite(value) ? undefined : 'non-finite';
}

/** A validated optional number, or undefined when it was absent or null. */
function asNumber(value: unknown): number | undefined {
	return typeof value === 'number' ? value : undefined;
}

/**
Endpoints that passed the check lately. Every message of a peer with a control plane carries the
same `control` field, 10 times a second from each peer: a set lookup instead of a regular
expression and its match array per message. Bounded: a flood of distinct endpoints only empties it.
*/
const WELL_FORMED_ENDPOINTS = new Set<string>();
const MAX_REMEMBERED_ENDPOINTS = 1024;

const TCP_ENDPOINT = /^tcp:\/\/(?:\[[\da-fA-F:.]+\]|[A-Za-z\d.-]+):(\d{1,5})$/;

/**
A well-formed `tcp://host:port` to dial: a host name, an IPv4 address or a bracketed IPv6 one (no
`*`, no interface name), a port in 1–65535, at most 256 characters.
*/
export function isTcpEndpoint(text: string): boolean {
	if (WELL_FORMED_ENDPOINTS.has(text)) {
		return true;
	}

	if (text.length > 256) {
		return false;
	}

	const match = TCP_ENDPOINT.exec(text);
	const port = match === null ? 0 : Number(match[1]);
	const wellFormed = port >= 1 && port <= 65_535;
	if (wellFormed) {
		if (WELL_FORMED_ENDPOINTS.size >= MAX_REMEMBERED_ENDPOINTS) {
			WELL_FORMED_ENDPOINTS.clear();
		}

		WELL_FORMED_ENDPOINTS.add(text);
	}

	return wellFormed;
}

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
Whether the text holds a `[`, or a `{` after its first character: what any nesting needs. A frame
that opens with spaces is scanned for nothing.
*/
function mayNest(text: string): boolean {
	return text.includes('[') || text.includes('{', 1);
}

/**
Whether JSON text opens more than `maxDepth` arrays or objects at once (strings skipped). A string
is read by UTF-16 units, bytes by bytes: the same answer, since every character that counts is ASCII.
*/
export function exceedsNestingDepth(frame: Uint8Array | string, maxDepth: number): boolean {
	return typeof frame === 'string' ? textExceedsNestingDepth(frame, maxDepth) : bytesExceedNestingDepth(frame, maxDepth);
}

function textExceedsNestingDepth(text: string, maxDepth: number): boolean {
	const {length} = text;
	let depth = 0;
	let inString = false;
	for (let index = 0; index < length; index++) {
		const code = text.charCodeAt(index);
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

function bytesExceedNestingDepth(bytes: Uint8Array, maxDepth: number): boolean {
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

export type OutboundState = {
	nodeId: string;
	phaseRad: number;
	lamportTime: number;
	incarnation: number;
	omegaRadPerS: number;
	hz: number;
	endpoint: string;
	/** Our control endpoint, announced so that whoever hears us can reach it; absent with --no-control. */
	control?: string;
	/** Wall-clock milliseconds since the epoch at which `phaseRad` was taken; sent as `sent_ms`. */
	sentMs?: number;
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
		// Undefined is left out by JSON.stringify: a node without a control plane sends no field.
		control: state.control,
		sent_ms: state.sentMs,
	});
}
