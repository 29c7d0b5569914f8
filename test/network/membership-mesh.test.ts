/**
Joining a mesh through one address, across network namespaces: real processes on a bridge, with
CURVE on, since a control endpoint that other hosts can reach must have it (without CURVE it binds
loopback only, and nodes in other namespaces could not gossip).

- Eight nodes started one by one, each with `--join` naming only the first: every node lists all 8
  members and has all 7 peers alive within 10 s of the last start; `chorus-tui members --json`
  against the live mesh returns all 8.
- The seed is killed: the other 7 stay fully meshed, and a ninth node joining through a survivor
  reaches all of them.
- `--join dns:NAME:PORT` against a real dnsmasq in a namespace that answers with several A records.

Namespaces: n1–n8 the mesh, n9 the ninth node, n10 the DNS joiner, n11 dnsmasq and the operator's
`members` command.
*/

import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {CLI_PATH, type Line} from '../helpers/headless-process.js';
import {assertNetworkTooling, createNetwork, mustRun, removeLeftovers, runCommand, type Network, type NetNode} from './netns.js';
import {NamespacedNode, waitUntil} from './netns-node.js';

const PORT = 5555;
const TTL_S = 3;
const REPORT_MS = 250;
const MESH_SIZE = 8;
/** The issue's bound: every node knows every member within 10 s. */
const KNOWN_WITHIN_MS = 10_000;
const DNS_NAME = 'mesh.chorus.test';

let network: Network | undefined;
let directory = '';
let allowFile = '';
const nodes = new Map<number, NamespacedNode>();
let dnsmasq: ChildProcess | undefined;
let dnsmasqLog = '';

function endpointOf(node: NetNode): string {
	return `tcp://${node.address}:${PORT}`;
}

function net(): Network {
	if (network === undefined) {
		throw new Error('the network was not built');
	}

	return network;
}

function startNode(index: number, extra: readonly string[]): NamespacedNode {
	const self = net().nodes[index - 1]!;
	const node = new NamespacedNode(`n${index}`, self.namespace, [
		'--bind', endpointOf(self),
		'--curve-secret-key-file', path.join(directory, `n${index}`),
		'--allow', allowFile,
		'--ttl', String(TTL_S),
		'--report-ms', String(REPORT_MS),
		'--gossip-interval', '1',
		...extra,
	]);
	nodes.set(index, node);
	return node;
}

type MemberView = {id: string; state: string; legacy: boolean; control?: string};
type PeerView = {id: string; state: string};

function membersOf(snapshot: Line | undefined): MemberView[] {
	return (snapshot?.members ?? []) as MemberView[];
}

function alivePeerIds(snapshot: Line | undefined): string[] {
	return ((snapshot?.peers ?? []) as PeerView[]).filter((peer) => peer.state === 'alive').map((peer) => peer.id).sort();
}

/** Peers still in the coupling: alive, or suspect for a moment on a loaded machine; never evicted. */
function linkedPeerIds(snapshot: Line | undefined): string[] {
	return ((snapshot?.peers ?? []) as PeerView[]).filter((peer) => peer.state === 'alive' || peer.state === 'suspect').map((peer) => peer.id).sort();
}

function aliveMemberIds(snapshot: Line | undefined): string[] {
	return membersOf(snapshot).filter((member) => member.state === 'alive').map((member) => member.id).sort();
}

function ids(indexes: readonly number[]): string[] {
	return indexes.map((index) => `n${index}`).sort();
}

/** Every node in `indexes` has every other alive as a peer and as a member. */
function fullyMeshed(indexes: readonly number[]): boolean {
	return indexes.every((index) => {
		const snapshot = nodes.get(index)!.lastSnapshot();
		const others = ids(indexes.filter((other) => other !== index));
		const peers = alivePeerIds(snapshot);
		const members = aliveMemberIds(snapshot);
		return others.every((id) => peers.includes(id)) && ids(indexes).every((id) => members.includes(id));
	});
}

function describeNodes(indexes: readonly number[]): string {
	return indexes.map((index) => {
		const node = nodes.get(index)!;
		const snapshot = node.lastSnapshot();
		return `n${index}: peers [${alivePeerIds(snapshot).join(',')}] members [${membersOf(snapshot).map((member) => `${member.id}:${member.state}`).join(',')}]${node.running ? '' : ` EXITED ${node.stderr.slice(-300)}`}`;
	}).join('; ');
}

