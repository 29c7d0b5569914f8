/**
`--advertise <host>`: the host a node announces (data endpoint, control endpoint, `join`) in place
of the one it binds. Kubernetes' case: a pod binds its pod IP or 0.0.0.0, while a CURVE allow file
can only name what is stable, the per-pod DNS name, and membership dials only endpoints the allow
file lists.

- The command line: what --advertise accepts, and one line naming the flag otherwise.
- For real, in network namespaces with CURVE and a dnsmasq of the test's own (every namespace's
  /etc/resolv.conf points at it, through `ip netns exec`'s /etc/netns/<ns>/ bind mounts): `a` binds
  0.0.0.0 and advertises `a.chorus.test`; `b` binds its address, advertises `b.chorus.test` and joins
  through `dns:mesh.chorus.test:5555`, as a StatefulSet's pod joins through its headless Service: the
  A record gives a's address, which the allow file does not list, and its PTR record gives a's name,
  which it does. The allow file names only the names. They join both ways, and each lists the
  other's advertised data and control endpoints. `c`, like `b` but without --advertise and joining
  through `tcp://a.chorus.test:5555` (so it announces its address, which the allow file does not
  list), is heard by no one: the refusal --advertise exists to avoid.
*/

import {spawn, type ChildProcess} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {announcedControlEndpoint} from '../../source/cluster/control/address.js';
import {ConfigError, resolveConfig} from '../../source/config.js';
import {CLI_PATH, type Line} from '../helpers/headless-process.js';
import {assertNetworkTooling, createNetwork, mustRun, removeLeftovers, type Network} from '../network/netns.js';
import {NamespacedNode, waitUntil} from '../network/netns-node.js';

