// The image's default command line, run as the image would run it, without a container runtime:
// the Dockerfile's ENTRYPOINT + CMD, its ENV, its USER (10001, through setpriv) and WORKDIR, the
// files at the image's paths (/app, bound from a directory laid out like the runtime stage), in a
// network namespace of its own on a bridge. A peer in a second namespace hears it over the bridge and
// scrapes its metrics, and the Dockerfile's HEALTHCHECK command, run the same way, passes while the
// node ticks and fails while it is frozen. What this does not prove: that `docker build` succeeds
// (no runtime here to build with) or that the base image's node behaves like this machine's.
import {spawn, type ChildProcess} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {createInterface} from 'node:readline';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {NamespacedNode} from '../network/netns-node.js';
import {assertNetworkTooling, createNetwork, removeLeftovers, runCommand, type Network} from '../network/netns.js';
import {containerCommand, ensureMountPoint, stageImage, type Image} from './image-layout.js';

let network: Network;
let image: Image;
let removeMountPoint = () => {};
let container: ChildProcess;
const lines: any[] = [];
let stderr = '';
let peer: NamespacedNode | undefined;

/** Run an argv in a namespace as the container would; resolves with its exit code (null: killed by the timeout). */
async function inContainerNamespace(namespace: string, argv: string[], timeoutS: number): Promise<{code: number | null; stdout: string; stderr: string}> {
	const [command, ...args] = containerCommand(image, namespace, argv, timeoutS);
	const result = await runCommand(command!, args);
	// `timeout` exits 124 when it had to stop the command.
	return {...result, code: result.code === 124 || result.code === 137 ? null : result.code};
}

/** The node's pid: the child of the `timeout` that runs the image's command (the node renames its own process title). */
async function nodePid(namespace: string): Promise<number> {
	const {stdout} = await runCommand('ip', ['netns', 'pids', namespace]);
	const pids = stdout.split(/\s+/).filter(Boolean).map(Number);
	const read = (pid: number, file: string) => {
		try {
			return readFileSync(`/proc/${pid}/${file}`, 'utf8');
		} catch {
			return '';
		}
	};

	const wrapper = pids.find((pid) => read(pid, 'cmdline').split('\0').includes('/app/dist/cli.js'));
	const node = pids.find((pid) => read(pid, 'status').split('\n').includes(`PPid:\t${wrapper}`));
	if (wrapper === undefined || node === undefined) {
		throw new Error(`no node process in ${namespace}`);
	}

	return node;
}

async function waitFor<T>(what: string, read: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const value = await read();
		if (value !== undefined) {
			return value;
		}

		if (container.exitCode !== null || container.signalCode !== null) {
			throw new Error(`the container process ended (${container.exitCode ?? container.signalCode}) while waiting for ${what}; stderr: ${stderr.slice(-800)}`);
		}

		if (performance.now() > deadline) {
			throw new Error(`timed out waiting for ${what}; container stderr: ${stderr.slice(-800)}`);
		}

		await new Promise((resolve) => {
			setTimeout(resolve, 200);
		});
	}
}

beforeAll(async () => {
	await assertNetworkTooling();
	await removeLeftovers();
	image = await stageImage();
	removeMountPoint = ensureMountPoint();
	network = await createNetwork(2);
	const [command, ...args] = containerCommand(image, network.nodes[0]!.namespace, [...image.entrypoint, ...image.command]);
	container = spawn(command!, args, {stdio: ['ignore', 'pipe', 'pipe']});
	createInterface({input: container.stdout!}).on('line', (text) => {
		lines.push(JSON.parse(text));
	});
	container.stderr!.on('data', (chunk: Buffer) => {
		stderr += chunk.toString();
	});
}, 180_000);

afterAll(async () => {
	await peer?.stop();
	container?.kill('SIGTERM');
	await network?.destroy();
	removeMountPoint();
	image?.remove();
});

describe('the image\'s default command, as a process in a network namespace', () => {
	it('runs as the image\'s user, in /app, headless, and says that it is exposed', async () => {
		await waitFor('a snapshot', () => lines.find((line) => line.type === 'snapshot'), 30_000);
		const pid = await nodePid(network.nodes[0]!.namespace);
		const status = readFileSync(`/proc/${pid}/status`, 'utf8');
		expect(status).toMatch(/^Uid:\t10001\t10001\t10001\t10001$/m);
		expect(status).toMatch(/^Gid:\t10001\t10001\t10001\t10001$/m);
		expect(status).toMatch(/^Groups:[\t ]*$/m);
		expect(status).toMatch(/^CapEff:\t0+$/m);
		expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).sort()).toEqual(['HOME=/nonexistent', 'HOSTNAME=chorus', 'NODE_ENV=production', `PATH=${'/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'}`]);
		const started = lines.find((line) => line.kind === 'node-started');
		expect(started.endpoint).toBe('tcp://0.0.0.0:5555');
		// Both planes bound to every address without CURVE: both warnings, as the README says.
		expect(stderr).toMatch(/warning: bound to tcp:\/\/0\.0\.0\.0:5555 without CURVE/);
		expect(stderr).toMatch(/warning: metrics served on http:\/\/0\.0\.0\.0:9464 without authentication/);
	}, 60_000);

	it('is heard across the bridge and scraped from the other namespace', async () => {
		const [home, other] = network.nodes;
		peer = new NamespacedNode('peer', other!.namespace, ['--demo', '0', '--bind', `tcp://${other!.address}:5555`, '--peer', `tcp://${home!.address}:5555`, '--report-ms', '250']);
		const containerId = lines.find((line) => line.type === 'snapshot').node.id;
		await waitFor('the peer to hear the container node', () => peer!.lastSnapshot()?.peers.find((entry: any) => entry.id === containerId && entry.state === 'alive'), 30_000);
		const scrape = await runCommand('ip', ['netns', 'exec', other!.namespace, process.execPath, '-e',
			`fetch('http://${home!.address}:9464/metrics').then(async (r) => { process.stdout.write(r.status + ' ' + await r.text()); })`]);
		expect(scrape.stdout.slice(0, 4)).toBe('200 ');
		expect(scrape.stdout).toMatch(/^chorus_ticks_total \d+$/m);
		expect(scrape.stdout).toMatch(/^chorus_build_info\{version="\d+\.\d+\.\d+"\} 1$/m);
	}, 60_000);

	it('passes the Dockerfile\'s HEALTHCHECK while it ticks, and fails it while frozen', async () => {
		const namespace = network.nodes[0]!.namespace;
		// Docker's --timeout is 3 s; under load here the check's own node start-up needs more.
		const healthy = await waitFor('a passing health check', async () => {
			const result = await inContainerNamespace(namespace, image.healthcheck, 20);
			return result.code === 0 ? result : undefined;
		}, 30_000);
		expect(healthy.code).toBe(0);

		const pid = await nodePid(namespace);
		process.kill(pid, 'SIGSTOP');
		try {
			// Frozen: the request is accepted by the kernel and never answered; the check cannot pass.
			const frozen = await inContainerNamespace(namespace, image.healthcheck, 8);
			expect(frozen.code).not.toBe(0);
		} finally {
			process.kill(pid, 'SIGCONT');
		}
	}, 90_000);
});
