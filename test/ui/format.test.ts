import {describe, expect, test} from 'vitest';
import {NO_INBOUND_FAULT} from '../../source/mesh/model/fault-types.js';
import {
	bucketize,
	escapeControl,
	formatAge,
	formatInboundFault,
	formatPhaseDiff,
	sparkline,
	ttlBar,
} from '../../source/ui/format.js';
import {bindingFor, bindingsOf, DELAY_STEPS_MS, DROP_STEPS, nextStep} from '../../source/ui/keymap.js';
import {computeLayout, MIN_COLUMNS, MIN_ROWS} from '../../source/ui/layout.js';

describe('escapeControl', () => {
	test('shows escape sequences, bell and bidi overrides as visible text', () => {
		expect(escapeControl('evil\u001B]0;pwned\u0007')).toBe(String.raw`evil\x1b]0;pwned\x07`);
		expect(escapeControl('a\u001B[2Jb')).toBe(String.raw`a\x1b[2Jb`);
		expect(escapeControl('\u009B31m')).toBe(String.raw`\x9b31m`);
		expect(escapeControl('admin\u202Egnp.exe')).toBe(String.raw`admin\u202egnp.exe`);
		expect(escapeControl('zero\u200Bwidth')).toBe(String.raw`zero\u200bwidth`);
	});

	test('leaves printable text alone, including non-ASCII', () => {
		expect(escapeControl('demo-1')).toBe('demo-1');
		expect(escapeControl('ノード-φ')).toBe('ノード-φ');
	});
});

describe('formatAge', () => {
	test.each([
		[0, '0ms'],
		[40, '40ms'],
		[999, '999ms'],
		[1000, '1.0s'],
		[1234, '1.2s'],
		[9940, '9.9s'],
		[12_400, '12s'],
		[59_400, '59s'],
		[60_000, '1m00s'],
		[184_000, '3m04s'],
		[7_500_000, '2h05m'],
		[3 * 86_400_000 + 4 * 3_600_000, '3d04h'],
	])('%d ms reads %s', (ms, text) => {
		expect(formatAge(ms)).toBe(text);
	});

	test('nonsense reads ?', () => {
		expect(formatAge(Number.NaN)).toBe('?');
		expect(formatAge(-5)).toBe('?');
	});
});

describe('formatPhaseDiff', () => {
	test('is signed with two decimals', () => {
		expect(formatPhaseDiff(0.04)).toBe('+0.04');
		expect(formatPhaseDiff(-0.04)).toBe('-0.04');
		expect(formatPhaseDiff(-0.001)).toBe('+0.00');
	});

	test('wraps into (−π, π]', () => {
		expect(formatPhaseDiff(3.5)).toBe((3.5 - 2 * Math.PI).toFixed(2));
		expect(formatPhaseDiff(-3.5)).toBe(`+${(2 * Math.PI - 3.5).toFixed(2)}`);
		expect(formatPhaseDiff(Math.PI)).toBe('+3.14');
		expect(formatPhaseDiff(-Math.PI)).toBe('+3.14');
		expect(formatPhaseDiff(4 * Math.PI + 0.5)).toBe('+0.50');
	});
});

describe('ttlBar', () => {
	test.each([
		// Age 0 of a 5 s TTL: full; half way: half; at the TTL: empty.
		[5000, 10, 10],
		[4000, 10, 8],
		[2500, 10, 5],
		[1000, 10, 2],
		[0, 10, 0],
		[2500, 6, 3],
	])('%d ms left of 5000 on %d cells fills %d', (remainingMs, width, cells) => {
		const bar = ttlBar(remainingMs, 5000, width);
		expect(bar.cells).toBe(cells);
		expect(bar.filled).toBe('█'.repeat(cells));
		expect(bar.filled.length + bar.empty.length).toBe(width);
	});

	test('a peer with any TTL left keeps one cell; the bar never overflows', () => {
		expect(ttlBar(10, 5000, 10).cells).toBe(1);
		expect(ttlBar(9000, 5000, 10).cells).toBe(10);
		expect(ttlBar(-5, 5000, 10).cells).toBe(0);
	});
});

describe('faults in words', () => {
	test('drop, delay, jitter, duplicate and blackhole', () => {
		expect(formatInboundFault(undefined)).toBe('');
		expect(formatInboundFault(NO_INBOUND_FAULT)).toBe('');
		expect(formatInboundFault({...NO_INBOUND_FAULT, drop: 0.3, delayMs: 200})).toBe('drop 30% +200ms');
		expect(formatInboundFault({...NO_INBOUND_FAULT, delayMs: 1000})).toBe('+1s');
		expect(formatInboundFault({...NO_INBOUND_FAULT, delayMs: 50, jitterMs: 20, duplicate: 0.05})).toBe('+50ms±20 dup 5%');
		expect(formatInboundFault({...NO_INBOUND_FAULT, blackhole: true, drop: 0.5})).toBe('blackhole');
	});
});

