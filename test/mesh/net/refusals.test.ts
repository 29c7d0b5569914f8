/**
What the network layer refuses is counted exactly and reported at a bounded rate; failed dials are
events; the default connection bound leaves descriptors for our own dials.
*/

import {afterEach, describe, expect, it} from 'vitest';
import {defaultMaxConnections, openFileLimit} from '../../../source/mesh/net/descriptors.js';
import type {EngineChoice} from '../../../source/mesh/net/engine/select.js';
import {RefusalTally} from '../../../source/mesh/net/refusals.js';
import {Transport, type TransportEvent} from '../../../source/mesh/net/transport.js';
import {sleep} from '../../helpers/nodes.js';
import {freePort, loopback} from '../../helpers/ports.js';

const open: Transport[] = [];
afterEach(async () => {
	await Promise.all(open.splice(0).map(async (transport) => transport.close()));
});

describe('RefusalTally', () => {
	it('counts every refusal, and says one event is due per key per interval, with the count since the last', () => {
		const tally = new RefusalTally<'a' | 'b'>(1000);
		expect(tally.count('a', 0)).toBe(1);
		expect(tally.count('a', 10)).toBe(0);
		expect(tally.count('a', 20)).toBe(0);
		expect(tally.count('b', 30)).toBe(1);
		expect(tally.count('a', 1000)).toBe(3);
		expect(tally.count('a', 1500, 'other-key')).toBe(1);
		expect(tally.snapshot()).toEqual({a: 5, b: 1});
	});
});

describe('the default --max-connections', () => {
	it('is half the descriptors above 64, between 64 and 4,096', () => {
		expect(defaultMaxConnections(1024)).toBe(480);
		expect(defaultMaxConnections(100)).toBe(64);
		expect(defaultMaxConnections(1_048_576)).toBe(4096);
		expect(openFileLimit()).toBeGreaterThan(0);
		expect(defaultMaxConnections()).toBe(defaultMaxConnections(openFileLimit()));
	});
});

describe.each<[EngineChoice]>([['builtin'], ['libzmq']])('failed dials on the %s engine', (engine) => {
	it('are counted in stats.dialFailed and reported as dial-failed, at most once per endpoint every 5 s', async () => {
		const events: TransportEvent[] = [];
		const transport = new Transport({bindEndpoint: loopback(await freePort()), engine, onEvent: (event) => events.push(event)});
		open.push(transport);
		await transport.start();
		// Nothing listens there: every dial is refused, and redialled with backoff.
		const nobody = loopback(await freePort());
		transport.addPeer(nobody);
		await sleep(3000);
		const failed = events.filter((event) => event.kind === 'dial-failed');
		const {dialFailed} = transport.stats();
		console.log(`${engine}: ${dialFailed} failed dials in 3 s, ${failed.length} dial-failed event(s)`);
		expect(failed).toHaveLength(1);
		expect(failed[0]).toMatchObject({kind: 'dial-failed', endpoint: nobody, count: 1});
		expect(dialFailed).toBeGreaterThanOrEqual(2);
		// Backoff to a 1 s cap: 100, 200, 400, 800, 1000 ms … a few in 3 s, not thirty.
		expect(dialFailed).toBeLessThanOrEqual(10);
	});
});
