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
	  # The whole mesh, through the members' control planes (leases: --fault-lease):
	  - {at: 22s, member: m-3, peer: m-1, drop: 0.5}   # a fault on member m-3 (what it receives from m-1)
	  - {at: 23s, member: m-3, outbound: {delay: 100}} # a fault on what m-3 publishes
	  - {at: 25s, partition: halves}               # also: ring, bridge (member: optional), isolate (member: required)
	  - {at: 28s, partition: isolate, member: m-2}
	  - {at: 35s, clear-all: true}                 # clear every fault on every member

`at` and `end` are seconds when bare numbers; `delay` and `jitter` are milliseconds when bare
numbers; strings may carry a unit (`250ms`, `5s`, `2m`). `drop` and `duplicate` are probabilities
(0.3) or percentages ("30%"). A fault step without `peer` applies to all peers. Steps run in time
order (file order for equal times), each once; the clock starts when the demo peers are up.

With `member`, a fault is set on that member through its control plane and renewed while this node
runs (on a member with no control plane, the nearest fault is set here and the step says so). A
partition is set on every member at once as per-link blackholes, replacing the one in force;
`member` names the member to isolate, or the bridge.
*/

import {readFileSync} from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import type * as Yaml from 'yaml';
import {isPartitionShape, PARTITION_SHAPES, type PartitionShape} from '../cluster/partition-shapes.js';
import {ALL_PEERS, NO_INBOUND_FAULT, NO_OUTBOUND_FAULT, type FaultTarget, type InboundFault, type OutboundFault} from '../mesh/model/fault-types.js';
import {patchInbound, patchOutbound} from '../mesh/model/faults.js';
import {isPrintableId} from '../mesh/model/wire.js';

/**
yaml is read only for a .yaml scenario: loading it costs every process about 2 MiB and 70 ms at
start-up (measured, bench/optimizations.md), and config validation runs in every mode. Synchronous,
because the config is resolved synchronously; yaml ships a CommonJS build for require.
*/
function parseYaml(text: string): unknown {
	const require = createRequire(import.meta.url);
	return (require('yaml') as typeof Yaml).parse(text);
}

export const PEER_ACTIONS = ['kill', 'pause', 'resume', 'revive', 'restart'] as const;
export type PeerAction = (typeof PEER_ACTIONS)[number];

export type ScenarioAction =
	| {action: 'fault'; peer: FaultTarget; fault: Partial<InboundFault>}
	| {action: 'outbound'; fault: Partial<OutboundFault>}
	| {action: PeerAction; peer: string}
	| {action: 'clear'}
	/** A fault on another member, through its control plane: inbound (from all its peers or one) or outbound. */
	| {action: 'member-fault'; member: string; direction: 'inbound'; target: FaultTarget; fault: Partial<InboundFault>}
	| {action: 'member-fault'; member: string; direction: 'outbound'; fault: Partial<OutboundFault>}
	/** A partition of this shape on every member; `member`: the one to isolate, or the bridge. */
	| {action: 'partition'; shape: PartitionShape; member?: string}
	/** Every fault on every member cleared. */
	| {action: 'clear-all'};

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
const STEP_KEYS = new Set(['at', 'note', 'peer', 'member', 'outbound', 'clear', 'partition', 'clear-all', ...FAULT_FIELDS, ...PEER_ACTIONS]);
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
		const named = [
			'peer' in step ? step.peer : undefined,
			'target' in step ? step.target : undefined,
			'member' in step ? step.member : undefined,
		];
		for (const id of named) {
			const index = id === undefined || id === ALL_PEERS ? undefined : /^demo-(\d+)$/.exec(id)?.[1];
			if (index !== undefined && (Number(index) < 1 || Number(index) > demoPeers)) {
				const have = demoPeers === 0 ? 'no demo peers' : `demo peers demo-1 … demo-${demoPeers}`;
				throw new ScenarioError(`${scenario.file}: step ${step.step}: ${id!} does not exist; this run has ${have} (see --demo)`);
			}
		}
	}
}

function parseStep(raw: unknown, step: number): ScenarioStep {
	if (!isPlainObject(raw)) {
		throw new ScenarioError('a step is an object like {"at": "5s", "kill": "demo-2"}');
	}

	for (const key of Object.keys(raw)) {
		if (!STEP_KEYS.has(key)) {
			throw new ScenarioError(`unknown key '${key}'; use at, note, and one of: a fault (${FAULT_FIELDS.join(', ')}, with peer), outbound, ${PEER_ACTIONS.join(', ')}, clear, partition, clear-all (member: for a fault, an outbound fault or a partition on another member)`);
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
		...(raw['partition'] === undefined ? [] : ['partition']),
		...(raw['clear-all'] === undefined ? [] : ['clear-all']),
	];
	if (actions.length === 0) {
		throw new ScenarioError(`nothing to do; give one of: a fault (${FAULT_FIELDS.join(', ')}), outbound, ${PEER_ACTIONS.join(', ')}, clear, partition, clear-all`);
	}

	if (actions.length > 1) {
		throw new ScenarioError(`more than one action (${actions.join(', ')}); give one per step`);
	}

	const base = {step, atMs, ...(note === undefined ? {} : {note})};
	const action = actions[0]!;
	if (raw['peer'] !== undefined && action !== 'fault') {
		throw new ScenarioError(`peer goes with a fault; for ${action}, name the peer as "${action}": "demo-2"`);
	}

	const member = raw['member'] === undefined ? undefined : checkPeerId(raw['member'], 'member');
	if (member !== undefined && action !== 'fault' && action !== 'outbound' && action !== 'partition') {
		throw new ScenarioError(`member goes with a fault, an outbound fault or a partition, not with ${action}`);
	}

	switch (action) {
		case 'partition': {
			return {...base, ...parsePartition(raw['partition'], member)};
		}

		case 'clear-all': {
			if (raw['clear-all'] !== true) {
				throw new ScenarioError('clear-all takes true ("clear-all": true)');
			}

			return {...base, action};
		}

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
			return member === undefined ? {...base, action, peer, fault} : {...base, action: 'member-fault', member, direction: 'inbound', target: peer, fault};
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
			return member === undefined ? {...base, action, fault} : {...base, action: 'member-fault', member, direction: 'outbound', fault};
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

/** `partition: <shape>`, with `member` where the shape takes one (isolate needs it; bridge may have it). */
function parsePartition(value: unknown, member: string | undefined): {action: 'partition'; shape: PartitionShape; member?: string} {
	if (!isPartitionShape(value)) {
		throw new ScenarioError(`partition must be one of ${PARTITION_SHAPES.join(', ')}, not ${JSON.stringify(value)}`);
	}

	if (value === 'isolate' && member === undefined) {
		throw new ScenarioError('partition isolate needs the member to isolate ("member": "m-2")');
	}

	if (member !== undefined && value !== 'isolate' && value !== 'bridge') {
		throw new ScenarioError(`member goes with partition isolate or bridge, not ${value}`);
	}

	return {action: 'partition', shape: value, ...(member === undefined ? {} : {member})};
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
