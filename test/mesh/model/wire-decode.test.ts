import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {decode, exceedsNestingDepth, MAX_MESSAGE_BYTES, MAX_NESTING_DEPTH, MAX_NODE_ID_LENGTH, type DecodeResult, type RejectReason} from '../../../source/mesh/model/wire.js';

/**
The decoder as it was before the receive path was made faster (commit 8ed33d5), kept as the
reference: the fast one must refuse every frame for the same reason and read every field the same.
*/
function referenceDecode(frame: Uint8Array | string, ownId?: string, maxBytes = MAX_MESSAGE_BYTES): DecodeResult {
	const reject = (reason: RejectReason): DecodeResult => ({ok: false, reason});
	const control = /[\u0000-\u001F\u007F-\u009F]/u;
	const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
	const finiteOrReason = (value: unknown): RejectReason | undefined =>
		typeof value === 'number' ? Number.isFinite(value) ? undefined : 'non-finite' : 'bad-type';
	const isPrintableId = (id: string): boolean => {
		if (id.length === 0 || control.test(id)) {
			return false;
		}

		let codePoints = 0;
		for (const _ of id) {
			if (++codePoints > MAX_NODE_ID_LENGTH) {
				return false;
			}
		}

		return true;
	};

	const byteLength = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
	if (byteLength > maxBytes) {
		return reject('oversize');
	}

	// At every size: a reference with the decoder's old 1,024-byte threshold passed short deep frames.
	if (exceedsNestingDepth(frame, MAX_NESTING_DEPTH)) {
		return reject('too-deep');
	}

	let parsed: unknown;
	try {
		parsed = JSON.parse(typeof frame === 'string' ? frame : new TextDecoder('utf-8', {fatal: true}).decode(frame));
	} catch {
		return reject('malformed-json');
	}

	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		return reject('not-object');
	}

	const fields = parsed as Record<string, unknown>;
	for (const name of ['node_id', 'phase', 'lamport_time']) {
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

	if (!Number.isFinite(phase)) {
		return reject('non-finite');
	}

	if (!isCount(lamportTime)) {
		return reject(typeof lamportTime === 'number' && !Number.isFinite(lamportTime) ? 'non-finite' : 'bad-type');
	}

	const message: Record<string, unknown> = {nodeId, phaseRad: phase, lamportTime, incarnation: 0, weight: 1};
	const {v, incarnation, omega, hz, endpoint, weight, latency_ms: latencyMs, token_hz: tokenHz} = fields;
	const present = (value: unknown) => value !== undefined && value !== null;
	if (present(v) && v !== 1) {
		return reject('bad-type');
	}

	if (present(incarnation)) {
		if (!isCount(incarnation)) {
			return reject(typeof incarnation === 'number' && !Number.isFinite(incarnation) ? 'non-finite' : 'bad-type');
		}

		message['incarnation'] = incarnation;
	}

	for (const [value, name] of [
		[omega, 'omegaRadPerS'],
		[latencyMs, 'latencyMs'],
		[tokenHz, 'tokenHz'],
	] as const) {
		if (present(value)) {
			const reason = finiteOrReason(value);
			if (reason) {
				return reject(reason);
			}

			message[name] = value;
		}
	}

	if (present(hz)) {
		const reason = finiteOrReason(hz) ?? ((hz as number) <= 0 ? 'bad-type' : undefined);
		if (reason) {
			return reject(reason);
		}

		message['hz'] = hz;
	}

	if (present(weight)) {
		const reason = finiteOrReason(weight) ?? ((weight as number) < 0 || (weight as number) > 1 ? 'bad-type' : undefined);
		if (reason) {
			return reject(reason);
		}

		message['weight'] = weight;
	}

	if (present(endpoint)) {
		if (typeof endpoint !== 'string' || endpoint.length > 256 || control.test(endpoint)) {
			return reject('bad-type');
		}

		message['endpoint'] = endpoint;
	}

	if (ownId !== undefined && nodeId === ownId) {
		return reject('own-id');
	}

	// The reference builds its message field by field; the comparison checks every field.
	// eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- a Record built above, checked against the real decoder's result.
	return {ok: true, message} as DecodeResult;
}

/** Arrays and objects nested around the depth limit, in frames far under 1,024 bytes. */
const nestedValue = fc
	.record({depth: fc.integer({min: MAX_NESTING_DEPTH - 3, max: MAX_NESTING_DEPTH + 3}), objects: fc.boolean()})
	.map(({depth, objects}) => {
		let value: unknown = 1;
		for (let level = 0; level < depth; level++) {
			value = objects ? {a: value} : [value];
		}

		return value;
	});

