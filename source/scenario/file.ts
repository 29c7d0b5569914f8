/**
Scenario files: a timeline of faults and peer actions played against a running mesh, for
reproducible demos and experiments. `--scenario file.json` (or .yaml/.yml). This file reads and
validates them; player.ts plays them.

	# Either a list of steps, or an object with `steps` and optionally `name` and `end`.
	name: lossy-then-crash
	end: 30s                         # stop the node this long after the start (else it keeps running)
	steps:
	  - {at: 5s, peer: demo-2, drop: 0.3}          # inbound fault: drop, delay, jitter, duplicate, blackhole
	  - {at: 8s, outbound: {delay: 200ms}}         # fault on what this node publishes: drop, delay, jitter
	  - {at: 10, kill: demo-3}                     # also: pause, resume, revive, restart
	  - {at: 15, revive: demo-3, note: back}       # a note is carried into the step's event
	  - {at: 20s, clear: true}                     # clear every fault

`at` and `end` are seconds when bare numbers; `delay` and `jitter` are milliseconds when bare
numbers; strings may carry a unit (`250ms`, `5s`, `2m`). `drop` and `duplicate` are probabilities
(0.3) or percentages ("30%"). A fault step without `peer` applies to all peers. Steps run in time
order (file order for equal times), each once; the clock starts when the demo peers are up.
*/

import {readFileSync} from 'node:fs';
import path from 'node:path';
import {parse as parseYaml} from 'yaml';
import {ALL_PEERS, NO_INBOUND_FAULT, NO_OUTBOUND_FAULT, type FaultTarget, type InboundFault, type OutboundFault} from '../mesh/model/fault-types.js';
import {patchInbound, patchOutbound} from '../mesh/model/faults.js';
import {isPrintableId} from '../mesh/model/wire.js';

export const PEER_ACTIONS = ['kill', 'pause', 'resume', 'revive', 'restart'] as const;
export type PeerAction = (typeof PEER_ACTIONS)[number];

export type ScenarioAction =
	| {action: 'fault'; peer: FaultTarget; fault: Partial<InboundFault>}
	| {action: 'outbound'; fault: Partial<OutboundFault>}
	| {action: PeerAction; peer: string}
	| {action: 'clear'};

export type ScenarioStep = ScenarioAction & {
	/** 1-based position in the file, as error messages and events name it. */
	step: number;
	atMs: number;
	note?: string;
};

export type Scenario = {
	file: string;
	name?: string;
	/** Stop the node this long after the scenario started; absent: keep running. */
	endMs?: number;
	steps: ScenarioStep[];
};

/** The longest timeline we accept: a week. */
const MAX_TIME_MS = 7 * 24 * 3600 * 1000;
const FAULT_FIELDS = ['drop', 'delay', 'jitter', 'duplicate', 'blackhole'] as const;
const STEP_KEYS = new Set(['at', 'note', 'peer', 'outbound', 'clear', ...FAULT_FIELDS, ...PEER_ACTIONS]);
const TOP_KEYS = new Set(['name', 'end', 'steps']);

/** A scenario that cannot be played, with a one-line message naming the file and the step. */
export class ScenarioError extends Error {
	override name = 'ScenarioError';
}