describe('sparkline', () => {
	test('absolute scale from ▁ (r 0) to █ (r 1); gaps are blank', () => {
		expect(sparkline([0, 0.5, 1, undefined])).toBe('▁▅█ ');
	});

	test('buckets average the samples of their slice of the window', () => {
		const samples = [
			{atMs: 1000, value: 0.2},
			{atMs: 1500, value: 0.4},
			{atMs: 9500, value: 1},
			{atMs: -5000, value: 0},
		];
		const buckets = bucketize(samples, 5, 10_000, 10_000);
		expect(buckets[0]).toBeCloseTo(0.3);
		expect(buckets.slice(1, 4)).toEqual([undefined, undefined, undefined]);
		expect(buckets[4]).toBe(1);
	});
});

describe('keymap', () => {
	test('d and l step through the design values and wrap', () => {
		expect(DROP_STEPS).toEqual([0, 0.1, 0.3, 0.5, 1]);
		expect(DELAY_STEPS_MS).toEqual([0, 50, 200, 1000]);
		const drops = [0];
		for (let index = 0; index < 5; index++) {
			drops.push(nextStep(DROP_STEPS, drops.at(-1)!));
		}

		expect(drops).toEqual([0, 0.1, 0.3, 0.5, 1, 0]);
		// A value set elsewhere (a scenario) steps to the next one up.
		expect(nextStep(DELAY_STEPS_MS, 120)).toBe(200);
	});

	test('every key has one binding, and Ctrl-C quits rather than clearing faults', () => {
		const key = (fields: Record<string, boolean> = {}) => ({ctrl: false, meta: false, upArrow: false, downArrow: false, pageUp: false, pageDown: false, home: false, end: false, ...fields}) as any;
		for (const input of ['d', 'l', 'x', 'p', 'r', 'a', 'c', ' ', '/', 's', '?', 'q', 'j', 'k']) {
			// One binding a screen: space, g and G mean one thing live and another in a replay.
			for (const mode of ['live', 'replay'] as const) {
				const matching = bindingsOf(mode).filter((binding) => binding.matches(input, key()));
				// A key of the mode itself hides a key of both.
				const meant = matching.some((binding) => binding.mode === mode) ? matching.filter((binding) => binding.mode === mode) : matching;
				expect(meant).toHaveLength(1);
			}
		}

		expect(bindingFor('c', key({ctrl: true}))?.action).toBe('quit');
		expect(bindingFor('c', key())?.action).toBe('clear-faults');
		expect(bindingFor('', key({upArrow: true}))?.action).toBe('select-up');
	});
});

describe('layout', () => {
	test('the frame is always shorter than the terminal, and the table keeps three rows', () => {
		for (let rows = MIN_ROWS; rows <= 80; rows++) {
			for (const columns of [MIN_COLUMNS, 60, 80, 120, 250]) {
				const layout = computeLayout(columns, rows);
				if (layout.tooSmall) {
					throw new Error(`${columns}×${rows} should fit`);
				}

				expect(layout.frameLines).toBe(rows - 1);
				// Header 4, table header 1, rows, log title and lines, footer 2.
				expect(4 + 1 + layout.tableRows + (layout.logLines > 0 ? layout.logLines + 1 : 0) + 2).toBe(rows - 1);
				expect(layout.tableRows).toBeGreaterThanOrEqual(3);
			}
		}
	});

	test('the columns add up to the width', () => {
		for (const columns of [MIN_COLUMNS, 60, 79, 80, 120, 250]) {
			const layout = computeLayout(columns, 24);
			if (layout.tooSmall) {
				throw new Error('fits');
			}

			const t = layout.table;
			expect(t.marker + t.id + t.state + t.age + t.ttlBar + 2 + t.lamport + t.phaseDiff + t.faults).toBe(columns);
			expect(t.faults).toBeGreaterThanOrEqual(8);
		}
	});

	test('below the minimum the layout says so', () => {
		expect(computeLayout(MIN_COLUMNS - 1, 24).tooSmall).toBe(true);
		expect(computeLayout(80, MIN_ROWS - 1).tooSmall).toBe(true);
	});
});
