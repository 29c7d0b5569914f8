import fc from 'fast-check';
import {describe, expect, it} from 'vitest';
import {decode, encode, MAX_MESSAGE_BYTES, MAX_NESTING_DEPTH} from '../../../source/mesh/model/wire.js';

const legacy = '{"node_id": "ee15c401", "phase": 0.0, "lamport_time": 64}';

describe('decode', () => {
	it('accepts the exact legacy message of the original Python node', () => {
		expect(decode(Buffer.from(legacy))).toEqual({
			ok: true,
			message: {nodeId: 'ee15c401', phaseRad: 0, lamportTime: 64, incarnation: 0, weight: 1},
		});
	});

	it('reads the optional fields', () => {
		const result = decode(
			'{"node_id":"a","phase":1.5,"lamport_time":3,"v":1,"incarnation":17,"omega":3.1,"hz":10,"endpoint":"tcp://127.0.0.1:5555","weight":0.5,"latency_ms":12,"token_hz":4}',
		);
		expect(result).toEqual({
			ok: true,
			message: {
				nodeId: 'a',
				phaseRad: 1.5,
				lamportTime: 3,
				incarnation: 17,
				omegaRadPerS: 3.1,
				hz: 10,
				endpoint: 'tcp://127.0.0.1:5555',
				weight: 0.5,
				latencyMs: 12,
				tokenHz: 4,
			},
		});
	});

	it.each([
		['malformed-json', '{"node_id": "a", "phase": NaN, "lamport_time": 1}'],
		['malformed-json', '{"node_id": "a", "phase": Infinity, "lamport_time": 1}'],
		['malformed-json', '{"node_id": "a", "pha'],
		['malformed-json', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
		['not-object', '[1, 2, 3]'],
		['not-object', '"node_id"'],
		['not-object', 'null'],
		['missing-field', '{"node_id": "a", "phase": 0.5}'],
		['missing-field', '{"phase": 0.5, "lamport_time": 1}'],
		['missing-field', '{"node_id": "a", "phase": null, "lamport_time": 1}'],
		['bad-type', '{"node_id": 7, "phase": 0.5, "lamport_time": 1}'],
		['bad-type', '{"node_id": "", "phase": 0.5, "lamport_time": 1}'],
		['bad-type', `{"node_id": "${'x'.repeat(65)}", "phase": 0.5, "lamport_time": 1}`],
		['bad-type', String.raw`{"node_id": "a\u001b[31m", "phase": 0.5, "lamport_time": 1}`],
		['bad-type', '{"node_id": "a", "phase": "0.5", "lamport_time": 1}'],
		['bad-type', '{"node_id": "a", "phase": 0.5, "lamport_time": -1}'],
		['bad-type', '{"node_id": "a", "phase": 0.5, "lamport_time": 1.5}'],
		['bad-type', '{"node_id": "a", "phase": 0.5, "lamport_time": 1e20}'],
		['bad-type', '{"node_id": "a", "phase": 0.5, "lamport_time": 1, "weight": 2}'],
		['bad-type', '{"node_id": "a", "phase": 0.5, "lamport_time": 1, "v": 2}'],
		['non-finite', '{"node_id": "a", "phase": 1e400, "lamport_time": 1}'],
		['non-finite', '{"node_id": "a", "phase": 0.5, "lamport_time": 1, "omega": -1e999}'],
		['oversize', `{"node_id": "a", "phase": 0.5, "lamport_time": 1, "pad": "${'x'.repeat(MAX_MESSAGE_BYTES)}"}`],
	])('refuses as %s (case %#)', (reason, frame) => {
		expect(decode(frame)).toEqual({ok: false, reason});
	});

	it('refuses frames nested deeper than MAX_NESTING_DEPTH as too-deep at every size, and reads brackets in strings as text', () => {
		const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
		// The message object is the first level.
		const frame = (depth: number) => `{"node_id":"a","phase":0,"lamport_time":1,"x":${nested(depth - 1)}}`;
		expect(MAX_NESTING_DEPTH).toBe(32);
		expect(decode(frame(32))).toMatchObject({ok: true});
		expect(decode(frame(33))).toEqual({ok: false, reason: 'too-deep'});
		expect(decode(Buffer.from(frame(33)))).toEqual({ok: false, reason: 'too-deep'});
		expect(Buffer.byteLength(frame(40))).toBeLessThan(200);
		expect(decode(frame(40))).toEqual({ok: false, reason: 'too-deep'});
		const objects = `{"node_id":"a","phase":0,"lamport_time":1,"x":${'{"y":'.repeat(40)}1${'}'.repeat(40)}}`;
		expect(decode(objects)).toEqual({ok: false, reason: 'too-deep'});
		// Depth comes before the other checks, whatever else is wrong with the frame.
		expect(decode(Buffer.concat([Buffer.from('['.repeat(40)), Buffer.from([0xff])]))).toEqual({ok: false, reason: 'too-deep'});
		expect(decode('['.repeat(40))).toEqual({ok: false, reason: 'too-deep'});
		expect(decode(`{"node_id":"a[{","phase":0,"lamport_time":1,"x":"${'['.repeat(40)}"}`)).toMatchObject({ok: true});
	});

	it('refuses its own id echoed back', () => {
		expect(decode(legacy, 'ee15c401')).toEqual({ok: false, reason: 'own-id'});
	});

	it('counts id length in characters, not bytes', () => {
		expect(decode(`{"node_id": "${'é'.repeat(64)}", "phase": 0, "lamport_time": 1}`).ok).toBe(true);
	});

	it('never throws, whatever the bytes', () => {
		fc.assert(
			fc.property(fc.uint8Array({maxLength: 300}), (bytes) => {
				const result = decode(bytes);
				expect(typeof result.ok).toBe('boolean');
			}),
		);
		fc.assert(
			fc.property(fc.json(), (text) => {
				const result = decode(text);
				expect(typeof result.ok).toBe('boolean');
			}),
		);
	});
});

describe('encode', () => {
	it('writes what a legacy node reads, and what decode reads back', () => {
		const frame = encode({
			nodeId: 'a1b2c3d4',
			phaseRad: -1.25,
			lamportTime: 812,
			incarnation: 1_764_130_000_000,
			omegaRadPerS: 3.14,
			hz: 10,
			endpoint: 'tcp://127.0.0.1:5555',
		});
		const parsed = JSON.parse(frame);
		expect(parsed).toMatchObject({node_id: 'a1b2c3d4', phase: -1.25, lamport_time: 812});
		expect(Number.isInteger(parsed.lamport_time)).toBe(true);
		expect(decode(frame)).toMatchObject({ok: true, message: {nodeId: 'a1b2c3d4', incarnation: 1_764_130_000_000}});
	});
});

describe('the control field', () => {
	const withControl = (control: string) => JSON.stringify({node_id: 'a', phase: 0, lamport_time: 1, v: 1, control});

	it('is read when well formed, every time, and a malformed one is refused however many good ones came before', () => {
		for (let index = 0; index < 5; index++) {
			expect(decode(withControl('tcp://10.0.0.1:5556'))).toMatchObject({ok: true, message: {control: 'tcp://10.0.0.1:5556'}});
		}

		for (const bad of ['tcp://10.0.0.1:0', 'tcp://10.0.0.1:70000', 'udp://10.0.0.1:5556', 'tcp://*:5556', `tcp://${'a'.repeat(300)}:1`]) {
			expect(decode(withControl(bad))).toEqual({ok: false, reason: 'bad-type'});
		}
	});

	it('is judged afresh for a peer that sends a new one in every message', () => {
		for (let port = 1; port <= 3000; port++) {
			expect(decode(withControl(`tcp://10.0.${port % 250}.1:${port}`))).toMatchObject({ok: true, message: {control: `tcp://10.0.${port % 250}.1:${port}`}});
			if (port % 500 === 0) {
				expect(decode(withControl(`tcp://10.0.0.1:${port + 70_000}`))).toEqual({ok: false, reason: 'bad-type'});
			}
		}
	});
});
