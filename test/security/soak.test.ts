/**
The one-minute soak: 20 nodes under churn (kills, restarts, pauses, faults, a hostile publisher),
and nothing may grow without bound. `npm run soak -- --minutes 30` is the long version.
*/

import {expect, it} from 'vitest';
import {formatResult, runSoak} from '../../bench/soak.js';

it('a 20-node mesh under churn for 60 s grows no memory, handles or peer tables without bound', {timeout: 180_000}, async () => {
	const lines: string[] = [];
	const result = await runSoak({minutes: 1, nodes: 20, sampleMs: 1000, seed: 7, log: (line) => lines.push(line)});
	const report = formatResult(result);
	console.log(report);
	expect(result.failures, report).toEqual([]);
	expect(result.ok).toBe(true);
	// The churn happened: children were killed and restarted, paused, faulted, and the hostile
	// publisher filled the peer tables up to their bound.
	expect(result.actions['kill'] ?? 0).toBeGreaterThan(0);
	expect(result.actions['pause'] ?? 0).toBeGreaterThan(0);
	expect(result.summary.peerTablePeak).toBeLessThanOrEqual(64);
	expect(result.samples.length).toBeGreaterThan(20);
});
