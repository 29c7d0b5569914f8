/**
The mesh view (`m`) in a real terminal (tmux), on a real mesh across network namespaces: eight
`chorus-tui --headless` nodes in n1–n8 and the terminal UI in a ninth, joined with `--join`. CURVE
is on, since a control endpoint that other hosts can reach must have it (without CURVE it binds
loopback only); the UI's key has role=operator, so its faults reach every member's control plane.

- `m` shows the 9×9 matrix (the UI's own node is a member too), every cell `●` off the diagonal.
- `P` (halves): every cross-half cell turns `✕` on every row within TTL + 1 s (and the pull and
  the screen's refresh on top), and the header gives each half's r; `S` writes the mesh view.
- `c`: every cell back to `●` within 2 s (same margins).

The figures are printed: on a shared machine they are what this run saw, not a benchmark.
*/

import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {partitionPlan} from '../../source/cluster/partition-shapes.js';
import {CLI_PATH, type Line} from '../helpers/headless-process.js';
import {TmuxShell} from '../helpers/tmux-shell.js';
import {assertNetworkTooling, createNetwork, mustRun, removeLeftovers, type Network, type NetNode} from '../network/netns.js';
import {NamespacedNode, waitUntil} from '../network/netns-node.js';

const PORT = 5555;
const TTL_S = 3;
const MESH_SIZE = 8;
const UI_ID = 'ui';
/** Every id of the mesh, as the UI's columns order them: its own first, the rest sorted. */
const NODE_IDS = Array.from({length: MESH_SIZE}, (_, index) => `n${index + 1}`);
const COLUMNS = [UI_ID, ...NODE_IDS];
/** The issue's bounds, and what the view adds on top: a pull a second, and the screen's refresh. */
const PARTITION_WITHIN_MS = TTL_S * 1000 + 1000;
const HEAL_WITHIN_MS = 2000;
const VIEW_MARGIN_MS = 3000;
/**
The heal, generously: the issue's 2 s, plus the view's margin, plus a loaded machine's slack.
Membership keeps the links of members our own blackhole silenced (no redial backoff to wait for),
so no TTL is added; test/session/mesh-heal.test.ts holds the nodes to 2 s + one pull, without a
terminal. Measured here on screen: 2.75 s, the nodes' own reports 1.35 s (load ~20 on 2 cores).
*/
const HEAL_BOUND_MS = HEAL_WITHIN_MS + VIEW_MARGIN_MS + 2000;
/** The nodes' own reports (4 a second) after the clear: the issue's 2 s, with a loaded machine's slack. */
const MESH_HEAL_BOUND_MS = HEAL_WITHIN_MS + 2000;
/**
The screen after the nodes' own reports: a pull a second, a render, a poll of tmux. Nine CI runs
measured 0.29–1.24 s, and once 2.55 s (stop 14, beside a profiling job), past the 2.5 s this was:
room for two more pulls; a view that stopped pulling would never get there.
*/
const VIEW_LAG_MS = 4000;

let network: Network | undefined;
let directory = '';
let shots = '';
let allowFile = '';
let shell: TmuxShell | undefined;
const nodes: NamespacedNode[] = [];

function net(): Network {
	if (network === undefined) {
		throw new Error('the network was not built');
	}

	return network;
}

function endpointOf(node: NetNode): string {
	return `tcp://${node.address}:${PORT}`;
}

function curveArgs(name: string, self: NetNode): string[] {
	return [
		'--bind', endpointOf(self),
		'--curve-secret-key-file', path.join(directory, name),
		'--allow', allowFile,
		'--ttl', String(TTL_S),
		'--gossip-interval', '1',
	];
}

function startNode(index: number, extra: readonly string[]): NamespacedNode {
	const self = net().nodes[index - 1]!;
	const node = new NamespacedNode(`n${index}`, self.namespace, [...curveArgs(`n${index}`, self), '--report-ms', '250', ...extra]);
	nodes.push(node);
	return node;
}

function alivePeers(snapshot: Line | undefined): string[] {
	return ((snapshot?.peers ?? []) as Array<{id: string; state: string}>).filter((peer) => peer.state === 'alive').map((peer) => peer.id);
}

/** The matrix as the screen shows it: each row's id and its cells, in column order. */
function screenMatrix(screen: string): Map<string, string[]> {
	const rows = new Map<string, string[]>();
	for (const line of screen.split('\n')) {
		const match = /^[ ›]([1-9A-Za-z]) (\S+)\s+((?:[●◌✕·╲] )+)\s*\d+\/\d+/.exec(line);
		if (match) {
			rows.set(match[2]!, match[3]!.trim().split(' '));
		}
	}

	return rows;
}

