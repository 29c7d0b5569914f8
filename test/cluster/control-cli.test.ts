// The control plane of a real chorus-tui process: `ctl` against it, `stop` through it, the address rules at start.
import {execFile} from 'node:child_process';
import net from 'node:net';
import {promisify} from 'node:util';
import {afterEach, describe, expect, it} from 'vitest';
import {CLI_PATH, HeadlessProcess, stopAll} from '../helpers/headless-process.js';
import {freePort} from '../helpers/ports.js';
import {portBelowATakenOne, portWithFreeNext} from './control-helpers.js';

const run = promisify(execFile);
const processes: HeadlessProcess[] = [];

afterEach(async () => {
	await stopAll(processes.splice(0));
});

async function ctl(...args: string[]): Promise<{code: number; stdout: string; stderr: string}> {
	try {
		// A generous reply timeout: the machine may be busy; the tests of timeouts pass their own, later flags winning.
		const {stdout, stderr} = await run(process.execPath, [CLI_PATH, 'ctl', ...args.includes('--timeout') ? args : [...args, '--timeout', '10']], {timeout: 30_000});
		return {code: 0, stdout, stderr};
	} catch (error) {
		const failed = error as {code: number; stdout: string; stderr: string};
		return {code: failed.code, stdout: failed.stdout, stderr: failed.stderr};
	}
}

async function startNode(args: string[]): Promise<HeadlessProcess> {
	const node = new HeadlessProcess(['--demo', '0', '--report-ms', '200', ...args]);
	processes.push(node);
	await node.waitForEvent('node-started', undefined, 10_000);
	return node;
}

describe('chorus-tui ctl against a real node', () => {
	it('prints replies, sets and clears faults, and stops the node (exit 0)', async () => {
		const port = await freePort();
		const controlPort = await freePort();
		const node = await startNode(['--bind', String(port), '--control', String(controlPort), '--id', 'ctl-node']);
		const control = `tcp://127.0.0.1:${controlPort}`;

		const view = await ctl(control, 'view', '--limit', '10');
		expect(view.code).toBe(0);
		expect(JSON.parse(view.stdout)).toMatchObject({v: 1, ok: true, node: {id: 'ctl-node', control}, truncated: false});

		const members = await ctl(String(controlPort), 'members');
		expect(JSON.parse(members.stdout)).toMatchObject({ok: true, members: [{id: 'ctl-node', control, legacy: false}]});

		const fault = await ctl(control, 'fault', '--target', 'demo-2', '--drop', '0.3', '--lease', '30');
		expect(fault.code).toBe(0);
		await node.waitFor((line) => line.type === 'event' && line.kind === 'fault-set' && line.target === 'demo-2', 5000);
		await node.waitForSnapshot((snapshot) => snapshot.faults.peers['demo-2']?.drop === 0.3, 5000);

		const refused = await ctl(control, 'fault', '--outbound', '--duplicate', '0.5');
		expect(refused.code).toBe(2);
		expect(refused.stderr.trim().split('\n')).toHaveLength(1);

		const errorReply = await ctl(control, 'join', '--node', 'x', '--endpoint', 'tcp://127.0.0.1:1', '--incarnation', '-1');
		expect(errorReply.code).toBe(2);

		expect((await ctl(control, 'clear')).code).toBe(0);
		await node.waitForSnapshot((snapshot) => snapshot.faults.peers['demo-2'] === undefined, 5000);

		const stop = await ctl(control, 'stop');
		expect(JSON.parse(stop.stdout)).toMatchObject({ok: true, stopping: true});
		expect(await node.exited).toEqual({code: 0, signal: null});
		expect(node.events.some((event) => event.kind === 'control-stop')).toBe(true);
	});

	it('exits 1 with one line when no node answers', async () => {
		const result = await ctl(String(await freePort()), 'view', '--timeout', '0.3');
		expect(result.code).toBe(1);
		expect(result.stderr.trim().split('\n')).toHaveLength(1);
		expect(result.stderr).toMatch(/no reply from tcp:\/\/127\.0\.0\.1:\d+ within 300 ms/);
	});

	it('counts an error reply as exit 1 and prints it', async () => {
		const controlPort = await freePort();
		await startNode(['--bind', String(await freePort()), '--control', String(controlPort)]);
		const result = await ctl(String(controlPort), 'fault', '--link', 'all');
		expect(result.code).toBe(1);
		expect(JSON.parse(result.stdout)).toMatchObject({ok: false, error: 'bad-request'});
	});
});

describe('control address rules at start', () => {
	it('refuses a non-loopback control address without CURVE: one line, exit 2', async () => {
		const result = await run(process.execPath, [CLI_PATH, '--headless', '--demo', '0', '--bind', String(await freePort()), '--control', 'tcp://0.0.0.0:5999']).catch((error: unknown) => error as {code: number; stderr: string});
		expect((result as {code: number}).code).toBe(2);
		const {stderr} = result as {stderr: string};
		expect(stderr.trim().split('\n')).toHaveLength(1);
		expect(stderr).toMatch(/^chorus-tui: --control: tcp:\/\/0\.0\.0\.0:5999 is not a loopback address/);
	});

	it('listens on a free port when its default port is taken, says where, and answers there', async () => {
		const {port, blocker} = await portBelowATakenOne();
		try {
			const node = await startNode(['--bind', String(port)]);
			const started = await node.waitFor((line) => line.type === 'event' && line.kind === 'control-started', 10_000);
			expect(started.requested).toBe(`tcp://127.0.0.1:${port + 1}`);
			expect(started.reason).toMatch(/already in use/);
			expect(started.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
			expect(started.endpoint).not.toBe(started.requested);
			expect(started.announced).toBe(started.endpoint);
			const view = await ctl(started.endpoint as string, 'view');
			expect(JSON.parse(view.stdout)).toMatchObject({ok: true, node: {control: started.endpoint}});
			expect(node.events.some((event) => event.kind === 'warning')).toBe(false);
		} finally {
			blocker.close();
		}
	});

	it('says where it listens when its default port is free', async () => {
		const port = await portWithFreeNext();
		const node = await startNode(['--bind', String(port)]);
		const started = await node.waitFor((line) => line.type === 'event' && line.kind === 'control-started', 10_000);
		expect(started).toMatchObject({endpoint: `tcp://127.0.0.1:${port + 1}`, announced: `tcp://127.0.0.1:${port + 1}`});
		expect(started.requested).toBeUndefined();
	});

	it('fails at start when an explicit --control port is taken', async () => {
		const blocker = net.createServer();
		const controlPort = await freePort();
		await new Promise<void>((resolve) => {
			blocker.listen(controlPort, '127.0.0.1', resolve);
		});
		try {
			const result = await run(process.execPath, [CLI_PATH, '--headless', '--demo', '0', '--bind', String(await freePort()), '--control', String(controlPort)]).catch((error: unknown) => error as {code: number; stderr: string});
			expect((result as {code: number}).code).toBe(1);
			expect((result as {stderr: string}).stderr).toMatch(/cannot bind the control endpoint .* already in use/);
		} finally {
			blocker.close();
		}
	});

	it('--no-control serves no control endpoint', async () => {
		const port = await freePort();
		const node = await startNode(['--bind', String(port), '--no-control']);
		const result = await ctl(String(port + 1), 'view', '--timeout', '0.3');
		expect(result.code).toBe(1);
		expect(node.child.exitCode).toBe(null);
	});
});
