/**
The UI samples the mesh about 10 times a second, whatever the traffic: a real session (a real node
with a real peer publishing to it) behind the real App and MeshStore, configured as run/tui.tsx
configures them, with every `snapshot()` call counted over a few seconds. A flood of events (fault
changes, many per sample) must not turn into more samples.

On a shared machine a process may get a few per cent of a core, and then every timer runs late: the
rate is compared with a 100 ms interval timer of this same process, counted over the same window,
and the upper bound is absolute (never more than 10 a second, however fast the machine).
*/

import {cleanup, render} from 'ink-testing-library';
import {afterEach, expect, it} from 'vitest';
import {resolveConfig} from '../../source/config.js';
import {ChorusNode} from '../../source/mesh/node.js';
import type {MeshController} from '../../source/session/controller.js';
import {MeshSession} from '../../source/session/session.js';
import {App} from '../../source/ui/app.js';
import {MeshStore} from '../../source/ui/mesh-store.js';
import {eventually, sleep, testNodeOptions} from '../helpers/nodes.js';
import {freePort} from '../helpers/ports.js';

const stops: Array<() => Promise<void>> = [];

afterEach(async () => {
	cleanup();
	await Promise.all(stops.splice(0).map(async (stop) => stop()));
});

/** The session, with every snapshot() call counted. */
function counting(session: MeshSession): {controller: MeshController; calls: () => number} {
	let calls = 0;
	const controller = new Proxy(session, {
		get(target, property, receiver) {
			if (property === 'snapshot') {
				return () => {
					calls++;
					return target.snapshot();
				};
			}

			const value: unknown = Reflect.get(target, property, receiver);
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
	return {controller, calls: () => calls};
}

it('samples the session about 10 times a second with the UI running, under a flood of events too', async () => {
	const port = await freePort();
	const session = new MeshSession(resolveConfig({bind: String(port), demo: '0', id: 'sampled'}));
	await session.start();
	stops.push(async () => session.stop());
	const peer = new ChorusNode(await testNodeOptions({id: 'publisher', peerEndpoints: [session.node.endpoint]}));
	await peer.start();
	stops.push(async () => peer.stop());
	session.node.addPeer(peer.endpoint);

	const {controller, calls} = counting(session);
	// As run/tui.tsx makes it: the default sampling period, quiet refresh 250 ms.
	const store = new MeshStore(controller, {quietRefreshMs: 250});
	render(<App controller={controller} store={store} ttlMs={5000} color={false} readonly={false} size={{columns: 80, rows: 24}} />);
	await eventually('the peer on the screen', () => session.snapshot().peers.some((entry) => entry.id === 'publisher' && entry.state === 'alive'), 10_000);

	/** snapshot() calls a second, and the calls per firing of a 100 ms reference timer, over a window. */
	const rate = async (windowMs: number) => {
		const before = calls();
		let reference = 0;
		const timer = setInterval(() => reference++, 100);
		const startedMs = performance.now();
		await sleep(windowMs);
		clearInterval(timer);
		const counted = calls() - before;
		return {perSecond: counted / ((performance.now() - startedMs) / 1000), perReferenceTick: counted / Math.max(1, reference), counted};
	};

	const quiet = await rate(4000);
	// A flood of events: ten fault changes at every turn of the event loop (each is an event the store hears).
	let flooding = true;
	let changes = 0;
	const flood = (async () => {
		while (flooding) {
			for (let index = 0; index < 10; index++) {
				session.setInboundFault('all', {drop: changes++ % 2 === 0 ? 0.1 : 0.3});
			}

			await sleep(1);
		}
	})();
	const busy = await rate(4000);
	flooding = false;
	await flood;
	session.clearFaults();
	console.log(`snapshot() calls: ${quiet.perSecond.toFixed(1)}/s quiet (${quiet.perReferenceTick.toFixed(2)} per 100 ms timer tick), ${busy.perSecond.toFixed(1)}/s (${busy.perReferenceTick.toFixed(2)}) under ${changes} fault changes`);
	// About one sample per 100 ms that this process actually got, and never more than 10 a second.
	for (const window of [quiet, busy]) {
		expect(window.perReferenceTick).toBeGreaterThan(0.6);
		expect(window.perReferenceTick).toBeLessThan(1.4);
		expect(window.perSecond).toBeLessThanOrEqual(10.5);
	}

	// Many more events than samples: the events did not drive the sampling.
	expect(changes).toBeGreaterThan(5 * busy.counted);
}, 40_000);