/** Values a field might hold: right, wrong, and on the edges of right. */
const fieldValue = fc.oneof(
	nestedValue,
	// eslint-disable-next-line no-loss-of-precision -- 1e400 is Infinity on purpose: a value JSON cannot hold.
	fc.constantFrom(null, 0, -0, 1, -1, 0.5, 2, 1e400, -1e400, 2 ** 53, 2 ** 53 - 1, 1.5, '', 'a', 'ee15c401', true, false),
	fc.double(),
	fc.integer(),
	fc.string({maxLength: 70}),
	fc.string({unit: 'binary', maxLength: 70}),
	fc.array(fc.integer(), {maxLength: 3}),
	fc.dictionary(fc.string({maxLength: 3}), fc.integer(), {maxKeys: 2}),
);

/** A valid value for each protocol field, and how often a drawn frame holds the field at all. */
const validField: Record<string, fc.Arbitrary<unknown>> = {
	node_id: fc.oneof(fc.constantFrom('ee15c401', 'a', 'é'.repeat(64)), fc.string({minLength: 1, maxLength: 64})),
	phase: fc.double({noNaN: true, noDefaultInfinity: true}),
	lamport_time: fc.nat(),
	v: fc.constant(1),
	incarnation: fc.constantFrom(0, 1_764_130_000_000),
	omega: fc.double({noNaN: true, noDefaultInfinity: true}),
	hz: fc.constantFrom(0.5, 10, 1000),
	endpoint: fc.constantFrom('tcp://127.0.0.1:5555', '', 'x'.repeat(256), 'x'.repeat(257)),
	weight: fc.constantFrom(0, 0.5, 1),
	latency_ms: fc.constantFrom(0, 12.5),
	token_hz: fc.constantFrom(0, 4),
};

/**
JSON text of a message that is mostly right: each protocol field present or not, each value either
valid or drawn from fieldValue, sometimes an unknown field or a duplicate key. Written by hand, so
that duplicate keys and 1e400 (which JSON.stringify cannot write) occur.
*/
const candidateFrame = fc
	.record({
		fields: fc.tuple(
			...Object.entries(validField).map(([key, valid]) =>
				fc.tuple(fc.constant(key), fc.oneof({weight: 3, arbitrary: valid}, {weight: 1, arbitrary: fieldValue}), fc.nat(9)),
			),
		),
		extra: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...Object.keys(validField)), fc.string({maxLength: 6})), fieldValue), {maxLength: 2}),
		spaced: fc.boolean(),
	})
	.map(({fields, extra, spaced}) => {
		const kept = fields.filter(([key, , draw]) => draw > (['node_id', 'phase', 'lamport_time'].includes(key) ? 0 : 4));
		const pairs = [...kept.map(([key, value]) => [key, value] as const), ...extra];
		const json = (value: unknown) =>
			typeof value === 'number' && !Number.isFinite(value) ? (value > 0 ? '1e400' : '-1e400') : JSON.stringify(value);
		return `{${pairs.map(([key, value]) => `${JSON.stringify(key)}:${spaced ? ' ' : ''}${json(value)}`).join(spaced ? ', ' : ',')}}`;
	});

describe('decode, made faster, decides as before', () => {
	it('for objects built from the protocol fields with any values, as text and as bytes', () => {
		fc.assert(
			fc.property(candidateFrame, fc.option(fc.constantFrom('ee15c401', 'a', ''), {nil: undefined}), (frame, ownId) => {
				expect(decode(frame, ownId)).toEqual(referenceDecode(frame, ownId));
				const bytes = Buffer.from(frame);
				expect(decode(bytes, ownId)).toEqual(referenceDecode(bytes, ownId));
			}),
			{numRuns: 3000},
		);
	});

	it('for any JSON and any bytes', () => {
		fc.assert(
			fc.property(fc.json(), (text) => {
				expect(decode(text)).toEqual(referenceDecode(text));
			}),
		);
		fc.assert(
			fc.property(fc.uint8Array({maxLength: 200}), (bytes) => {
				expect(decode(bytes)).toEqual(referenceDecode(bytes));
			}),
		);
	});

	it('with a tampered Object.prototype: an inherited field does not count', () => {
		const prototype = Object.prototype as Record<string, unknown>;
		try {
			prototype['lamport_time'] = 5;
			prototype['v'] = 1;
			for (const frame of ['{"node_id": "a", "phase": 0}', '{"node_id": "a", "phase": 0, "lamport_time": 7}']) {
				expect(decode(frame)).toEqual(referenceDecode(frame));
			}

			expect(decode('{"node_id": "a", "phase": 0}')).toEqual({ok: false, reason: 'missing-field'});
		} finally {
			delete prototype['lamport_time'];
			delete prototype['v'];
		}
	});

	it('for a frame with an own __proto__ key, and for the message a node of ours sends', () => {
		for (const frame of [
			'{"__proto__": {"node_id": "a", "phase": 0, "lamport_time": 1}}',
			'{"node_id": "a", "phase": 0, "lamport_time": 1, "__proto__": {"v": 2}}',
			'{"node_id":"ee15c401","phase":-1.25,"lamport_time":812,"v":1,"incarnation":1764130000000,"omega":3.14,"hz":10,"endpoint":"tcp://127.0.0.1:5555"}',
		]) {
			expect(decode(frame)).toEqual(referenceDecode(frame));
		}
	});
});
