/**
The soak's long-run judgement (issue 18): after the first 10 minutes RSS must grow under 5 % and
handles and descriptors stay flat. Fed with samples shaped like a 2-hour run's, it must pass a
plateau, fail a creep, and say nothing of a run too short to judge.
*/

import {expect, it} from 'vitest';
import {longRunGrowth, type Sample} from '../../bench/soak.js';

/** A run of `minutes` sampled every 5 s, RSS and descriptors given as functions of the minute. */
function run(minutes: number, rssMb: (minute: number) => number, fds: (minute: number) => number = () => 180): Sample[] {
	return Array.from({length: (minutes * 60) / 5 + 1}, (_, index) => {
		const atS = index * 5;
		const minute = atS / 60;
		return {
			atS,
			sentinel: {rssMb: rssMb(minute), heapMb: 10, externalMb: 2, handles: 56, fds: fds(minute), peers: 19, ticks: atS * 10},
			steady: {rssMb: rssMb(minute) - 8, fds: 125, peers: 19},
			maxPeersSeen: 64,
			childrenAlive: 19,
		};
	});
}

const verdict = (growth: ReturnType<typeof longRunGrowth>, name: string) => growth.find((entry) => entry.name === name)!;

it('passes RSS that levels off after its first minutes, and descriptors that swing with the churn', () => {
	// Climbs for 8 minutes, then holds within a megabyte; descriptors swing by ±20.
	const growth = longRunGrowth(run(120, (minute) => 60 + (Math.min(minute, 8) * 2.5) + Math.sin(minute), (minute) => 180 + 20 * Math.sin(minute * 3)));
	expect(verdict(growth, 'sentinel RSS (MB)').ok).toBe(true);
	expect(Math.abs(verdict(growth, 'sentinel RSS (MB)').growthPercent)).toBeLessThan(5);
	expect(verdict(growth, 'steady child RSS (MB)').ok).toBe(true);
	expect(verdict(growth, 'sentinel open fds').ok).toBe(true);
	expect(growth.every((entry) => entry.ok)).toBe(true);
});

it('fails RSS that keeps creeping after the first 10 minutes (0.1 MB a minute: +14 % over two hours)', () => {
	const growth = longRunGrowth(run(120, (minute) => 80 + (0.1 * minute)));
	const rss = verdict(growth, 'sentinel RSS (MB)');
	expect(rss.ok).toBe(false);
	expect(rss.growthPercent).toBeGreaterThan(5);
	expect(rss.baseline).toBeCloseTo(81.1, 0);
});

it('fails descriptors that leak one per minute', () => {
	const growth = longRunGrowth(run(120, () => 80, (minute) => 180 + minute));
	expect(verdict(growth, 'sentinel open fds').ok).toBe(false);
});

it('does not judge a run shorter than 14 minutes', () => {
	expect(longRunGrowth(run(13, () => 80))).toEqual([]);
	expect(longRunGrowth(run(14, () => 80))).toHaveLength(5);
});
