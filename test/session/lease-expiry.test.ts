// The lease acceptance of the whole-mesh issue, with real processes: a console partitions a mesh of
// `chorus-tui --headless` members from its own process (a scenario with `partition: halves` and
// `--fault-lease 3`), keeps the partition past its lease by renewing it, and is then SIGKILLed.
// Every member must clear its blackholes by itself within the lease + 1 s, say so with
// `fault-lease-expired` events, and the mesh must heal.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, describe, expect, it} from 'vitest';
import {ControlClient} from '../../source/cluster/control/client.js';
import {partitionPlan} from '../../source/cluster/partition-shapes.js';
import {portWithFreeNext} from '../cluster/control-helpers.js';
import {HeadlessProcess, stopAll} from '../helpers/headless-process.js';
import {sleep} from '../helpers/nodes.js';
import {loopback} from '../helpers/ports.js';

const LEASE_S = 3;
const MEMBERS = ['m-1', 'm-2', 'm-3', 'm-4'];
const directory = mkdtempSync(path.join(tmpdir(), 'chorus-lease-'));
const processes: HeadlessProcess[] = [];
const client = new ControlClient({timeoutMs: 1500});

afterAll(async () => {
	await client.close();
	await stopAll(processes);
	rmSync(directory, {recursive: true, force: true});
});

type View = {faults: {peers: Record<string, {blackhole?: boolean}>}; peers: Array<{id: string; state: string}>; leasesMs: Record<string, unknown>};

async function view(control: string): Promise<View | undefined> {
	try {
		const reply = await client.request(control, {op: 'view', limit: 500});
		return reply.ok ? (reply as unknown as View) : undefined;
	} catch {
		return undefined;
	}
}

function blackholed(snapshot: View | undefined): string[] {
	return Object.entries(snapshot?.faults.peers ?? {}).filter(([, fault]) => fault.blackhole === true).map(([peer]) => peer).sort();
}

describe('fault leases across processes', () => {
	it('a partition set by a console that is SIGKILLed clears on every member within the lease + 1 s, and the mesh heals', async () => {
		const ports: number[] = [];
		for (let index = 0; index <= MEMBERS.length; index++) {
			ports.push(await portWithFreeNext());
		}

		const [consolePort, ...memberPorts] = ports as [number, ...number[]];
		const controls = memberPorts.map((port) => loopback(port + 1));
		const everyone = ports.map((port) => loopback(port));
		for (const [index, id] of MEMBERS.entries()) {
			processes.push(new HeadlessProcess(['--id', id, '--demo', '0', '--bind', String(memberPorts[index]), '--peer', everyone.filter((endpoint) => endpoint !== loopback(memberPorts[index]!)).join(','), '--ttl', '2', '--report-ms', '500']));
		}

		const scenario = path.join(directory, 'partition.yaml');
		writeFileSync(scenario, 'steps:\n  - {at: 5s, partition: halves}\n');
		const console_ = new HeadlessProcess(['--id', 'console', '--demo', '0', '--bind', String(consolePort), '--peer', everyone.slice(1).join(','), '--ttl', '2', '--fault-lease', String(LEASE_S), '--scenario', scenario]);
		processes.push(console_);

		const step = await console_.waitForEvent('scenario-step', undefined, 25_000);
		expect(step['ok'], step['message'] as string).toBe(true);
		expect(step['message']).toMatch(/partition halves set on 5 of 5/);
		const plan = partitionPlan(['console', ...MEMBERS], 'halves');
		const expected = MEMBERS.map((id) => [...plan.blackholes.get(id)!].sort());
		const inForce = async () => Promise.all(controls.map(async (control) => blackholed(await view(control))));
		expect(await inForce()).toEqual(expected);

		// Past its lease the partition holds: the console renews it.
		await sleep((LEASE_S + 1) * 1000);
		expect(await inForce()).toEqual(expected);
		const renewed = await view(controls[0]!);
		expect(Object.keys(renewed!.leasesMs).length).toBeGreaterThan(0);

		const lines = processes.slice(0, MEMBERS.length).map((member) => member.lines.length);
		await console_.stop('SIGKILL');
		const killedAtMs = performance.now();
		const clearedAfterMs: number[] = [];
		await Promise.all(controls.map(async (control, index) => {
			for (;;) {
				if (blackholed(await view(control)).length === 0) {
					clearedAfterMs[index] = performance.now() - killedAtMs;
					return;
				}

				if (performance.now() - killedAtMs > (LEASE_S + 5) * 1000) {
					throw new Error(`${MEMBERS[index]!} still holds its blackholes ${LEASE_S + 5} s after the console died`);
				}

				await sleep(100);
			}
		}));
		console.log(`lease ${LEASE_S} s: members cleared ${clearedAfterMs.map((ms) => Math.round(ms)).join(', ')} ms after the console's SIGKILL`);
		for (const ms of clearedAfterMs) {
			expect(ms).toBeLessThan((LEASE_S + 1) * 1000);
		}

		// Each member says so with its own events.
		for (const [index, member] of processes.slice(0, MEMBERS.length).entries()) {
			await member.waitForEvent('fault-lease-expired', undefined, 2000, lines[index]);
		}

		// The mesh heals: every member hears every other member again.
		const healDeadline = performance.now() + 10_000;
		for (const [index, control] of controls.entries()) {
			for (;;) {
				const peers = (await view(control))?.peers ?? [];
				const hears = new Set(peers.filter((peer) => peer.state === 'alive' || peer.state === 'restarted').map((peer) => peer.id));
				if (MEMBERS.every((id) => id === MEMBERS[index] || hears.has(id))) {
					break;
				}

				if (performance.now() > healDeadline) {
					throw new Error(`${MEMBERS[index]!} hears only ${[...hears].join(', ')}`);
				}

				await sleep(200);
			}
		}
	}, 60_000);
});
