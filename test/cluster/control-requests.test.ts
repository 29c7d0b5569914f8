// Request parsing, the control address rules, write proofs, and the wire's `control` field.
import fc from 'fast-check';
import * as zmq from 'zeromq';
import {describe, expect, it} from 'vitest';
import {announcedControlEndpoint, ControlAddressError, resolveControlEndpoint} from '../../source/cluster/control/address.js';
import {ProofChecker, PROOF_SKEW_MS, writeProof} from '../../source/cluster/control/proof.js';
import {parseRequest} from '../../source/cluster/control/requests.js';
import {decode, encode, isTcpEndpoint} from '../../source/mesh/model/wire.js';

const parse = (text: string | Buffer) => parseRequest(Buffer.isBuffer(text) ? text : Buffer.from(text), 30_000);

describe('parseRequest', () => {
	it('accepts every op in its documented form', () => {
		expect(parse('{"v":1,"id":1,"op":"members"}')).toMatchObject({ok: true, request: {op: 'members', id: 1}});
		expect(parse('{"v":1,"id":"a","op":"view","offset":10,"limit":5,"extra":true}')).toMatchObject({ok: true, request: {op: 'view', offset: 10, limit: 5}});
		expect(parse('{"v":1,"id":"a","op":"view","brief":true,"limit":2000}')).toMatchObject({ok: true, request: {op: 'view', brief: true, limit: 2000}});
		expect(parse('{"v":1,"id":"a","op":"view","brief":false}')).not.toHaveProperty('request.brief');
		expect(parse('{"v":1,"id":"a","op":"fault","direction":"links","peers":["b","c","b"],"leaseMs":0}')).toMatchObject({ok: true, request: {op: 'fault', direction: 'links', peers: ['b', 'c'], blackhole: true, leaseMs: 0}});
		// 500 ids of 64 characters: the largest `links` request fits in one request frame.
		const longest = JSON.stringify({v: 1, id: 'x', op: 'fault', direction: 'links', peers: Array.from({length: 500}, (_, index) => String(index).padStart(64, 'p')), blackhole: true, leaseMs: 30_000});
		expect(parse(longest)).toMatchObject({ok: true});
		expect(parse('{"v":1,"id":2,"op":"fault","direction":"inbound","target":"demo-2","fault":{"drop":0.3}}')).toMatchObject({
			ok: true,
			request: {direction: 'inbound', target: 'demo-2', fault: {drop: 0.3}, leaseMs: 30_000},
		});
		expect(parse('{"v":1,"id":3,"op":"fault","direction":"outbound","fault":{"delayMs":200},"leaseMs":0}')).toMatchObject({ok: true, request: {leaseMs: 0}});
		expect(parse('{"v":1,"id":4,"op":"fault","direction":"link","peer":"b"}')).toMatchObject({ok: true, request: {peer: 'b', blackhole: true}});
		expect(parse('{"v":1,"id":5,"op":"clear"}')).toMatchObject({ok: true});
		expect(parse('{"v":1,"id":6,"op":"stop"}')).toMatchObject({ok: true});
		expect(parse('{"v":1,"id":7,"op":"join","node":"n1","endpoint":"tcp://10.0.0.2:5555","control":"tcp://10.0.0.2:5556","incarnation":5}')).toMatchObject({
			ok: true,
			request: {op: 'join', id: 7, node: 'n1', endpoint: 'tcp://10.0.0.2:5555', control: 'tcp://10.0.0.2:5556', incarnation: 5},
		});
	});

	it('refuses everything else with a code, echoing the id when it has one', () => {
		expect(parse('{')).toMatchObject({ok: false, error: 'malformed-json', id: null});
		expect(parse(Buffer.from([0xff, 0xfe]))).toMatchObject({ok: false, error: 'malformed-json'});
		expect(parse('[1]')).toMatchObject({ok: false, error: 'malformed-json'});
		expect(parse('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]')).toMatchObject({ok: false, error: 'malformed-json'});
		expect(parse('{"v":1,"op":"view"}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":2,"id":1,"op":"view"}')).toMatchObject({ok: false, error: 'unsupported-version', id: 1});
		expect(parse('{"v":1,"id":1,"op":"reboot"}')).toMatchObject({ok: false, error: 'unknown-op', id: 1});
		expect(parse('{"v":1,"id":1,"op":"view","limit":-1}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"view","brief":"yes"}')).toMatchObject({ok: false, error: 'bad-request', message: '`brief` must be true or false when given'});
		expect(parse('{"v":1,"id":1,"op":"view","brief":true,"since":"0123abcd"}')).toMatchObject({ok: true, request: {since: '0123abcd'}});
		expect(parse('{"v":1,"id":1,"op":"view","brief":true,"since":7}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse(`{"v":1,"id":1,"op":"view","brief":true,"since":"${'f'.repeat(65)}"}`)).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"fault","direction":"links","peers":[]}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"fault","direction":"links","peers":["a","all"]}')).toMatchObject({ok: false, error: 'bad-request', message: '`peers` must hold peer ids only (not "all")'});
		expect(parse('{"v":1,"id":1,"op":"fault","direction":"links","peers":["a",7]}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse(JSON.stringify({v: 1, id: 1, op: 'fault', direction: 'links', peers: Array.from({length: 501}, (_, index) => `p${index}`)}))).toMatchObject({ok: false, error: 'bad-request', message: '`peers` must be a list of 1 to 500 peer ids'});
		expect(parse('{"v":1,"id":1,"op":"fault","direction":"links","peers":["a"],"blackhole":1}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"fault","direction":"inbound","fault":{"drop":1.5}}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"fault","direction":"inbound","fault":{"__proto__":1}}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"fault","direction":"outbound","fault":{"blackhole":true}}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"fault","direction":"sideways","fault":{}}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"fault","direction":"outbound","fault":{"drop":0.1},"leaseMs":1e12}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"join","node":"n","endpoint":"tcp://*:5"}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse('{"v":1,"id":1,"op":"join","node":"n","endpoint":"ipc:///tmp/x"}')).toMatchObject({ok: false, error: 'bad-request'});
		expect(parse(Buffer.alloc(64 * 1024 + 1, 0x20))).toMatchObject({ok: false, error: 'too-large'});
	});
});

describe('control address', () => {
	it('defaults to the data host, port + 1, on loopback without CURVE', () => {
		expect(resolveControlEndpoint('tcp://127.0.0.1:5555', undefined, false)).toBe('tcp://127.0.0.1:5556');
		expect(resolveControlEndpoint('tcp://0.0.0.0:5555', undefined, false)).toBe('tcp://127.0.0.1:5556');
		expect(resolveControlEndpoint('tcp://10.1.2.3:5555', undefined, true)).toBe('tcp://10.1.2.3:5556');
		expect(resolveControlEndpoint('tcp://127.0.0.1:65535', undefined, false)).toBeUndefined();
		expect(resolveControlEndpoint('ipc:///tmp/x', undefined, false)).toBeUndefined();
	});

	it('refuses an explicit non-loopback address without CURVE', () => {
		expect(() => resolveControlEndpoint('tcp://127.0.0.1:5555', 'tcp://10.0.0.1:6000', false)).toThrow(ControlAddressError);
		expect(resolveControlEndpoint('tcp://127.0.0.1:5555', 'tcp://10.0.0.1:6000', true)).toBe('tcp://10.0.0.1:6000');
	});

	it('announces only what a peer can dial', () => {
		expect(announcedControlEndpoint('tcp://127.0.0.1:5556')).toBe('tcp://127.0.0.1:5556');
		expect(announcedControlEndpoint('tcp://0.0.0.0:5556')).toBeUndefined();
		expect(announcedControlEndpoint('tcp://*:5556')).toBeUndefined();
	});
});

describe('write proofs', () => {
	const server = zmq.curveKeyPair();
	const client = zmq.curveKeyPair();
	const checker = new ProofChecker(server.secretKey);

	it('holds for the key that made it, and only for its op, id and time', () => {
		const proof = writeProof({...client, serverKey: server.publicKey}, 'stop', 9, 1000);
		expect(checker.check(proof, 'stop', 9, 1000)).toEqual({ok: true, key: client.publicKey});
		expect(checker.check(proof, 'clear', 9, 1000).ok).toBe(false);
		expect(checker.check(proof, 'stop', 10, 1000).ok).toBe(false);
		expect(checker.check({...proof, key: zmq.curveKeyPair().publicKey}, 'stop', 9, 1000).ok).toBe(false);
		expect(checker.check(proof, 'stop', 9, 1000 + PROOF_SKEW_MS + 1).ok).toBe(false);
		expect(checker.check(undefined, 'stop', 9, 1000).ok).toBe(false);
		expect(checker.check({key: 'x', t: 1, mac: 'zz'}, 'stop', 9, 1000).ok).toBe(false);
	});
});

describe('wire control field', () => {
	const state = {nodeId: 'a', phaseRad: 0, lamportTime: 1, incarnation: 1, omegaRadPerS: 1, hz: 10, endpoint: 'tcp://127.0.0.1:5555'};

	it('is sent when set and read back; absent when not', () => {
		expect(decode(encode({...state, control: 'tcp://127.0.0.1:5556'}))).toMatchObject({ok: true, message: {control: 'tcp://127.0.0.1:5556'}});
		expect(encode(state)).not.toContain('control');
		expect(decode(encode(state))).toMatchObject({ok: true, message: {control: undefined}});
	});

	it('refuses a control field that is not tcp://host:port', () => {
		for (const control of ['tcp://*:1', 'ipc:///x', 'tcp://h:0', 'tcp://h:70000', 5, 'tcp://h:1\u001B']) {
			expect(decode(JSON.stringify({node_id: 'a', phase: 0, lamport_time: 1, control}))).toEqual({ok: false, reason: 'bad-type'});
		}

		expect(isTcpEndpoint('tcp://[::1]:5556')).toBe(true);
		expect(isTcpEndpoint(`tcp://${'a'.repeat(300)}:1`)).toBe(false);
	});

	it('remembers the endpoints it passed without ever passing one it should not', () => {
		// The rule, written out again: what the remembered set must agree with, asked once or many times.
		const rule = (text: string) => {
			const match = /^tcp:\/\/(?:\[[\da-fA-F:.]+\]|[A-Za-z\d.-]+):(\d{1,5})$/.exec(text);
			return text.length <= 256 && match !== null && Number(match[1]) >= 1 && Number(match[1]) <= 65_535;
		};

		const endpoint = fc.oneof(
			fc.tuple(fc.stringMatching(/^[A-Za-z\d.-]{1,12}$/), fc.integer({min: 0, max: 70_000})).map(([host, port]) => `tcp://${host}:${port}`),
			fc.tuple(fc.constantFrom('tcp://', 'tcp:/', 'udp://', ''), fc.string({maxLength: 12}), fc.constantFrom(':1', ':0', ':65536', '')).map((parts) => parts.join('')),
		);
		fc.assert(fc.property(fc.array(endpoint, {minLength: 1, maxLength: 40}), (texts) => {
			for (const text of [...texts, ...texts]) {
				expect(isTcpEndpoint(text)).toBe(rule(text));
			}
		}), {numRuns: 300});
		// More distinct endpoints than it remembers: it forgets, and still answers right.
		for (let port = 1; port <= 3000; port++) {
			expect(isTcpEndpoint(`tcp://h:${port}`)).toBe(true);
		}

		expect(isTcpEndpoint('tcp://h:70000')).toBe(false);
		expect(isTcpEndpoint('tcp://h:1')).toBe(true);
	});
});
