import * as zmq from 'zeromq';
import fc from 'fast-check';
import {afterEach, describe, expect, it} from 'vitest';
import {AllowList, AllowListError, parseAllowList} from '../../source/mesh/security/curve/allow-list.js';
import {parseSecretKeyFile, publicKeyOf, secretKeyFileText} from '../../source/mesh/security/curve/keys.js';
import {RateLimiter} from '../../source/mesh/security/rate-limiter.js';
import {exposureWarning, isLoopbackOnly} from '../../source/mesh/security/screening.js';
import {z85Decode, z85Encode} from '../../source/mesh/security/curve/z85.js';
import {parseEndpoint} from '../../source/config.js';
import {ChorusNode} from '../../source/mesh/node.js';
import {decode, exceedsNestingDepth} from '../../source/mesh/model/wire.js';
import {eventually, nextEvent, RawPeer, testNodeOptions} from '../helpers/nodes.js';

describe('z85', () => {
	it('matches the RFC 32 test vector', () => {
		const bytes = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
		expect(z85Encode(bytes)).toBe('HelloWorld');
		expect([...z85Decode('HelloWorld')!]).toEqual([...bytes]);
	});

	it('round-trips any 4-byte-aligned bytes and refuses text that is not Z85', () => {
		fc.assert(
			fc.property(fc.uint8Array({maxLength: 64}).filter((bytes) => bytes.length % 4 === 0), (bytes) => {
				expect([...z85Decode(z85Encode(bytes))!]).toEqual([...bytes]);
			}),
		);
		expect(z85Decode('Hello')).not.toBeUndefined();
		expect(z85Decode('Hell')).toBeUndefined();
		expect(z85Decode('Hell"')).toBeUndefined();
		expect(z85Decode('%%%%%')).toBeUndefined(); // overflows 32 bits
	});

	it('derives the public key that libzmq paired with the secret key', () => {
		for (let index = 0; index < 5; index++) {
			const pair = zmq.curveKeyPair();
			expect(publicKeyOf(pair.secretKey)).toBe(pair.publicKey);
			expect(parseSecretKeyFile(secretKeyFileText(pair))).toEqual(pair);
		}

		expect(() => parseSecretKeyFile('not a key\n')).toThrow(/keygen/);
	});
});

describe('allow list', () => {
	const [a, b, c] = [zmq.curveKeyPair(), zmq.curveKeyPair(), zmq.curveKeyPair()];
	const normalize = (text: string) => parseEndpoint(text, 'endpoint');

	it('reads keys, optional ids and endpoints, and comments', () => {
		const list = new AllowList(
			parseAllowList(
				[
					'# the lab',
					`${a.publicKey} node-a tcp://127.0.0.1:6001   # first`,
					`${b.publicKey} * 6002`,
					`${c.publicKey}`,
					'',
				].join('\n'),
				normalize,
			),
		);
		expect(list.size).toBe(3);
		expect(list.allows(a.publicKey) && list.allows(b.publicKey) && list.allows(c.publicKey)).toBe(true);
		expect(list.allows(zmq.curveKeyPair().publicKey)).toBe(false);
		expect(list.serverKeyFor('tcp://127.0.0.1:6001')).toBe(a.publicKey);
		expect(list.serverKeyFor('tcp://127.0.0.1:6002')).toBe(b.publicKey);
		expect(list.serverKeyFor('tcp://127.0.0.1:6003')).toBeUndefined();
		// A key bound to an id may use that id only; an unbound key may use any id not bound to another.
		expect(list.mayClaim(a.publicKey, 'node-a')).toBe(true);
		expect(list.mayClaim(a.publicKey, 'node-b')).toBe(false);
		expect(list.mayClaim(b.publicKey, 'node-a')).toBe(false);
		expect(list.mayClaim(b.publicKey, 'anything')).toBe(true);
	});

	it('names the line of a bad entry', () => {
		const bad = (text: string) => {
			try {
				parseAllowList(text, normalize);
			} catch (error) {
				expect(error).toBeInstanceOf(AllowListError);
				return (error as Error).message;
			}

			throw new Error('accepted a bad allow file');
		};

		expect(bad(`# ok\nnot-a-key`)).toMatch(/^line 2: .*Z85/);
		expect(bad(`${a.publicKey} node-a 6001 extra`)).toMatch(/line 1: too many fields/);
		expect(bad(`${a.publicKey} node-a nowhere:x`)).toMatch(/line 1: .*not an endpoint/);
		expect(bad(`${a.publicKey} node-a\n${b.publicKey} node-a`)).toMatch(/line 2: node id node-a is bound/);
		expect(bad(`${a.publicKey} x 6001\n${b.publicKey} y 6001`)).toMatch(/line 2: endpoint/);
		expect(bad(`${a.publicKey} bad\u001Bid`)).toMatch(/line 1: the node id/);
	});
});

