/**
Transport.poll over zmtp links that read on demand, as they do where a socket has no descriptor
(Windows): the read comes in the event loop's next turn, which poll waits for below the caller, so
one poll still returns what had arrived, and the links stop reading again after it.
*/

import {afterEach, describe, expect, it, vi} from 'vitest';
import type * as Zmtp from '@chorus-tui/zmtp';
import {Transport} from '../../../source/mesh/net/transport.js';
import {sleep} from '../../helpers/nodes.js';
import {freePort, loopback} from '../../helpers/ports.js';

/** How many subscribers were made on demand: the mock is in force. */
const onDemand = vi.hoisted(() => ({made: 0}));

// Every subscriber the engine makes reads on demand, whatever it asks for.
vi.mock('@chorus-tui/zmtp', async (importOriginal) => {
	const original = await importOriginal<typeof Zmtp>();
	class OnDemandSubscriber extends original.ZmtpSubscriber {
		constructor(options: ConstructorParameters<typeof original.ZmtpSubscriber>[0]) {
			super({...options, reading: 'on-demand'});
			onDemand.made++;
		}
	}

	return {...original, ZmtpSubscriber: OnDemandSubscriber};
});

const open: Transport[] = [];
afterEach(async () => {
	await Promise.all(open.splice(0).map(async (transport) => transport.close()));
});

async function transport(): Promise<Transport> {
	const created = new Transport({bindEndpoint: loopback(await freePort())});
	open.push(created);
	await created.start();
	return created;
}

describe('Transport.poll with on-demand links', () => {
	it('returns in one call what arrived since the last, in order', async () => {
		const [sender, receiver] = [await transport(), await transport()];
		receiver.addPeer(sender.endpoint);
		const received: string[] = [];
		const onFrames = (frames: Buffer[]) => {
			received.push(frames[0]!.toString());
		};

		const deadline = performance.now() + 5000;
		while (!received.includes('probe')) {
			expect(performance.now()).toBeLessThan(deadline);
			await sender.publish('probe');
			await sleep(20);
			await receiver.poll(100, onFrames);
		}

		await sleep(50);
		await receiver.poll(100, onFrames);
		received.length = 0;

		for (let index = 0; index < 5; index++) {
			await sender.publish(`${index}`);
		}

		await sleep(100);
		// They wait in the kernel (the last poll stopped the link reading) until this poll asks.
		expect(await receiver.poll(100, onFrames)).toBe(false);
		expect(received).toEqual(['0', '1', '2', '3', '4']);
		expect(onDemand.made).toBeGreaterThan(0);
	});
});
