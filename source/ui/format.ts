/**
How numbers and strings look on the screen. Pure functions, so that the panes can be tested with
fixed snapshots and every pane formats the same fact the same way.
*/

import type {InboundFault, OutboundFault} from '../mesh/model/fault-types.js';
import {wrapPhase} from '../mesh/model/kuramoto.js';

/**
C0 and C1 controls, DEL, and the Unicode format characters that reorder or hide text (bidi
overrides and isolates, zero-width joiners, the BOM). A peer id or a reason comes from the network:
printed raw, `\u001B]0;pwned\u0007` would retitle the operator's terminal and a bidi override would
make one id read as another.
*/

const UNSAFE_CHARACTERS = /[\u0000-\u001F\u007F-\u009F\u00AD\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/gu;

/** Show control and invisible characters as visible escapes (`\x1b`, `\u202e`). */
export function escapeControl(text: string): string {
	return text.replaceAll(UNSAFE_CHARACTERS, (character) => {
		const code = character.codePointAt(0)!;
		return code <= 0xFF ? String.raw`\x${code.toString(16).padStart(2, '0')}` : String.raw`\u${code.toString(16).padStart(4, '0')}`;
	});
}

/** A duration as an operator reads it: `40ms`, `1.2s`, `12s`, `3m04s`, `2h05m`, `3d04h`. */
export function formatAge(ms: number): string {
	if (!Number.isFinite(ms) || ms < 0) {
		return '?';
	}

	if (ms < 1000) {
		return `${Math.round(ms)}ms`;
	}

	if (ms < 9950) {
		return `${(ms / 1000).toFixed(1)}s`;
	}

	const totalS = Math.round(ms / 1000);
	if (totalS < 60) {
		return `${totalS}s`;
	}

	const totalMin = Math.floor(totalS / 60);
	if (totalMin < 60) {
		return `${totalMin}m${String(totalS % 60).padStart(2, '0')}s`;
	}

	const totalH = Math.floor(totalMin / 60);
	if (totalH < 24) {
		return `${totalH}h${String(totalMin % 60).padStart(2, '0')}m`;
	}

	return `${Math.floor(totalH / 24)}d${String(totalH % 24).padStart(2, '0')}h`;
}

/** A phase difference wrapped to (−π, π], signed, in radians: `+0.04`, `-3.14`. */
export function formatPhaseDiff(rad: number): string {
	if (!Number.isFinite(rad)) {
		return '?';
	}

	const wrapped = wrapPhase(rad);
	// -0.004 rounds to "-0.00", which reads as a difference; show it as zero.
	const text = wrapped.toFixed(2);
	return text === '-0.00' ? '+0.00' : wrapped >= 0 ? `+${text}` : text;
}

export type TtlBar = {filled: string; empty: string; cells: number};

/**
The TTL bar: full when the peer was just heard from, draining while it is silent, empty at
eviction. `filled` + `empty` is always `width` cells.
*/
export function ttlBar(ttlRemainingMs: number, ttlMs: number, width: number): TtlBar {
	const fraction = ttlMs > 0 ? Math.min(1, Math.max(0, ttlRemainingMs / ttlMs)) : 0;
	// A peer with any TTL left shows at least one cell, so "almost gone" never reads as "gone".
	const cells = fraction === 0 ? 0 : Math.max(1, Math.round(fraction * width));
	return {filled: '█'.repeat(cells), empty: '░'.repeat(width - cells), cells};
}

/** A probability as a whole percentage: 0.3 -> `30%`. */
export function formatPercent(probability: number): string {
	return `${Math.round(probability * 100)}%`;
}

/** Delays read `+50ms`, `+1s`. */
export function formatDelay(ms: number): string {
	return ms >= 1000 && ms % 1000 === 0 ? `+${ms / 1000}s` : `+${ms}ms`;
}

/** An inbound fault in a few words (`drop 30% +200ms`); empty when there is none. */
export function formatInboundFault(fault: InboundFault | undefined): string {
	if (!fault) {
		return '';
	}

	if (fault.blackhole) {
		return 'blackhole';
	}

	const parts: string[] = [];
	if (fault.drop > 0) {
		parts.push(`drop ${formatPercent(fault.drop)}`);
	}

	if (fault.delayMs > 0 || fault.jitterMs > 0) {
		parts.push(fault.jitterMs > 0 ? `${formatDelay(fault.delayMs)}±${fault.jitterMs}` : formatDelay(fault.delayMs));
	}

	if (fault.duplicate > 0) {
		parts.push(`dup ${formatPercent(fault.duplicate)}`);
	}

	return parts.join(' ');
}

export function formatOutboundFault(fault: OutboundFault | undefined): string {
	if (!fault) {
		return '';
	}

	return formatInboundFault({...fault, duplicate: 0, blackhole: false});
}

const SPARK_LEVELS = '▁▂▃▄▅▆▇█';

/**
A sparkline of values in [0, 1] on an absolute scale (so a flat line at the top means r ≈ 1, not
"no change"). Missing buckets are blank.
*/
export function sparkline(values: ReadonlyArray<number | undefined>): string {
	return values
		.map((value) => {
			if (value === undefined || !Number.isFinite(value)) {
				return ' ';
			}

			const level = Math.round(Math.min(1, Math.max(0, value)) * (SPARK_LEVELS.length - 1));
			return SPARK_LEVELS[level]!;
		})
		.join('');
}

/**
Average `samples` into `buckets` equal time slices of the window ending at `endMs`, oldest first.
A slice with no sample is undefined.
*/
export function bucketize(
	samples: ReadonlyArray<{atMs: number; value: number}>,
	buckets: number,
	windowMs: number,
	endMs: number,
): Array<number | undefined> {
	const sums = Array.from({length: buckets}, () => 0);
	const counts = Array.from({length: buckets}, () => 0);
	const startMs = endMs - windowMs;
	for (const {atMs, value} of samples) {
		if (atMs < startMs || atMs > endMs) {
			continue;
		}

		const index = Math.min(buckets - 1, Math.floor(((atMs - startMs) / windowMs) * buckets));
		sums[index]! += value;
		counts[index]!++;
	}

	return sums.map((sum, index) => (counts[index] === 0 ? undefined : sum / counts[index]!));
}

/** Wall-clock time of day, local, for the event log: `14:03:07`. */
export function formatClock(wallMs: number): string {
	const date = new Date(wallMs);
	return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/** Pad or cut a plain string to exactly `width` cells (for ASCII-only text such as numbers). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
	if (text.length > width) {
		return width <= 1 ? text.slice(0, width) : `${text.slice(0, width - 1)}…`;
	}

	return align === 'left' ? text.padEnd(width) : text.padStart(width);
}