/**
A member heard, as a cell says: alive, or suspect. Suspect is silent for three of its publish
intervals (300 ms), which a node starved of CPU on a shared machine is now and then; it is still in
the coupling sum. Evicted (✕) and never heard (·) are what a partition makes.
*/
const HEARD = new Set(['●', '◌']);

/** Every row there, each cell as `expected(row, column)` says (the diagonal is the row itself). */
function matrixIs(screen: string, expected: (row: string, column: string) => 'heard' | '✕'): boolean {
	const rows = screenMatrix(screen);
	return COLUMNS.every((row) => {
		const cells = rows.get(row);
		return cells?.length === COLUMNS.length && COLUMNS.every((column, index) => {
			const cell = cells[index]!;
			if (row === column) {
				return cell === '╲';
			}

			return expected(row, column) === 'heard' ? HEARD.has(cell) : cell === '✕';
		});
	});
}

/** Cells alive (●) off the diagonal, of all of them. */
function aliveShare(screen: string): number {
	const cells = [...screenMatrix(screen).values()].flat().filter((cell) => cell !== '╲');
	return cells.length === 0 ? 0 : cells.filter((cell) => cell === '●').length / cells.length;
}

beforeAll(async () => {
	const startedAtMs = performance.now();
	await assertNetworkTooling();
	await removeLeftovers();
	network = await createNetwork(MESH_SIZE + 1);
	directory = mkdtempSync(path.join(tmpdir(), 'chorus-mesh-view-'));
	shots = path.join(directory, 'shots');
	const names = [...NODE_IDS, UI_ID];
	await Promise.all(names.map(async (name) => mustRun(process.execPath, [CLI_PATH, 'keygen', path.join(directory, name)])));
	const pub = (name: string) => readFileSync(path.join(directory, `${name}.pub`), 'utf8').trim();
	const uiNode = network.nodes[MESH_SIZE]!;
	allowFile = path.join(directory, 'allow');
	writeFileSync(allowFile, [
		...network.nodes.slice(0, MESH_SIZE).map((node) => `${pub(`n${node.index}`)} n${node.index} ${endpointOf(node)}`),
		// The console: a member like the others, and an operator, so its faults are obeyed.
		`${pub(UI_ID)} ${UI_ID} ${endpointOf(uiNode)} role=operator`,
		'',
	].join('\n'));

	// The mesh: n1 first, the others joining through it all at once.
	const seed = network.nodes[0]!;
	const first = startNode(1, []);
	await waitUntil(() => first.lastSnapshot() !== undefined || !first.running, 30_000, () => `n1 never reported: ${first.stderr.slice(-400)}`);
	for (let index = 2; index <= MESH_SIZE; index++) {
		startNode(index, ['--join', endpointOf(seed)]);
	}

	// The console in the ninth namespace, in a real terminal, started while the others mesh. NODE_ENV
	// is vitest's: not what users run. timeout --foreground: without it the UI runs in a background
	// process group and stops at its first read of the terminal (SIGTTIN).
	const args = [...curveArgs(UI_ID, uiNode), '--id', UI_ID, '--join', endpointOf(seed), '--screenshot-dir', shots];
	shell = new TmuxShell({
		columns: 80,
		rows: 24,
		script: `unset NODE_ENV; ip netns exec ${uiNode.namespace} timeout --foreground --kill-after=2 180 ${process.execPath} ${CLI_PATH} ${args.join(' ')}; echo "exit=$?"; sleep 30`,
	});

	await waitUntil(
		() => nodes.every((node) => NODE_IDS.filter((id) => id !== node.id).every((id) => alivePeers(node.lastSnapshot()).includes(id))),
		40_000,
		() => nodes.map((node) => `${node.id}: [${alivePeers(node.lastSnapshot()).join(',')}]${node.running ? '' : ` EXITED ${node.stderr.slice(-300)}`}`).join('; '),
	);
	console.log(`mesh view: network and 8 nodes meshed in ${Math.round(performance.now() - startedAtMs)} ms`);
}, 120_000);

afterAll(async () => {
	shell?.kill();
	await Promise.all(nodes.map(async (node) => node.stop()));
	await network?.destroy();
	if (directory !== '') {
		rmSync(directory, {recursive: true, force: true});
	}
}, 60_000);

