/**
The scenario player: runs a validated scenario (file.ts) against a mesh controller, each step at its
time, once, in order; the clock starts when the demo peers are up.

Every step is recorded as a `scenario-step` event with what it did and whether it worked, between
`scenario-started` and `scenario-done` (and `scenario-end` when `end` stops the node). The player
records through the session, so its event kinds are declared with the session's (controller.ts).
*/

import {performance} from 'node:perf_hooks';
import type {InboundFault, OutboundFault} from '../mesh/model/fault-types.js';
import type {EventDetails} from '../mesh/snapshot.js';
import type {MeshController, PeerActionResult, SessionEventKind} from '../session/controller.js';
import type {Scenario, ScenarioStep} from './file.js';

/** What the player drives: a mesh controller, with exact pause/resume/restart where it has them. */
export type ScenarioTarget = MeshController & {
	pausePeer?(id: string): Promise<PeerActionResult>;
	resumePeer?(id: string): Promise<PeerActionResult>;
	restartPeer?(id: string): Promise<PeerActionResult>;
};

export type PlayOptions = {
	/** Where step events go: the session's event stream. */
	record: (event: EventDetails<SessionEventKind>) => void;
	/** Called once at `end`, if the scenario has one. */
	onEnd?: () => void;
	/** Resolves when the clock may start (the demo peers are up). */
	startWhen?: Promise<unknown>;
};

export type ScenarioPlayer = {
	/** Resolves after the last step (and after `end`, when there is one) or when stopped. */
	readonly done: Promise<void>;
	stop(): void;
};

const NO_MESH = 'this session reaches no other member (no mesh faults here)';

/** Play a scenario; each step is recorded as a `scenario-step` event with its outcome. */
export function playScenario(target: ScenarioTarget, scenario: Scenario, options: PlayOptions): ScenarioPlayer {
	let stopped = false;
	let wake: (() => void) | undefined;
	let timer: NodeJS.Timeout | undefined;
	const sleepUntil = async (deadlineMs: number) => {
		const waitMs = deadlineMs - performance.now();
		if (waitMs <= 0 || stopped) {
			return;
		}

		await new Promise<void>((resolve) => {
			wake = resolve;
			timer = setTimeout(resolve, waitMs);
		});
		wake = undefined;
	};

	const run = async () => {
		await options.startWhen;
		if (stopped) {
			return;
		}

		const startedAtMs = performance.now();
		options.record({
			kind: 'scenario-started',
			file: scenario.file,
			...(scenario.name === undefined ? {} : {name: scenario.name}),
			steps: scenario.steps.length,
			...(scenario.endMs === undefined ? {} : {endMs: scenario.endMs}),
		});
		let failed = 0;
		for (const step of scenario.steps) {
			// eslint-disable-next-line no-await-in-loop -- steps run one after another, each at its time.
			await sleepUntil(startedAtMs + step.atMs);
			if (stopped) {
				return;
			}

			const lateMs = Math.max(0, Math.round(performance.now() - startedAtMs - step.atMs));
			// eslint-disable-next-line no-await-in-loop -- a step finishes before the next one starts.
			const result = await runStep(target, step);
			if (!result.ok) {
				failed++;
			}

			options.record({kind: 'scenario-step', ...describeStep(step), ok: result.ok, message: result.message, lateMs});
		}

		options.record({kind: 'scenario-done', steps: scenario.steps.length, failed, keepsRunning: scenario.endMs === undefined});
		if (scenario.endMs !== undefined) {
			await sleepUntil(startedAtMs + scenario.endMs);
			if (!stopped) {
				options.record({kind: 'scenario-end', endMs: scenario.endMs});
				options.onEnd?.();
			}
		}
	};

	const done = run().catch((error: unknown) => {
		options.record({kind: 'warning', reason: `scenario stopped: ${(error as Error).message ?? String(error)}`});
	});
	return {
		done,
		stop() {
			stopped = true;
			clearTimeout(timer);
			wake?.();
		},
	};
}

function describeStep(step: ScenarioStep): Record<string, unknown> {
	const {step: index, atMs, note, ...action} = step;
	return {step: index, at: atMs, ...action, ...(note === undefined ? {} : {note})};
}

async function runStep(target: ScenarioTarget, step: ScenarioStep): Promise<PeerActionResult> {
	try {
		switch (step.action) {
			case 'fault': {
				target.setInboundFault(step.peer, step.fault);
				return {ok: true, message: `inbound fault on ${step.peer}: ${describeFault(step.fault)}`};
			}

			case 'outbound': {
				target.setOutboundFault(step.fault);
				return {ok: true, message: `outbound fault: ${describeFault(step.fault)}`};
			}

			case 'clear': {
				target.clearFaults();
				return {ok: true, message: 'all faults cleared'};
			}

			case 'kill': {
				return await target.killPeer(step.peer);
			}

			case 'revive': {
				return await target.revivePeer(step.peer);
			}

			case 'pause': {
				return await (target.pausePeer ? target.pausePeer(step.peer) : toggleInto(target, step.peer, 'pause'));
			}

			case 'resume': {
				return await (target.resumePeer ? target.resumePeer(step.peer) : toggleInto(target, step.peer, 'resume'));
			}

			case 'restart': {
				if (target.restartPeer) {
					return await target.restartPeer(step.peer);
				}

				const killed = await target.killPeer(step.peer);
				return killed.ok ? await target.revivePeer(step.peer) : killed;
			}

			case 'member-fault': {
				if (!target.setMemberFault) {
					return {ok: false, message: NO_MESH};
				}

				return await target.setMemberFault(step.member, step.direction === 'outbound'
					? {direction: 'outbound', fault: step.fault}
					: {direction: 'inbound', target: step.target, fault: step.fault});
			}

			case 'partition': {
				return target.partition ? await target.partition(step.shape, step.member) : {ok: false, message: NO_MESH};
			}

			case 'clear-all': {
				return target.clearAll ? await target.clearAll() : {ok: false, message: NO_MESH};
			}
		}
	} catch (error) {
		return {ok: false, message: (error as Error).message ?? String(error)};
	}
}

/** For a controller with only a toggle: pause or resume unless the peer is that way already. */
async function toggleInto(target: ScenarioTarget, id: string, want: 'pause' | 'resume'): Promise<PeerActionResult> {
	return target.togglePausePeer(id).then((result) => ({...result, message: `${result.message} (asked to ${want})`}));
}

function describeFault(fault: Partial<InboundFault> | Partial<OutboundFault>): string {
	const parts: string[] = [];
	for (const [key, value] of Object.entries(fault)) {
		if (key === 'drop' || key === 'duplicate') {
			parts.push(`${key} ${Math.round((value as number) * 1000) / 10}%`);
		} else if (key === 'delayMs' || key === 'jitterMs') {
			parts.push(`${key.replace('Ms', '')} ${value as number} ms`);
		} else {
			parts.push(`${key} ${String(value)}`);
		}
	}

	return parts.join(', ');
}
