/**
The built binary, as an operator runs it: bad input gets one line naming the flag and exit code 2,
never a stack trace; signals stop it cleanly.
*/

import {spawnSync} from 'node:child_process';
import net from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {CLI_PATH, HeadlessProcess, stopAll} from './helpers/headless-process.js';
import {freePort} from './helpers/ports.js';

const running = new Set<HeadlessProcess>();
afterEach(async () => {
	await stopAll(running);
	running.clear();
});

function run(args: string[]) {
	const result = spawnSync(process.execPath, [CLI_PATH, ...args], {encoding: 'utf8', timeout: 30_000});
	return {code: result.status, stdout: result.stdout, stderr: result.stderr};
}

function expectOneLineError(result: ReturnType<typeof run>, flag: string, code = 2) {
	expect(result.code).toBe(code);
	const lines = result.stderr.trimEnd().split('\n');
	expect(lines, result.stderr).toHaveLength(1);
	expect(lines[0]).toContain(flag);
	expect(result.stderr).not.toMatch(/\n\s+at /);
	expect(result.stdout).toBe('');
}

describe('bad input', () => {
	it.each([
		[['--bogus'], '--bogus'],
		[['--headless', '--tll', '5'], '--tll'],
		[['--headless', '--bind', 'tcp://127.0.0.1'], '--bind'],
		[['--headless', '--peer', 'udp://x:1'], '--peer'],
		[['--headless', '--bind', '0'], '--bind'],
		[['--headless', '--bind', '70000'], '--bind'],
		[['--headless', '--peer', 'tcp://127.0.0.1:70000'], '--peer'],
		[['--headless', '--ttl', '-1'], '--ttl'],
		[['--headless', '--hz', 'fast'], '--hz'],
		[['--headless', '--coupling', 'NaN'], '--coupling'],
		[['--headless', '--demo', '2.5'], '--demo'],
		[['--headless', '--report-ms', ''], '--report-ms'],
		[['--headless', '70000'], 'bind-port'],
		[['--headless', '5555', '5556,abc'], 'peer-ports'],
		[['--headless', '--engine', 'zmq4'], '--engine'],
	])('%j gives one line naming %s and exit code 2', (args, flag) => {
		expectOneLineError(run(args), flag);
	});

	it('a port already in use says which port and how to choose another', async () => {
		const port = await freePort();
		const server = net.createServer();
		await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
		try {
			const result = run(['--headless', '--demo', '0', '--bind', String(port)]);
			expect(result.code).toBe(1);
			expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
			expect(result.stderr).toContain(`port ${port} is already in use`);
			expect(result.stderr).toContain('--bind');
			expect(result.stderr).not.toMatch(/\n\s+at /);
		} finally {
			server.close();
		}
	});
});

describe('help and version', () => {
	it('--help shows the usage and every flag of the design', () => {
		const result = run(['--help']);
		expect(result.code).toBe(0);
		for (const flag of ['--bind', '--peer', '--id', '--ttl', '--hz', '--coupling', '--noise', '--omega', '--demo', '--headless', '--report-ms']) {
			expect(result.stdout).toContain(flag);
		}
	});

	it('--version prints the version', () => {
		const result = run(['--version']);
		expect(result.code).toBe(0);
		expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
	});
});

describe('the original script\'s positional form', () => {
	it('chorus-tui BIND_PORT PEER_PORTS binds and subscribes like the Python script', async () => {
		const [bind, peerA, peerB] = [await freePort(), await freePort(), await freePort()];
		const node = new HeadlessProcess(['--report-ms', '100', String(bind), `${peerA},${peerB}`]);
		running.add(node);
		const started = await node.waitForEvent('node-started', undefined, 10_000);
		expect(started.endpoint).toBe(`tcp://127.0.0.1:${bind}`);
		const snapshot = await node.waitForSnapshot(() => true, 5000);
		expect(snapshot.node.endpoint).toBe(`tcp://127.0.0.1:${bind}`);
	});
});

describe('signals', () => {
	it.each(['SIGINT', 'SIGTERM'] as const)('%s stops the node cleanly: exit 0, sockets closed', async (signal) => {
		const port = await freePort();
		const node = new HeadlessProcess(['--demo', '0', '--bind', String(port), '--peer', String(await freePort()), '--report-ms', '100']);
		running.add(node);
		await node.waitForSnapshot(() => true, 10_000);
		const exit = await node.stop(signal);
		expect(exit).toEqual({code: 0, signal: null});
		expect(node.events.at(-1)?.kind).toBe('node-stopped');
		expect(node.stderr).toBe('');

		// The port is free again at once: the publisher was closed, not left to the OS.
		const server = net.createServer();
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(port, '127.0.0.1', resolve);
		});
		server.close();
	});
});
