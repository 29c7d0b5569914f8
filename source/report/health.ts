/**
Whether the node ticks on time, for `/healthz` (a probe's question). Judged from the tick loop's
own timing, not from whether the HTTP server answers: a process that was frozen (SIGSTOP, a long GC
pause, a starved CPU) answers again as soon as it runs, yet it missed its publishes meanwhile.

The bound is three tick periods, the silence after which peers mark a node `suspect`: /healthz fails
exactly when the rest of the mesh starts to see this node as unwell.
- `stalled`: no tick has started for more than three periods (asked while the loop is stuck).
- `late`: a tick started more than three periods behind schedule, and fewer than `recoveryTicks`
  on-time ticks have run since (asked just after a freeze: the late tick has already run).
- `starting`: fewer than `recoveryTicks` ticks have run since the start.
Otherwise `ok`. A node that runs late by less than three periods on every tick is degraded, not
down: its peers still hear it, and its lateness histogram says how late it runs.
*/

/** On-time ticks in a row needed to be healthy again (1 s at the default 10 Hz). */
export const RECOVERY_TICKS = 10;

/** Tick periods of silence or lateness after which the node is unhealthy (peers call a node silent this long `suspect`). */
export const STALL_PERIODS = 3;

export type HealthStatus = 'ok' | 'starting' | 'late' | 'stalled';

export type HealthReport = {
	status: HealthStatus;
	/** Milliseconds since the latest tick started; undefined before the first. */
	sinceTickMs: number | undefined;
	/** How late the latest tick started, in milliseconds. */
	lastLateMs: number;
	/** On-time ticks in a row, up to the latest. */
	onTimeTicks: number;
	/** The bound both rules use: STALL_PERIODS tick periods, in milliseconds. */
	boundMs: number;
};

/**
Follows the tick loop through the node's lateness hook (one call per tick, no allocation) and judges
on demand. Time is passed in, so the rules are tested without sleeps.
*/
export class TickHealth {
	readonly #boundMs: number;
	readonly #recoveryTicks: number;
	#lastTickAtMs: number | undefined;
	#lastLateMs = 0;
	#onTimeTicks = 0;
	#wasLate = false;

	constructor(options: {hz: number; recoveryTicks?: number}) {
		this.#boundMs = (STALL_PERIODS * 1000) / options.hz;
		this.#recoveryTicks = options.recoveryTicks ?? RECOVERY_TICKS;
	}

	/** A tick started at `nowMs`, `lateMs` behind schedule. */
	tick(lateMs: number, nowMs: number): void {
		this.#lastTickAtMs = nowMs;
		this.#lastLateMs = lateMs;
		if (lateMs > this.#boundMs) {
			this.#onTimeTicks = 0;
			this.#wasLate = true;
		} else {
			this.#onTimeTicks++;
		}
	}

	judge(nowMs: number): HealthReport {
		const sinceTickMs = this.#lastTickAtMs === undefined ? undefined : nowMs - this.#lastTickAtMs;
		return {
			status: this.#status(sinceTickMs),
			sinceTickMs: sinceTickMs === undefined ? undefined : Math.round(sinceTickMs),
			lastLateMs: Math.round(this.#lastLateMs * 10) / 10,
			onTimeTicks: this.#onTimeTicks,
			boundMs: Math.round(this.#boundMs),
		};
	}

	#status(sinceTickMs: number | undefined): HealthStatus {
		if (sinceTickMs !== undefined && sinceTickMs > this.#boundMs) {
			return 'stalled';
		}

		if (this.#onTimeTicks >= this.#recoveryTicks) {
			return 'ok';
		}

		// With no late tick ever, we are still counting up from the start.
		return this.#wasLate ? 'late' : 'starting';
	}
}
