// Scenario steps on the whole mesh: faults on another member, partitions by shape, clear-all.
// Validation as pure parsing and through the built CLI (one line, exit code 2); playing against
// real sessions with control planes on loopback.
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {resolveConfig} from '../../source/config.js';
import {checkScenarioPeers, parseScenario, ScenarioError} from '../../source/scenario/file.js';
import {playScenario} from '../../source/scenario/player.js';
import type {SessionEvent} from '../../source/session/controller.js';
import {MeshSession} from '../../source/session/session.js';
import {portWithFreeNext} from '../cluster/control-helpers.js';
import {CLI_PATH} from '../helpers/headless-process.js';
import {eventually} from '../helpers/nodes.js';
import {loopback} from '../helpers/ports.js';

const directory = mkdtempSync(path.join(tmpdir(), 'chorus-mesh-steps-'));
afterAll(() => {
	rmSync(directory, {recursive: true, force: true});
});

describe('mesh steps in a scenario file', () => {
	it('reads member faults, partitions and clear-all', () => {
		const scenario = parseScenario([
			{at: 1, member: 'm-3', peer: 'm-1', drop: 0.5},
			{at: 2, member: 'm-3', blackhole: true},
			{at: 3, member: 'm-2', outbound: {delay: '100ms'}},
			{at: 4, partition: 'halves'},
			{at: 5, partition: 'isolate', member: 'm-2'},
			{at: 6, partition: 'bridge'},
			{at: 7, partition: 'ring'},
			{at: 8, 'clear-all': true},
		]);
		expect(scenario.steps.map(({step: _step, atMs: _atMs, ...action}) => action)).toEqual([
			{action: 'member-fault', member: 'm-3', direction: 'inbound', target: 'm-1', fault: {drop: 0.5}},
			{action: 'member-fault', member: 'm-3', direction: 'inbound', target: 'all', fault: {blackhole: true}},
			{action: 'member-fault', member: 'm-2', direction: 'outbound', fault: {delayMs: 100}},
			{action: 'partition', shape: 'halves'},
			{action: 'partition', shape: 'isolate', member: 'm-2'},
			{action: 'partition', shape: 'bridge'},
			{action: 'partition', shape: 'ring'},
			{action: 'clear-all'},
		]);
	});

	it.each([
		[{at: 1, partition: 'quarters'}, 'step 1 (at 1): partition must be one of halves, isolate, bridge, ring, not "quarters"'],
		[{at: 1, partition: 'isolate'}, 'step 1 (at 1): partition isolate needs the member to isolate ("member": "m-2")'],
		[{at: 1, partition: 'halves', member: 'm-2'}, 'step 1 (at 1): member goes with partition isolate or bridge, not halves'],
		[{at: 1, kill: 'demo-1', member: 'm-2'}, 'step 1 (at 1): member goes with a fault, an outbound fault or a partition, not with kill'],
		[{at: 1, 'clear-all': 'yes'}, 'step 1 (at 1): clear-all takes true ("clear-all": true)'],
		[{at: 1, partition: 'ring', 'clear-all': true}, 'step 1 (at 1): more than one action (partition, clear-all); give one per step'],
		[{at: 1, member: 3, drop: 0.1}, 'step 1 (at 1): member must be a peer id (1-64 printable characters), not 3'],
	])('refuses %j in one line', (step, message) => {
		expect(() => parseScenario([step])).toThrow(new ScenarioError(message));
	});

	it('refuses a member that names a demo peer this run will not have', () => {
		const scenario = parseScenario([{at: 1, partition: 'isolate', member: 'demo-9'}], 'x.yaml');
		expect(() => {
			checkScenarioPeers(scenario, 4);
		}).toThrow('x.yaml: step 1: demo-9 does not exist; this run has demo peers demo-1 … demo-4 (see --demo)');
	});

	it('makes the CLI say what is wrong in one line and exit with 2', () => {
		const file = path.join(directory, 'bad.yaml');
		writeFileSync(file, 'steps:\n  - {at: 2s, partition: isolate}\n');
		const result = spawnSync(process.execPath, [CLI_PATH, '--headless', '--demo', '0', '--scenario', file], {encoding: 'utf8', timeout: 20_000});
		expect(result.status).toBe(2);
		expect(result.stderr.trim().split('\n')).toHaveLength(1);
		expect(result.stderr).toContain('partition isolate needs the member to isolate');
	});
});

describe('mesh steps played against real sessions', () => {
	it('sets a fault on another member, isolates one, and clears every member', async () => {
		const ports = [await portWithFreeNext(), await portWithFreeNext(), await portWithFreeNext()];
		const ids = ['s-1', 's-2', 's-3'];
		const sessions = ids.map((id, index) => new MeshSession(resolveConfig({
			id,
			bind: String(ports[index]),
			peer: ports.filter((_, other) => other !== index).map((port) => loopback(port)),
			demo: '0',
			faultLease: '0',
			gossipInterval: '0.5',
		})));
		const events: SessionEvent[] = [];
		try {
			for (const session of sessions) {
				await session.start();
			}

			const player = sessions[0]!;
			await eventually('s-1 knows the control planes of s-2 and s-3', () => player.members().filter((member) => member.control !== undefined).length === 3, 15_000);
			const scenario = parseScenario([
				{at: 0, member: 's-2', peer: 's-3', drop: 0.25},
				{at: 0.2, partition: 'isolate', member: 's-3'},
				{at: 0.4, 'clear-all': true},
			]);
			const played = playScenario(player, scenario, {
				record(event) {
					events.push({t: 0, ...event});
				},
			});
			await eventually('s-2 holds the fault', () => sessions[1]!.node.faults().peers['s-3']?.drop === 0.25, 5000);
			await eventually('s-3 is isolated on every member', () =>
				sessions[0]!.node.faults().peers['s-3']?.blackhole
				&& sessions[1]!.node.faults().peers['s-3']?.blackhole
				&& sessions[2]!.node.faults().peers['s-1']?.blackhole
				&& sessions[2]!.node.faults().peers['s-2']?.blackhole, 5000);
			await played.done;
			const steps = events.filter((event) => event.kind === 'scenario-step');
			expect(steps.map((step) => [step['action'], step['ok']])).toEqual([['member-fault', true], ['partition', true], ['clear-all', true]]);
			expect(steps[0]!['message']).toMatch(/drop 25% on s-2 \(inbound from s-3\), no lease/);
			expect(steps[1]!['message']).toMatch(/partition isolate of s-3 set on 3 of 3/);
			expect(steps[2]!['message']).toMatch(/cleared on 3 of 3 members/);
			for (const session of sessions) {
				expect(Object.keys(session.node.faults().peers)).toEqual([]);
			}
		} finally {
			await Promise.all(sessions.map(async (session) => session.stop()));
		}
	}, 30_000);
});
