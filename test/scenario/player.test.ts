/**
Scenarios played end to end under `chorus-tui --headless`, every step recorded in the NDJSON stream
in order.
*/

import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, describe, expect, it} from 'vitest';
import {HeadlessProcess, type Line} from '../helpers/headless-process.js';
import {freePort} from '../helpers/ports.js';

const directory = mkdtempSync(path.join(tmpdir(), 'chorus-scenario-'));
afterAll(() => {
	rmSync(directory, {recursive: true, force: true});
});

function writeScenario(name: string, text: string): string {
	const file = path.join(directory, name);
	writeFileSync(file, text);
	return file;
}

describe('a scenario played by chorus-tui --headless', () => {
	const running: HeadlessProcess[] = [];
	afterEach(async () => {
		await Promise.all(running.splice(0).map(async (node) => node.stop('SIGKILL')));
	});

	it('plays a scenario end to end and records every step in the NDJSON stream, in order', async () => {
		const file = writeScenario(
			'timeline.yaml',
			[
				'name: end-to-end',
				'end: 7s',
				'steps:',
				'  - {at: 0.5s, peer: demo-2, drop: 30%, delay: 50ms}',
				'  - {at: 1s, kill: demo-3}',
				'  - {at: 1.5s, pause: demo-1}',
				'  - {at: 2s, resume: demo-1}',
				'  - {at: 2.5s, revive: demo-3, note: back from the dead}',
				'  - {at: 3s, outbound: {drop: 0.1}}',
				'  - {at: 4s, clear: true}',
			].join('\n'),
		);
		const node = new HeadlessProcess(['--demo', '3', '--bind', String(await freePort()), '--report-ms', '500', '--scenario', file]);
		running.push(node);
		const {code} = await node.exited;
		expect(code, node.stderr).toBe(0);
		const events = node.events;
		const kinds = (kind: string) => events.filter((event) => event['kind'] === kind);
		const indexOf = (predicate: (event: Line) => boolean) => events.findIndex(predicate);

		expect(kinds('scenario-started')).toHaveLength(1);
		expect(kinds('scenario-started')[0]).toMatchObject({name: 'end-to-end', steps: 7, endMs: 7000});
		const steps = kinds('scenario-step');
		expect(steps.map((step) => [step['step'], step['action'], step['ok']])).toEqual([
			[1, 'fault', true],
			[2, 'kill', true],
			[3, 'pause', true],
			[4, 'resume', true],
			[5, 'revive', true],
			[6, 'outbound', true],
			[7, 'clear', true],
		]);
		expect(steps[4]).toMatchObject({peer: 'demo-3', note: 'back from the dead'});
		// Steps run on time: each no earlier than its `at` after the start, in order.
		const startedAt = kinds('scenario-started')[0]!['t'] as number;
		for (const step of steps) {
			expect((step['t'] as number) - startedAt).toBeGreaterThanOrEqual((step['at'] as number) - 5);
		}

		// What each step did is in the stream too, in the right place.
		const at = (step: number) => indexOf((event) => event['kind'] === 'scenario-step' && event['step'] === step);
		const faultSet = indexOf((event) => event['kind'] === 'fault-set' && event['peer'] === 'demo-2');
		expect(faultSet).toBeGreaterThan(-1);
		expect(faultSet).toBeLessThan(at(1));
		const killed = indexOf((event) => event['kind'] === 'peer-killed' && event['peer'] === 'demo-3');
		expect(killed).toBeGreaterThan(at(1));
		expect(killed).toBeLessThan(at(2));
		expect(indexOf((event) => event['kind'] === 'peer-paused' && event['peer'] === 'demo-1')).toBeLessThan(at(3));
		expect(indexOf((event) => event['kind'] === 'peer-resumed' && event['peer'] === 'demo-1')).toBeLessThan(at(4));
		const revived = indexOf((event) => event['kind'] === 'peer-revived' && event['peer'] === 'demo-3');
		expect(revived).toBeGreaterThan(at(4));
		expect(revived).toBeLessThan(at(5));
		// The new incarnation is admitted as a restart (it came back within the TTL).
		expect(indexOf((event) => event['kind'] === 'peer-restarted' && event['peer'] === 'demo-3')).toBeGreaterThan(revived);
		expect(indexOf((event) => event['kind'] === 'fault-set' && event['target'] === 'outbound')).toBeLessThan(at(6));
		expect(indexOf((event) => event['kind'] === 'fault-cleared' && event['peer'] === 'demo-2')).toBeLessThan(at(7));
		const done = indexOf((event) => event['kind'] === 'scenario-done');
		const end = indexOf((event) => event['kind'] === 'scenario-end');
		expect(done).toBeGreaterThan(at(7));
		expect(events[done]).toMatchObject({steps: 7, failed: 0, keepsRunning: false});
		expect(end).toBeGreaterThan(done);
		expect(indexOf((event) => event['kind'] === 'node-stopped')).toBeGreaterThan(end);
		// Faults in force showed in the snapshots while they lasted.
		expect(node.snapshots.some((snapshot) => snapshot['faults']?.peers?.['demo-2']?.drop === 0.3)).toBe(true);
	});

	it('leaves the node running after the last step when the scenario has no end', async () => {
		const file = writeScenario('no-end.json', JSON.stringify([{at: '200ms', peer: 'all', delay: 10}]));
		const node = new HeadlessProcess(['--demo', '1', '--bind', String(await freePort()), '--report-ms', '200', '--scenario', file]);
		running.push(node);
		const done = await node.waitForEvent('scenario-done', undefined, 20_000);
		expect(done).toMatchObject({steps: 1, failed: 0, keepsRunning: true});
		const index = node.lines.indexOf(done);
		await node.waitForSnapshot((snapshot) => snapshot['faults']?.all?.delayMs === 10, 3000, index + 1);
		await node.waitForSnapshot(() => true, 3000, node.lines.length);
		expect(node.child.exitCode).toBeNull();
		const {code} = await node.stop('SIGTERM');
		expect(code).toBe(0);
	});
});