describe('the mesh view on 8 nodes in network namespaces, the UI in a ninth', {concurrent: false}, () => {
	test('m: 9×9 all alive; P: the cross-half cells evicted on every row, each half’s r; c: all alive again', async () => {
		const tmux = shell!;
		await tmux.waitFor('the UI hears all 8 nodes', (screen) => NODE_IDS.every((id) => new RegExp(String.raw`${id} +● alive`).test(screen)), 40_000);
		tmux.key('m');
		await tmux.waitFor('the 9×9 matrix, every cell alive', (screen) => matrixIs(screen, () => 'heard') && aliveShare(screen) === 1, 20_000);
		const open = tmux.screen();
		expect(open).toMatch(/members 9 · 9 with a control plane/);
		expect(open).toMatch(/r \d\.\d\d local · \d\.\d\d global/);

		// Halves, as the session cuts them (partition-shapes.ts): the sorted ids split in two.
		const [halfA, halfB] = partitionPlan(COLUMNS, 'halves').groups as [string[], string[]];
		const sameHalf = (row: string, column: string) => halfA.includes(row) === halfA.includes(column);
		tmux.key('P');
		const partitionedAtMs = performance.now();
		const cut = await tmux.waitFor(
			'every cross-half cell ✕, every same-half cell heard',
			(screen) => matrixIs(screen, (row, column) => (sameHalf(row, column) ? 'heard' : '✕')),
			PARTITION_WITHIN_MS + VIEW_MARGIN_MS + 5000,
		);
		const partitionMs = performance.now() - partitionedAtMs;
		// Each half's r in the header, and the shape in the footer.
		const halvesR = await tmux.waitFor('each half’s r', (screen) => /partition halves {2}r by group \d\.\d\d │ \d\.\d\d/.test(screen), 5000);
		expect(halvesR).toMatch(/partition halves/);
		expect(cut).toMatch(/ 4\/8 | 3\/8 /);
		expect(halfA.length + halfB.length).toBe(9);

		// S writes the mesh view as it is on the screen.
		tmux.key('S');
		await tmux.waitFor('the screenshot path', (screen) => /screenshot \S+\.svg/.test(screen), 10_000);
		const text = readFileSync(path.join(shots, readdirSync(shots).find((file) => file.endsWith('.txt'))!), 'utf8');
		expect(text).toMatch(/OBSERVER +1 2 3 4 5 6 7 8 9/);
		expect(text).toContain('✕');

		tmux.key('c');
		const clearedAtMs = performance.now();
		const healed = await tmux.waitFor('every cell heard again', (screen) => matrixIs(screen, () => 'heard'), HEAL_BOUND_MS + 10_000);
		const healMs = performance.now() - clearedAtMs;
		// When the nodes themselves said so (their own NDJSON reports, 4 a second): the mesh's part of it.
		const meshHealedMs = Math.max(...nodes.map((node) => {
			const since = node.snapshots.filter((snapshot) => snapshot.receivedAtMs > clearedAtMs);
			const first = since.find((snapshot) => COLUMNS.filter((id) => id !== node.id).every((id) => alivePeers(snapshot).includes(id)));
			return first === undefined ? Number.POSITIVE_INFINITY : first.receivedAtMs - clearedAtMs;
		}));
		// Heard again, and alive but for the odd starved moment.
		expect(aliveShare(healed)).toBeGreaterThan(0.8);
		const clearedOnNodesMs = Math.max(...nodes.map((node) => (node.events.find((event) => event.receivedAtMs > clearedAtMs && event.kind === 'fault-cleared')?.receivedAtMs ?? Number.POSITIVE_INFINITY) - clearedAtMs));
		console.log(`mesh view: partition seen on every row after ${Math.round(partitionMs)} ms (TTL ${TTL_S} s); the clear reached the last node after ${Math.round(clearedOnNodesMs)} ms; healed in the nodes' own reports after ${Math.round(meshHealedMs)} ms, on screen after ${Math.round(healMs)} ms`);
		expect(partitionMs).toBeLessThan(PARTITION_WITHIN_MS + VIEW_MARGIN_MS);
		expect(healMs).toBeLessThan(HEAL_BOUND_MS);
		expect(meshHealedMs).toBeLessThan(MESH_HEAL_BOUND_MS);
		expect(healMs - meshHealedMs).toBeLessThan(VIEW_LAG_MS);

		tmux.key('q');
		await tmux.waitFor('the UI exits cleanly', (screen) => screen.includes('exit=0'), 15_000);
	}, 150_000);
});