describe('--advertise on the command line', () => {
	test.each([
		['chorus-0.chorus.default.svc.cluster.local', 'chorus-0.chorus.default.svc.cluster.local'],
		['10.0.0.5', '10.0.0.5'],
		['fd00::5', 'fd00::5'],
		['[fd00::5]', 'fd00::5'],
		[' node-1 ', 'node-1'],
	])('%s is a host', (text, host) => {
		expect(resolveConfig({advertise: text, bind: 'tcp://0.0.0.0:5555', demo: '0'}).advertiseHost).toBe(host);
	});

	test.each([
		['tcp://a.example:5555', /is not a host; give a name or an address without scheme or port/],
		['a.example:5555', /is not a host/],
		['', /is not a host/],
		['0.0.0.0', /not one host's address/],
		['224.0.0.1', /not one host's address/],
		['bad_name!', /is not a host name or address/],
		['-leading.example', /is not a host name or address/],
	])('%s is refused in one line naming --advertise', (text, message) => {
		let error: unknown;
		try {
			resolveConfig({advertise: text, bind: 'tcp://0.0.0.0:5555', demo: '0'});
		} catch (error_) {
			error = error_;
		}

		expect(error).toBeInstanceOf(ConfigError);
		expect((error as Error).message).toMatch(/^--advertise: /);
		expect((error as Error).message).toMatch(message);
		expect((error as Error).message).not.toContain('\n');
	});

	test('an ipc:// --bind has no host to replace', () => {
		expect(() => resolveConfig({advertise: 'a.example', bind: 'ipc:///tmp/chorus.sock', demo: '0'})).toThrow(/^--advertise: needs a tcp:\/\/ --bind/);
	});

	test('absent, nothing is advertised', () => {
		expect(resolveConfig({demo: '0'}).advertiseHost).toBeUndefined();
	});

	test('the control endpoint is announced under the advertised host, unless it is on loopback (this machine\'s alone)', () => {
		expect(announcedControlEndpoint('tcp://0.0.0.0:5556', 'a.example')).toBe('tcp://a.example:5556');
		expect(announcedControlEndpoint('tcp://10.0.0.5:5556', 'fd00::5')).toBe('tcp://[fd00::5]:5556');
		expect(announcedControlEndpoint('tcp://127.0.0.1:5556', 'a.example')).toBe('tcp://127.0.0.1:5556');
		expect(announcedControlEndpoint('tcp://0.0.0.0:5556')).toBeUndefined();
	});
});

const PORT = 5555;
const DOMAIN = 'chorus.test';
const NAMES = ['a', 'b', 'c'];

type PeerView = {id: string; state: string};
type MemberView = {id: string; state: string; endpoint: string; control?: string; legacy: boolean};

function alivePeerIds(snapshot: Line | undefined): string[] {
	return ((snapshot?.peers ?? []) as PeerView[]).filter((peer) => peer.state === 'alive').map((peer) => peer.id).sort();
}

function membersOf(snapshot: Line | undefined): MemberView[] {
	return (snapshot?.members ?? []) as MemberView[];
}

describe('--advertise across namespaces, with CURVE and names in the allow file', {concurrent: false}, () => {
	let network: Network | undefined;
	let directory = '';
	let dnsmasq: ChildProcess | undefined;
	let dnsmasqLog = '';
	const etcDirectories: string[] = [];
	const nodes = new Map<string, NamespacedNode>();

	beforeAll(async () => {
		await assertNetworkTooling();
		await removeLeftovers();
		// a, b, c and the DNS server.
		network = await createNetwork(4);
		directory = mkdtempSync(path.join(tmpdir(), 'chorus-advertise-'));
		await Promise.all(NAMES.map(async (name) => mustRun(process.execPath, [CLI_PATH, 'keygen', path.join(directory, name)])));
		const pub = (name: string) => readFileSync(path.join(directory, `${name}.pub`), 'utf8').trim();
		// Names only: what a StatefulSet's pods keep across restarts.
		writeFileSync(path.join(directory, 'allow'), NAMES.map((name) => `${pub(name)} ${name} tcp://${name}.${DOMAIN}:${PORT}`).join('\n') + '\n');

		const server = network.nodes[3]!;
		const hosts = path.join(directory, 'hosts');
		// The first name of a line is the one a PTR query gets back; `mesh` is the Service's name, with a's address alone.
		writeFileSync(hosts, NAMES.map((name, index) => `${network!.nodes[index]!.address} ${name}.${DOMAIN}${name === 'a' ? ` mesh.${DOMAIN}` : ''}`).join('\n') + '\n');
		dnsmasq = spawn('ip', [
			'netns', 'exec', server.namespace, 'dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`,
			`--listen-address=${server.address}`, '--bind-interfaces', '--port=53', '--user=root', '--pid-file', '--log-queries', '--log-facility=-',
		], {stdio: ['ignore', 'pipe', 'pipe']});
		dnsmasq.stderr!.on('data', (chunk: Buffer) => {
			dnsmasqLog = (dnsmasqLog + chunk.toString()).slice(-40_000);
		});
		// `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf: getaddrinfo
		// (libzmq's connect) and node:dns both ask our server, as a pod asks the cluster's DNS.
		for (const node of network.nodes.slice(0, 3)) {
			const etc = path.join('/etc/netns', node.namespace);
			mkdirSync(etc, {recursive: true});
			etcDirectories.push(etc);
			writeFileSync(path.join(etc, 'resolv.conf'), `nameserver ${server.address}\noptions timeout:1 attempts:2\n`);
		}

		await waitUntil(() => dnsmasqLog.includes('started'), 10_000, () => `dnsmasq did not start: ${dnsmasqLog}`);
	}, 120_000);

	afterAll(async () => {
		await Promise.all([...nodes.values()].map(async (node) => node.stop()));
		dnsmasq?.kill('SIGKILL');
		await network?.destroy();
		for (const etc of etcDirectories) {
			rmSync(etc, {recursive: true, force: true});
		}

		if (directory !== '') {
			rmSync(directory, {recursive: true, force: true});
		}
	}, 60_000);

	function start(name: string, index: number, extra: readonly string[]): NamespacedNode {
		const node = new NamespacedNode(name, network!.nodes[index]!.namespace, [
			'--curve-secret-key-file', path.join(directory, name),
			'--allow', path.join(directory, 'allow'),
			'--report-ms', '250',
			'--gossip-interval', '1',
			...extra,
		]);
		nodes.set(name, node);
		return node;
	}

	test('a node bound to 0.0.0.0 and one bound to its address, each advertising its name, join through a name; one that does not advertise is refused', async () => {
		const b = network!.nodes[1]!;
		const c = network!.nodes[2]!;
		const seed = `tcp://a.${DOMAIN}:${PORT}`;
		const nodeA = start('a', 0, ['--bind', `tcp://0.0.0.0:${PORT}`, '--advertise', `a.${DOMAIN}`]);
		const nodeB = start('b', 1, ['--bind', `tcp://${b.address}:${PORT}`, '--advertise', `b.${DOMAIN}`, '--join', `dns:mesh.${DOMAIN}:${PORT}`]);
		const nodeC = start('c', 2, ['--bind', `tcp://${c.address}:${PORT}`, '--join', seed]);
		const describeAll = () => [...nodes.values()].map((node) => {
			const snapshot = node.lastSnapshot();
			return `${node.id}: peers [${alivePeerIds(snapshot).join(',')}] members [${membersOf(snapshot).map((member) => `${member.id}:${member.state}:${member.endpoint}`).join(' ')}]${node.running ? '' : ` EXITED ${node.stderr.slice(-300)}`}`;
		}).join('; ');

		// a and b hear each other, and each lists the other alive, under its name.
		await waitUntil(() => alivePeerIds(nodeA.lastSnapshot()).includes('b') && alivePeerIds(nodeB.lastSnapshot()).includes('a'), 40_000, describeAll);
		const started = nodeA.events.find((line) => line.kind === 'node-started')!;
		expect(started['endpoint']).toBe(seed);
		expect(started['bound']).toBe(`tcp://0.0.0.0:${PORT}`);
		expect(nodeA.lastSnapshot()!.node.endpoint).toBe(seed);
		await waitUntil(() => membersOf(nodeA.lastSnapshot()).some((member) => member.id === 'b' && member.state === 'alive')
			&& membersOf(nodeB.lastSnapshot()).some((member) => member.id === 'a' && member.state === 'alive'), 20_000, describeAll);
		expect(membersOf(nodeA.lastSnapshot()).find((member) => member.id === 'b')).toMatchObject({endpoint: `tcp://b.${DOMAIN}:${PORT}`, control: `tcp://b.${DOMAIN}:${PORT + 1}`, legacy: false});
		expect(membersOf(nodeB.lastSnapshot()).find((member) => member.id === 'a')).toMatchObject({endpoint: seed, control: `tcp://a.${DOMAIN}:${PORT + 1}`, legacy: false});
		// The names went through the test's DNS server: b found a's name from its address, and a dialled b by name.
		const [addressA, addressB] = [network!.nodes[0]!.address, b.address];
		expect(dnsmasqLog).toContain(`query[PTR] ${addressA.split('.').toReversed().join('.')}.in-addr.arpa from ${addressB}`);
		expect(dnsmasqLog).toContain(`query[A] b.${DOMAIN} from ${addressA}`);

		// c heard a (the seed is a listed name), but announces its address: a never lists nor dials it.
		await waitUntil(() => alivePeerIds(nodeC.lastSnapshot()).includes('a'), 20_000, describeAll);
		const heardAMs = performance.now();
		await waitUntil(() => performance.now() - heardAMs > 5000, 10_000, describeAll, 250);
		for (const snapshot of nodeA.snapshots) {
			expect((snapshot.peers as PeerView[]).map((peer) => peer.id), describeAll()).not.toContain('c');
			expect(membersOf(snapshot).map((member) => member.id)).not.toContain('c');
		}

		expect(nodeC.lastSnapshot()!.node.endpoint).toBe(`tcp://${c.address}:${PORT}`);
	}, 120_000);
});