/** Read and validate a scenario file; throws a ScenarioError naming the file and the step. */
export function loadScenario(file: string): Scenario {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		throw new ScenarioError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code ?? (error as Error).message}`);
	}

	let data: unknown;
	const extension = path.extname(file).toLowerCase();
	try {
		data = extension === '.yaml' || extension === '.yml' ? parseYaml(text) : JSON.parse(text);
	} catch (error) {
		const kind = extension === '.yaml' || extension === '.yml' ? 'YAML' : 'JSON';
		const reason = ((error as Error).message ?? String(error)).split('\n')[0];
		throw new ScenarioError(`${file} is not valid ${kind}: ${reason}`);
	}

	try {
		return parseScenario(data, file);
	} catch (error) {
		if (error instanceof ScenarioError) {
			throw new ScenarioError(`${file}: ${error.message}`);
		}

		throw error;
	}
}

/** Validate parsed scenario data (what a JSON or YAML file holds). Throws with a one-line message. */
export function parseScenario(data: unknown, file = '<scenario>'): Scenario {
	let rawSteps: unknown;
	const scenario: Scenario = {file, steps: []};
	if (Array.isArray(data)) {
		rawSteps = data;
	} else if (isPlainObject(data)) {
		for (const key of Object.keys(data)) {
			if (!TOP_KEYS.has(key)) {
				throw new ScenarioError(`unknown key '${key}'; a scenario has steps, and optionally name and end`);
			}
		}

		if (data['name'] !== undefined) {
			if (typeof data['name'] !== 'string') {
				throw new ScenarioError('name must be text');
			}

			scenario.name = data['name'];
		}

		if (data['end'] !== undefined) {
			scenario.endMs = parseDuration(data['end'], 's', 'end');
		}

		rawSteps = data['steps'];
		if (rawSteps === undefined) {
			throw new ScenarioError('no steps; give a list of steps, e.g. [{"at": "5s", "kill": "demo-2"}]');
		}
	} else {
		throw new ScenarioError('a scenario is a list of steps or an object with steps');
	}

	if (!Array.isArray(rawSteps)) {
		throw new ScenarioError('steps must be a list');
	}

	scenario.steps = rawSteps.map((raw, offset) => {
		const step = offset + 1;
		try {
			return parseStep(raw, step);
		} catch (error) {
			if (error instanceof ScenarioError) {
				throw new ScenarioError(`step ${step}${describeAt(raw)}: ${error.message}`);
			}

			throw error;
		}
	});
	// A stable sort: equal times keep file order.
	scenario.steps.sort((a, b) => a.atMs - b.atMs);
	const last = scenario.steps.at(-1);
	if (scenario.endMs !== undefined && last !== undefined && last.atMs > scenario.endMs) {
		throw new ScenarioError(`end ${formatMs(scenario.endMs)} comes before step ${last.step} at ${formatMs(last.atMs)}`);
	}

	return scenario;
}

/**
Refuse steps on demo peers this run will not have (`demo-7` with four demo peers): a typo would
otherwise blackhole a peer that never exists.
*/
export function checkScenarioPeers(scenario: Scenario, demoPeers: number): void {
	for (const step of scenario.steps) {
		if (!('peer' in step) || step.peer === ALL_PEERS) {
			continue;
		}

		const index = /^demo-(\d+)$/.exec(step.peer)?.[1];
		if (index !== undefined && (Number(index) < 1 || Number(index) > demoPeers)) {
			const have = demoPeers === 0 ? 'no demo peers' : `demo peers demo-1 … demo-${demoPeers}`;
			throw new ScenarioError(`${scenario.file}: step ${step.step}: ${step.peer} does not exist; this run has ${have} (see --demo)`);
		}
	}
}

function parseStep(raw: unknown, step: number): ScenarioStep {
	if (!isPlainObject(raw)) {
		throw new ScenarioError('a step is an object like {"at": "5s", "kill": "demo-2"}');
	}

	for (const key of Object.keys(raw)) {
		if (!STEP_KEYS.has(key)) {
			throw new ScenarioError(`unknown key '${key}'; use at, note, and one of: a fault (${FAULT_FIELDS.join(', ')}, with peer), outbound, ${PEER_ACTIONS.join(', ')}, clear`);
		}
	}

	if (raw['at'] === undefined) {
		throw new ScenarioError('no time; add "at", e.g. "at": "5s"');
	}

	const atMs = parseDuration(raw['at'], 's', 'at');
	const note = raw['note'];
	if (note !== undefined && typeof note !== 'string') {
		throw new ScenarioError('note must be text');
	}

	const faultKeys = FAULT_FIELDS.filter((key) => raw[key] !== undefined);
	const actions = [
		...(faultKeys.length > 0 ? ['fault'] : []),
		...(raw['outbound'] === undefined ? [] : ['outbound']),
		...PEER_ACTIONS.filter((key) => raw[key] !== undefined),
		...(raw['clear'] === undefined ? [] : ['clear']),
	];
	if (actions.length === 0) {
		throw new ScenarioError(`nothing to do; give one of: a fault (${FAULT_FIELDS.join(', ')}), outbound, ${PEER_ACTIONS.join(', ')}, clear`);
	}

	if (actions.length > 1) {
		throw new ScenarioError(`more than one action (${actions.join(', ')}); give one per step`);
	}

	const base = {step, atMs, ...(note === undefined ? {} : {note})};
	const action = actions[0]!;
	if (raw['peer'] !== undefined && action !== 'fault') {
		throw new ScenarioError(`peer goes with a fault; for ${action}, name the peer as "${action}": "demo-2"`);
	}

	switch (action) {
		case 'fault': {
			const peer = raw['peer'] === undefined ? ALL_PEERS : checkPeerId(raw['peer'], 'peer');
			const fault: Partial<InboundFault> = {};
			if (raw['drop'] !== undefined) {
				fault.drop = parseProbability(raw['drop'], 'drop');
			}

			if (raw['delay'] !== undefined) {
				fault.delayMs = parseDuration(raw['delay'], 'ms', 'delay');
			}

			if (raw['jitter'] !== undefined) {
				fault.jitterMs = parseDuration(raw['jitter'], 'ms', 'jitter');
			}

			if (raw['duplicate'] !== undefined) {
				fault.duplicate = parseProbability(raw['duplicate'], 'duplicate');
			}

			if (raw['blackhole'] !== undefined) {
				if (typeof raw['blackhole'] !== 'boolean') {
					throw new ScenarioError('blackhole must be true or false');
				}

				fault.blackhole = raw['blackhole'];
			}

			checkWithFaults(() => patchInbound(NO_INBOUND_FAULT, fault));
			return {...base, action, peer, fault};
		}

		case 'outbound': {
			const value = raw['outbound'];
			if (!isPlainObject(value)) {
				throw new ScenarioError('outbound must be an object of drop, delay, jitter');
			}

			const fault: Partial<OutboundFault> = {};
			for (const key of Object.keys(value)) {
				if (key === 'drop') {
					fault.drop = parseProbability(value[key], 'outbound drop');
				} else if (key === 'delay') {
					fault.delayMs = parseDuration(value[key], 'ms', 'outbound delay');
				} else if (key === 'jitter') {
					fault.jitterMs = parseDuration(value[key], 'ms', 'outbound jitter');
				} else {
					throw new ScenarioError(`unknown outbound fault '${key}'; use drop, delay, jitter`);
				}
			}

			checkWithFaults(() => patchOutbound(NO_OUTBOUND_FAULT, fault));
			return {...base, action, fault};
		}

		case 'clear': {
			if (raw['clear'] !== true) {
				throw new ScenarioError('clear takes true ("clear": true)');
			}

			return {...base, action};
		}

		default: {
			const peerAction = action as PeerAction;
			return {...base, action: peerAction, peer: checkPeerId(raw[peerAction], peerAction)};
		}
	}
}

/** The fault module's own limits (delay at most 60 s ...), reported in the scenario's words. */
function checkWithFaults(check: () => unknown): void {
	try {
		check();
	} catch (error) {
		throw new ScenarioError((error as Error).message);
	}
}

function checkPeerId(value: unknown, key: string): string {
	if (typeof value !== 'string' || !isPrintableId(value)) {
		throw new ScenarioError(`${key} must be a peer id (1-64 printable characters), not ${JSON.stringify(value)}`);
	}

	return value;
}

function parseProbability(value: unknown, key: string): number {
	let number = Number.NaN;
	if (typeof value === 'number') {
		number = value;
	} else if (typeof value === 'string') {
		const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
		number = match ? Number(match[1]) / 100 : Number.NaN;
	}

	if (!Number.isFinite(number) || number < 0 || number > 1) {
		throw new ScenarioError(`${key} must be a probability from 0 to 1 or a percentage like "30%", not ${JSON.stringify(value)}`);
	}

	return number;
}

/** `5`, `"5"` (in `bareUnit`), `"250ms"`, `"1.5s"`, `"2m"` to milliseconds. */
export function parseDuration(value: unknown, bareUnit: 's' | 'ms', key: string): number {
	const scale = {ms: 1, s: 1000, m: 60_000, min: 60_000};
	let ms = Number.NaN;
	if (typeof value === 'number') {
		ms = value * scale[bareUnit];
	} else if (typeof value === 'string') {
		const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min)?\s*$/.exec(value);
		if (match) {
			ms = Number(match[1]) * scale[(match[2] ?? bareUnit) as keyof typeof scale];
		}
	}

	if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME_MS) {
		const example = bareUnit === 's' ? '"5s", "500ms" or 5 (seconds)' : '"200ms", "1s" or 200 (milliseconds)';
		throw new ScenarioError(`${key} must be a time like ${example}, not ${JSON.stringify(value)}`);
	}

	return Math.round(ms);
}

function describeAt(raw: unknown): string {
	return isPlainObject(raw) && (typeof raw['at'] === 'string' || typeof raw['at'] === 'number') ? ` (at ${String(raw['at'])})` : '';
}

function formatMs(ms: number): string {
	return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}