describe('rate limiter', () => {
	it('lets a peer send ten times its announced rate, with a one-second burst, and no more', () => {
		const limiter = new RateLimiter();
		let allowed = 0;
		// 1000 messages in one instant from a peer announcing 10 Hz: the burst is 100.
		for (let index = 0; index < 1000; index++) {
			allowed += limiter.allow('tcp://peer:1', 10, 0) ? 1 : 0;
		}

		expect(allowed).toBe(100);
		// Then 200/s for 10 s: 100/s get through.
		allowed = 0;
		for (let ms = 5; ms <= 10_000; ms += 5) {
			allowed += limiter.allow('tcp://peer:1', 10, ms) ? 1 : 0;
		}

		expect(allowed).toBeGreaterThanOrEqual(999);
		expect(allowed).toBeLessThanOrEqual(1001);
	});

	it('allows 100/s to a peer that announces no rate, caps huge announcements, keeps peers apart', () => {
		const limiter = new RateLimiter();
		expect(limiter.ratePerS(undefined)).toBe(100);
		expect(limiter.ratePerS(10)).toBe(100);
		expect(limiter.ratePerS(50)).toBe(500);
		expect(limiter.ratePerS(1e12)).toBe(10_000);
		expect(limiter.ratePerS(Number.NaN)).toBe(100);
		let a = 0;
		let b = 0;
		for (let index = 0; index < 500; index++) {
			a += limiter.allow('a', undefined, 0) ? 1 : 0;
			b += limiter.allow('b', 50, 0) ? 1 : 0;
		}

		expect([a, b]).toEqual([100, 500]);
	});

	it('stays bounded in memory however many peers it sees', () => {
		const limiter = new RateLimiter({maxKeys: 64});
		for (let index = 0; index < 10_000; index++) {
			limiter.allow(`peer-${index}`, undefined, index);
		}

		expect(limiter.size).toBeLessThanOrEqual(64);
		limiter.prune(1_000_000);
		expect(limiter.size).toBe(0);
	});
});

describe('bind exposure', () => {
	it('warns for a reachable bind without CURVE only', () => {
		for (const endpoint of ['tcp://127.0.0.1:5555', 'tcp://127.0.0.2:5555', 'tcp://[::1]:5555', 'tcp://localhost:5555', 'ipc:///tmp/x']) {
			expect(isLoopbackOnly(endpoint), endpoint).toBe(true);
			expect(exposureWarning(endpoint, false)).toBeUndefined();
		}

		for (const endpoint of ['tcp://0.0.0.0:5555', 'tcp://*:5555', 'tcp://192.168.1.4:5555', 'tcp://eth0:5555', 'tcp://[::]:5555']) {
			expect(isLoopbackOnly(endpoint), endpoint).toBe(false);
			expect(exposureWarning(endpoint, false)).toMatch(/without CURVE/);
			expect(exposureWarning(endpoint, true)).toBeUndefined();
		}
	});
});