async function waitForFirstSnapshot(node: NamespacedNode): Promise<void> {
	await waitUntil(() => node.lastSnapshot() !== undefined || !node.running, 30_000, () => `${node.id} never reported: ${node.stderr.slice(-400)}`);
	if (!node.running) {
		throw new Error(`${node.id} exited: ${node.stderr.slice(-400)}`);
	}
}

/** SIGKILL every process in a node's namespace: the node dies as a crashed host would. */
async function killHard(index: number): Promise<void> {
	const {namespace} = net().nodes[index - 1]!;
	const pids = (await mustRun('ip', ['netns', 'pids', namespace])).split(/\s+/).filter(Boolean).map(Number);
	for (const pid of pids) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {}
	}

	await nodes.get(index)!.exited;
}

beforeAll(async () => {
	await assertNetworkTooling();
	await removeLeftovers();
	network = await createNetwork(11);
	directory = mkdtempSync(path.join(tmpdir(), 'chorus-membership-'));
	const names = [...Array.from({length: 10}, (_, offset) => `n${offset + 1}`), 'operator'];
	await Promise.all(names.map(async (name) => mustRun(process.execPath, [CLI_PATH, 'keygen', path.join(directory, name)])));
	const pub = (name: string) => readFileSync(path.join(directory, `${name}.pub`), 'utf8').trim();
	allowFile = path.join(directory, 'allow');
	writeFileSync(allowFile, [
		...network.nodes.slice(0, 10).map((node) => `${pub(`n${node.index}`)} n${node.index} ${endpointOf(node)}`),
		// The operator's key: listed, so it may read (members, view); no endpoint, no role.
		`${pub('operator')} operator`,
		'',
	].join('\n'));
}, 120_000);

afterAll(async () => {
	await Promise.all([...nodes.values()].map(async (node) => node.stop()));
	dnsmasq?.kill('SIGKILL');
	await network?.destroy();
	if (directory !== '') {
		rmSync(directory, {recursive: true, force: true});
	}
}, 60_000);

