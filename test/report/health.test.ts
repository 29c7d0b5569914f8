// /healthz's rules (report/health.ts), with time passed in: three tick periods of silence or
// lateness make a node unhealthy, and RECOVERY_TICKS on-time ticks make it healthy again.
import {describe, expect, it} from 'vitest';
import {RECOVERY_TICKS, TickHealth} from '../../source/report/health.js';

/** Tick `count` times on schedule at 10 Hz from `fromMs`; returns the time of the last tick. */
function tickOnTime(health: TickHealth, fromMs: number, count: number): number {
	let nowMs = fromMs;
	for (let index = 0; index < count; index++) {
		nowMs += 100;
		health.tick(0.5, nowMs);
	}

	return nowMs;
}

describe('TickHealth', () => {
	it('is starting until RECOVERY_TICKS ticks have run on time, then ok', () => {
		const health = new TickHealth({hz: 10});
		expect(health.judge(0).status).toBe('starting');
		let nowMs = tickOnTime(health, 0, RECOVERY_TICKS - 1);
		expect(health.judge(nowMs).status).toBe('starting');
		nowMs = tickOnTime(health, nowMs, 1);
		expect(health.judge(nowMs + 50)).toEqual({status: 'ok', sinceTickMs: 50, lastLateMs: 0.5, onTimeTicks: RECOVERY_TICKS, boundMs: 300});
	});

	it('is stalled once no tick has started for more than three periods', () => {
		const health = new TickHealth({hz: 10});
		const nowMs = tickOnTime(health, 0, 20);
		expect(health.judge(nowMs + 300).status).toBe('ok');
		expect(health.judge(nowMs + 301).status).toBe('stalled');
	});

	it('is late after a tick more than three periods behind, until ticks are on time again', () => {
		const health = new TickHealth({hz: 10});
		let nowMs = tickOnTime(health, 0, 20);
		// A freeze of 2 s: the next tick starts 2 s late, and is judged at once.
		nowMs += 2000;
		health.tick(1900, nowMs);
		expect(health.judge(nowMs).status).toBe('late');
		nowMs = tickOnTime(health, nowMs, RECOVERY_TICKS - 1);
		expect(health.judge(nowMs).status).toBe('late');
		nowMs = tickOnTime(health, nowMs, 1);
		expect(health.judge(nowMs).status).toBe('ok');
	});

	it('takes lateness under the bound as on time: degraded is not down', () => {
		const health = new TickHealth({hz: 10});
		let nowMs = 0;
		for (let index = 0; index < 30; index++) {
			nowMs += 100;
			health.tick(250, nowMs);
		}

		expect(health.judge(nowMs).status).toBe('ok');
		health.tick(301, nowMs + 100);
		expect(health.judge(nowMs + 100).status).toBe('late');
	});

	it('scales its bound with the tick rate', () => {
		expect(new TickHealth({hz: 1}).judge(0).boundMs).toBe(3000);
		expect(new TickHealth({hz: 50}).judge(0).boundMs).toBe(60);
	});
});