describe('nesting depth', () => {
	it('refuses deeply nested frames before parsing them, and reads brackets inside strings as text', () => {
		const deep = `{"node_id":"a","phase":0,"lamport_time":1,"x":${'['.repeat(40_000)}`;
		// 'too-deep', not 'malformed-json': refused by the scan, before JSON.parse saw it.
		const tookMs = [0, 1, 2].map(() => {
			const startedMs = performance.now();
			expect(decode(deep)).toEqual({ok: false, reason: 'too-deep'});
			return performance.now() - startedMs;
		});
		// Generous: cold JSON.parse takes tens of milliseconds on this, the scan well under one. The best
		// of three, since one run on a loaded CI machine once took 23 ms (preempted, not slow).
		expect(Math.min(...tookMs)).toBeLessThan(20);
		const bracketsInAString = JSON.stringify({node_id: 'a', phase: 0, lamport_time: 1, note: '['.repeat(5000) + String.raw`\"[`});
		expect(decode(bracketsInAString)).toMatchObject({ok: true});
		expect(exceedsNestingDepth('[[[]]]', 3)).toBe(false);
		expect(exceedsNestingDepth('[[[[]]]]', 3)).toBe(true);
		expect(exceedsNestingDepth('["[[[[", {"a": "]]]]"}]', 3)).toBe(false);
	});
});

describe('limits on a live node', () => {
	const nodes: ChorusNode[] = [];
	const peers: RawPeer[] = [];
	afterEach(async () => {
		for (const peer of peers.splice(0)) {
			peer.close();
		}

		await Promise.all(nodes.splice(0).map(async (node) => node.stop()));
	});

	it('drops a flood beyond ten times the announced rate as rate-limit, and keeps admitting others', async () => {
		const [flooder, calm] = [new RawPeer(), new RawPeer()];
		peers.push(flooder, calm);
		// Queues deep enough that ZeroMQ drops nothing on the way: every message is counted by the node.
		flooder.socket.sendHighWaterMark = 10_000;
		await Promise.all([flooder.bind(), calm.bind()]);
		const node = new ChorusNode(
			await testNodeOptions({peerEndpoints: [flooder.endpoint, calm.endpoint], transport: {highWaterMark: 10_000}}),
		);
		nodes.push(node);
		await node.start();
		await Promise.all([flooder.waitForSubscriber(), calm.waitForSubscriber()]);
		// 2000 messages at once from a peer that says it publishes at 10 Hz: it may send 100/s.
		for (let lamport = 1; lamport <= 2000; lamport++) {
			await flooder.send(JSON.stringify({node_id: 'flooder', phase: 0, lamport_time: lamport, hz: 10}));
		}

		for (let lamport = 1; lamport <= 5; lamport++) {
			await calm.send(JSON.stringify({node_id: 'calm', phase: 0, lamport_time: lamport, hz: 10}));
		}

		const stats = await eventually('all 2005 counted', () => {
			const {stats} = node.snapshot();
			return stats.received === 2005 && stats;
		}, 15_000);
		expect(stats.rejected['rate-limit']).toBeGreaterThanOrEqual(1500);
		expect(stats.admitted + (stats.rejected['rate-limit'] ?? 0)).toBe(2005);
		expect(node.snapshot().peers.find((peer) => peer.id === 'calm')?.lamport).toBe(5);
	});

	it('refuses a frame over --max-message-bytes at the socket, and reconnects', async () => {
		const peer = await new RawPeer().bind();
		peers.push(peer);
		const node = new ChorusNode(await testNodeOptions({peerEndpoints: [peer.endpoint], transport: {maxMessageBytes: 1024}}));
		nodes.push(node);
		await node.start();
		await peer.waitForSubscriber();
		await peer.send(JSON.stringify({node_id: 'big', phase: 0, lamport_time: 1, pad: 'x'.repeat(2000)}));
		await nextEvent(node, (event) => event.kind === 'connection-dropped', 10_000);
		await peer.waitForSubscriber();
		await peer.send(JSON.stringify({node_id: 'small', phase: 0, lamport_time: 2}));
		await eventually('the small one admitted', () => node.snapshot().peers.some((entry) => entry.id === 'small'), 10_000);
		expect(node.snapshot().stats.rejected).toEqual({oversize: 1});
	});
});
