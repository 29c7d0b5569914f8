// The headless stream's first snapshot comes as soon as the node is bound and has ticked once, not
// one --report-ms later; then one every --report-ms.
import {describe, expect, it} from 'vitest';
import {HeadlessProcess} from '../helpers/headless-process.js';
import {freePort, loopback} from '../helpers/ports.js';

describe('the first NDJSON snapshot', () => {
	it('is written after the first tick, long before the report interval, and the next one an interval later', async () => {
		const node = new HeadlessProcess(['--demo', '0', '--bind', loopback(await freePort()), '--report-ms', '4000']);
		try {
			const first = await node.waitForSnapshot(() => true, 3500);
			expect(first.stats.ticks).toBeGreaterThanOrEqual(1);
			// Milliseconds since the node started: about one tick period (100 ms), never the interval.
			expect(first.t).toBeLessThan(2000);
			const second = await node.waitForSnapshot(() => true, 10_000, node.lines.indexOf(first) + 1);
			// The interval runs from the first snapshot (timers may fire late on a loaded machine, never early).
			expect(second.t - first.t).toBeGreaterThanOrEqual(3990);
		} finally {
			await node.stop();
		}
	}, 30_000);
});