describe('membership across namespaces', {concurrent: false}, () => {
	test('eight nodes, each joining through the first only: all know all within 10 s, and `members --json` lists the 8', async () => {
		const seed = net().nodes[0]!;
		await waitForFirstSnapshot(startNode(1, []));
		for (let index = 2; index <= MESH_SIZE; index++) {
			await waitForFirstSnapshot(startNode(index, ['--join', endpointOf(seed)]));
		}

		const all = Array.from({length: MESH_SIZE}, (_, offset) => offset + 1);
		const lastStartMs = nodes.get(MESH_SIZE)!.startedAtMs;
		const meshedAtMs = await waitUntil(() => fullyMeshed(all), 30_000, () => describeNodes(all));
		expect(meshedAtMs - lastStartMs, describeNodes(all)).toBeLessThan(KNOWN_WITHIN_MS);
		// Every member announced a control endpoint on its own namespace's address.
		for (const member of membersOf(nodes.get(1)!.lastSnapshot())) {
			expect(member.legacy).toBe(false);
			expect(member.control).toMatch(/^tcp:\/\/10\.213\.0\.\d+:5556$/);
		}

		// The operator's view, from another namespace, through any member's data endpoint.
		const operator = net().nodes[10]!;
		const result = await runCommand('ip', [
			'netns', 'exec', operator.namespace, process.execPath, CLI_PATH, 'members', '--json',
			'--join', endpointOf(net().nodes[4]!),
			'--curve-secret-key-file', path.join(directory, 'operator'),
			'--allow', allowFile,
		]);
		expect(result.code, result.stderr).toBe(0);
		const listed = JSON.parse(result.stdout) as {members: MemberView[]};
		expect(listed.members.map((member) => member.id).sort()).toEqual(ids(all));
		expect(listed.members.every((member) => member.state === 'alive')).toBe(true);
	}, 180_000);

	test('with the seed killed, the other seven stay fully meshed, and a ninth node joining through a survivor reaches them all', async () => {
		const survivors = [2, 3, 4, 5, 6, 7, 8];
		await killHard(1);
		const killedAtMs = performance.now();
		// Past the seed's TTL: it is dead everywhere, and the survivors never lost each other.
		await waitUntil(
			() => survivors.every((index) => membersOf(nodes.get(index)!.lastSnapshot()).find((member) => member.id === 'n1')?.state === 'dead'),
			TTL_S * 1000 + 10_000,
			() => describeNodes(survivors),
		);
		for (const index of survivors) {
			const since = nodes.get(index)!.snapshots.filter((snapshot) => snapshot.receivedAtMs > killedAtMs + 1000);
			expect(since.length).toBeGreaterThan(0);
			for (const snapshot of since) {
				const others = ids(survivors.filter((other) => other !== index));
				expect(others.filter((id) => !linkedPeerIds(snapshot).includes(id)), `n${index} lost a survivor at t=${snapshot.t}`).toEqual([]);
			}
		}

		const ninth = startNode(9, ['--join', endpointOf(net().nodes[6]!)]);
		await waitForFirstSnapshot(ninth);
		const everyone = [...survivors, 9];
		const meshedAtMs = await waitUntil(() => fullyMeshed(everyone), 30_000, () => describeNodes(everyone));
		expect(meshedAtMs - ninth.startedAtMs, describeNodes(everyone)).toBeLessThan(KNOWN_WITHIN_MS + 5000);
		// The dead seed is listed as dead, not alive, by the newcomer too (or not at all if it never heard of it).
		expect(aliveMemberIds(ninth.lastSnapshot())).not.toContain('n1');
	}, 120_000);

	test('--join dns:NAME:PORT seeds from every A record a real dnsmasq returns', async () => {
		const server = net().nodes[10]!;
		const hosts = path.join(directory, 'hosts');
		// Three A records for the name: three members of the running mesh.
		writeFileSync(hosts, [2, 3, 4].map((index) => `${net().nodes[index - 1]!.address} ${DNS_NAME}`).join('\n') + '\n');
		dnsmasq = spawn('ip', [
			'netns', 'exec', server.namespace, 'dnsmasq', '--keep-in-foreground', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`,
			`--listen-address=${server.address}`, '--bind-interfaces', '--port=53', '--user=root', '--pid-file', '--log-queries', '--log-facility=-',
		], {stdio: ['ignore', 'pipe', 'pipe']});
		dnsmasq.stderr!.on('data', (chunk: Buffer) => {
			dnsmasqLog = (dnsmasqLog + chunk.toString()).slice(-20_000);
		});
		// The server answers, with the three records, before any node asks it.
		const joiner = net().nodes[9]!;
		await waitUntil(() => dnsmasqLog.includes('started'), 10_000, () => `dnsmasq did not start: ${dnsmasqLog}`);
		const lookup = await mustRun('ip', ['netns', 'exec', joiner.namespace, process.execPath, '-e',
			`const {Resolver} = require('node:dns').promises; const r = new Resolver(); r.setServers(['${server.address}']); r.resolve4('${DNS_NAME}').then((a) => console.log(a.sort().join(',')))`]);
		expect(lookup.trim()).toBe(['12', '13', '14'].map((last) => `10.213.0.${last}`).join(','));

		// The child inherits this process's environment when spawned: the variable is set for it alone.
		process.env['CHORUS_DNS_SERVERS'] = server.address;
		let dnsNode: NamespacedNode;
		try {
			dnsNode = startNode(10, ['--join', `dns:${DNS_NAME}:${PORT}`]);
		} finally {
			process.env['CHORUS_DNS_SERVERS'] = '';
		}

		await waitForFirstSnapshot(dnsNode);
		// Whoever runs now (n9 too, unless the test before failed to start it).
		const everyone = [...nodes.entries()].filter(([, node]) => node.running).map(([index]) => index);
		const meshedAtMs = await waitUntil(() => fullyMeshed(everyone), 30_000, () => describeNodes(everyone));
		expect(meshedAtMs - dnsNode.startedAtMs, describeNodes(everyone)).toBeLessThan(KNOWN_WITHIN_MS + 5000);
		// The node asked our dnsmasq for both families, and learned the seeds from its data plane.
		expect(dnsmasqLog).toContain(`query[A] ${DNS_NAME} from ${joiner.address}`);
		expect(dnsmasqLog).toMatch(/query\[AAAA]/);
		const seedsHeard = dnsNode.events.filter((event) => event.kind === 'member-joined' && event.reason === 'data').map((event) => event.peer as string);
		expect(seedsHeard.some((id) => ['n2', 'n3', 'n4'].includes(id))).toBe(true);
	}, 120_000);
});
