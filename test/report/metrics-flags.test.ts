// `--metrics` on the command line: loopback by default, a warning when exposed (like the data
// plane's), one line and exit code 2 for a bad value, one line and exit code 1 for a port in use.
import {spawn} from 'node:child_process';
import net from 'node:net';
import {describe, expect, it} from 'vitest';
import {parseMetricsEndpoint} from '../../source/config.js';
import {metricsExposureWarning} from '../../source/report/metrics-exposure.js';
import {CLI_PATH, HeadlessProcess} from '../helpers/headless-process.js';
import {freePorts, loopback} from '../helpers/ports.js';

async function runCli(args: string[]): Promise<{code: number | null; stderr: string}> {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [CLI_PATH, ...args], {stdio: ['ignore', 'ignore', 'pipe']});
		let stderr = '';
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		child.on('exit', (code) => {
			resolve({code, stderr});
		});
	});
}

describe('--metrics', () => {
	it('means loopback for a bare port, and takes HOST:PORT and [v6]:PORT', () => {
		expect(parseMetricsEndpoint('9464')).toEqual({host: '127.0.0.1', port: 9464});
		expect(parseMetricsEndpoint('0.0.0.0:9464')).toEqual({host: '0.0.0.0', port: 9464});
		expect(parseMetricsEndpoint('[::]:9464')).toEqual({host: '::', port: 9464});
		expect(parseMetricsEndpoint('http://localhost:9464/')).toEqual({host: 'localhost', port: 9464});
	});

	it('warns only when other machines can reach it', () => {
		expect(metricsExposureWarning({host: '127.0.0.1', port: 9464})).toBeUndefined();
		expect(metricsExposureWarning({host: '::1', port: 9464})).toBeUndefined();
		expect(metricsExposureWarning({host: '0.0.0.0', port: 9464})).toMatch(/^metrics served on http:\/\/0\.0\.0\.0:9464 without authentication/);
		expect(metricsExposureWarning({host: '::', port: 9464})).toMatch(/http:\/\/\[::]:9464/);
	});

	it.each([
		[['--metrics', 'nine'], '--metrics: \'nine\' is not a listen address; use a port (9464) or HOST:PORT (0.0.0.0:9464)'],
		[['--metrics', '70000'], '--metrics: port 70000 is out of range; use 1-65535'],
		[['--metrics-peer-labels'], '--metrics-peer-labels: needs --metrics <port|HOST:PORT>'],
	])('refuses %j in one line with exit code 2', async (args, message) => {
		const {code, stderr} = await runCli(['--headless', '--demo', '0', ...args]);
		expect(code).toBe(2);
		expect(stderr).toBe(`chorus-tui: ${message}\n`);
	});

	it('says which port is in use, in one line with exit code 1', async () => {
		const [dataPort, metricsPort] = await freePorts(2);
		const holder = net.createServer();
		await new Promise<void>((resolve) => {
			holder.listen(metricsPort, '127.0.0.1', resolve);
		});
		try {
			const {code, stderr} = await runCli(['--headless', '--demo', '0', '--bind', loopback(dataPort!), '--metrics', String(metricsPort)]);
			expect(code).toBe(1);
			expect(stderr).toBe(`chorus-tui: --metrics: port ${metricsPort} is already in use (127.0.0.1:${metricsPort}); choose another with --metrics <port>\n`);
		} finally {
			holder.close();
		}
	});

	it('prints the exposure warning for a non-loopback address and serves there', async () => {
		const [dataPort, metricsPort] = await freePorts(2);
		const node = new HeadlessProcess(['--demo', '0', '--bind', loopback(dataPort!), '--metrics', `0.0.0.0:${metricsPort}`]);
		try {
			await node.waitForSnapshot(() => true, 15_000);
			expect(node.stderr).toContain(`chorus-tui: warning: metrics served on http://0.0.0.0:${metricsPort} without authentication`);
			const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
			expect(response.status).toBe(200);
		} finally {
			await node.stop();
		}
	});
});
