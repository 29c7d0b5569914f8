/**
Scenario files: read and validated up front, a bad one refused with one line naming the entry and
exit code 2 before anything starts.
*/

import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {parseScenario, ScenarioError} from '../../source/scenario/file.js';
import {CLI_PATH} from '../helpers/headless-process.js';

const directory = mkdtempSync(path.join(tmpdir(), 'chorus-scenario-'));
afterAll(() => {
	rmSync(directory, {recursive: true, force: true});
});

function writeScenario(name: string, text: string): string {
	const file = path.join(directory, name);
	writeFileSync(file, text);
	return file;
}

describe('scenario format', () => {
	it('reads times, probabilities and actions, and sorts steps by time', () => {
		const scenario = parseScenario({
			name: 'demo',
			end: '1m',
			steps: [
				{at: 10, kill: 'demo-3'},
				{at: '5s', drop: '30%', peer: 'demo-2', delay: '1s', jitter: 20},
				{at: '500ms', outbound: {drop: 0.1, delay: 200}},
				{at: 10, revive: 'demo-3', note: 'same time, file order'},
				{at: 20, clear: true},
				{at: 21, blackhole: true},
			],
		});
		expect(scenario.endMs).toBe(60_000);
		expect(scenario.steps.map((step) => [step.step, step.atMs, step.action])).toEqual([
			[3, 500, 'outbound'],
			[2, 5000, 'fault'],
			[1, 10_000, 'kill'],
			[4, 10_000, 'revive'],
			[5, 20_000, 'clear'],
			[6, 21_000, 'fault'],
		]);
		expect(scenario.steps[1]).toMatchObject({peer: 'demo-2', fault: {drop: 0.3, delayMs: 1000, jitterMs: 20}});
		expect(scenario.steps[0]).toMatchObject({fault: {drop: 0.1, delayMs: 200}});
		expect(scenario.steps[5]).toMatchObject({peer: 'all', fault: {blackhole: true}});
		expect(parseScenario([{at: 1, pause: 'demo-1'}]).steps).toHaveLength(1);
	});

	it.each([
		[[{kill: 'demo-1'}], 'step 1: no time'],
		[[{at: 'soon', kill: 'demo-1'}], 'step 1 (at soon): at must be a time'],
		[[{at: 1, kil: 'demo-1'}], "step 1 (at 1): unknown key 'kil'"],
		[[{at: 1}], 'step 1 (at 1): nothing to do'],
		[[{at: 1, kill: 'demo-1', revive: 'demo-1'}], 'more than one action (kill, revive)'],
		[[{at: 1, drop: 1.5, peer: 'demo-1'}], 'drop must be a probability'],
		[[{at: 1, delay: '2h'}], 'delay must be a time'],
		[[{at: 1, delay: 120_000}], 'delayMs must be a number of milliseconds from 0 to 60000'],
		[[{at: 1, peer: 'demo-1', kill: 'demo-1'}], 'peer goes with a fault'],
		[[{at: 1, clear: 'yes'}], 'clear takes true'],
		[[{at: 1, outbound: {duplicate: 0.5}}], "unknown outbound fault 'duplicate'"],
		[{steps: [{at: 5, kill: 'demo-1'}], end: 2}, 'end 2s comes before step 1 at 5s'],
		[{step: []}, "unknown key 'step'"],
		['kill everything', 'a scenario is a list of steps'],
	])('refuses %j', (data, message) => {
		expect(() => parseScenario(data)).toThrow(ScenarioError);
		expect(() => parseScenario(data)).toThrow(message);
	});
});

describe('--scenario on the command line', () => {
	it.each([
		['bad.json', '[{"at": 1, "kill": "demo-1"},, ]', 'is not valid JSON'],
		['bad.yaml', 'steps:\n  - at: 5s\n    kil: demo-2\n', "step 1 (at 5s): unknown key 'kil'"],
		['ghost.yml', '- {at: 1, kill: demo-9}\n', 'step 1: demo-9 does not exist; this run has demo peers demo-1 … demo-4'],
		['missing.json', undefined, 'no such file'],
	])('refuses %s with one line and exit code 2', (name, text, message) => {
		const file = text === undefined ? path.join(directory, name) : writeScenario(name, text);
		const result = spawnSync(process.execPath, [CLI_PATH, '--headless', '--scenario', file], {encoding: 'utf8', timeout: 20_000});
		expect(result.status, result.stderr).toBe(2);
		expect(result.stdout).toBe('');
		const lines = result.stderr.trim().split('\n');
		expect(lines).toHaveLength(1);
		expect(lines[0]).toContain('--scenario');
		expect(lines[0]).toContain(message);
	});
});
