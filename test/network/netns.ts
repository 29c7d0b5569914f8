/**
A small virtual network for tests: N node namespaces joined by veth links to a bridge that lives in
a namespace of its own, so nothing touches the host's interfaces or addresses.

	chorus-<pid>-<run>-br     br0 ── p1 ┐ … ┌ pN
	chorus-<pid>-<run>-n1     eth0 10.213.0.11/24   (veth peer of p1)
	…
	chorus-<pid>-<run>-nN     eth0 10.213.0.(10+N)/24

The test subnet exists only inside these namespaces, so parallel runs can all use it: each run has
its own bridge and its own namespaces (the pid, the worker thread and a counter make the names
unique).

Faults are nftables rules inside each node namespace, on input only (a drop on output would hand
the sender's TCP stack a local error instead of a silent loss):
- random loss: `iifname "eth0" numgen random mod 100 < P drop`, so each packet crossing into a node
  is lost with probability P;
- partition: `ip saddr @cut drop`, where the set `cut` holds the addresses on the other side.

The kernel here has no netem, so there is no delay emulation.
*/

import {spawn} from 'node:child_process';
import {existsSync, readdirSync} from 'node:fs';
import process from 'node:process';
import {threadId} from 'node:worker_threads';

/** Every namespace this helper creates is named `chorus-<pid>-<run>-…`. */
const NAME_PATTERN = /^chorus-(\d+)-(\d+)-/;
export const SUBNET_PREFIX = '10.213.0';
const NETNS_DIR = '/run/netns';

export type CommandResult = {code: number | null; stdout: string; stderr: string};

/** Run a command, optionally feeding it stdin; never throws. */
export async function runCommand(command: string, args: readonly string[], input?: string): Promise<CommandResult> {
	return new Promise((resolve) => {
		const child = spawn(command, args, {stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout!.on('data', (chunk: Buffer) => {
			stdout += chunk.toString();
		});
		child.stderr!.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		child.on('error', (error) => {
			resolve({code: null, stdout, stderr: stderr + error.message});
		});
		child.on('close', (code) => {
			resolve({code, stdout, stderr});
		});
		if (input !== undefined) {
			// A command that exits without reading its input must not crash the test with EPIPE.
			child.stdin!.on('error', () => {});
			child.stdin!.end(input);
		}
	});
}

/** Run a command and throw with its exact error output when it fails. */
export async function mustRun(command: string, args: readonly string[], input?: string): Promise<string> {
	const result = await runCommand(command, args, input);
	if (result.code !== 0) {
		throw new Error(`\`${[command, ...args].join(' ')}\` failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
	}

	return result.stdout;
}

/**
Check that this machine can build the network: `ip` and `nft` exist, and a namespace, a veth pair,
a bridge and an nftables table can be created. Throws with the exact error otherwise; CI installs
the tools (.ci/run), so a missing tool is a failure, not a reason to skip.
*/
export async function assertNetworkTooling(): Promise<void> {
	for (const tool of ['ip', 'nft']) {
		const found = await runCommand('sh', ['-c', `command -v ${tool}`]);
		if (found.code !== 0) {
			throw new Error(`\`${tool}\` is not installed; the network tests need iproute2 and nftables (.ci/run installs them)`);
		}
	}

	const probe = `chorus-${process.pid}-${threadId * 10_000}-probe`;
	try {
		await mustRun('ip', ['netns', 'add', probe]);
		await mustRun('ip', ['-n', probe, 'link', 'add', 'br0', 'type', 'bridge']);
		await mustRun('ip', ['-n', probe, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
		await mustRun('ip', ['netns', 'exec', probe, 'nft', '-f', '-'], 'table inet probe {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\tnumgen random mod 100 < 20 drop\n\t}\n}\n');
	} finally {
		await runCommand('ip', ['netns', 'del', probe]);
	}
}

export type NetNode = {
	/** 1-based, as in the namespace name. */
	index: number;
	namespace: string;
	address: string;
};

/**
When a change was in force on each node: `performance.now()` right after that node's `nft` returned,
by node index. On a loaded machine the five commands can take a second in all, so a test measures
each node from the moment its own rules changed.
*/
export type AppliedAt = Map<number, number>;

export type Network = {
	prefix: string;
	bridgeNamespace: string;
	nodes: NetNode[];
	/** Drop this percentage of the packets arriving at every node (0 removes the loss). */
	setLoss(percent: number): Promise<AppliedAt>;
	/** Packets dropped so far by the loss rules, over all nodes. */
	lossDrops(): Promise<number>;
	/**
	Cut the network between groups of node indexes (1-based): no packet crosses between groups.
	Nodes in no group form one more group.
	*/
	partition(groups: ReadonlyArray<readonly number[]>): Promise<AppliedAt>;
	/** Remove every partition. */
	heal(): Promise<AppliedAt>;
	/** Remove every namespace; safe to call twice and after a failed setup. */
	destroy(): Promise<void>;
};

let runCounter = 0;

/** Processes still living in a namespace (as far as this pid namespace can see). */
async function pidsIn(namespace: string): Promise<number[]> {
	const result = await runCommand('ip', ['netns', 'pids', namespace]);
	return result.stdout.split(/\s+/).filter(Boolean).map(Number).filter((pid) => Number.isInteger(pid) && pid > 0);
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

async function deleteNamespace(namespace: string): Promise<void> {
	// A namespace outlives `ip netns del` while processes run in it, so end them first.
	for (const pid of await pidsIn(namespace)) {
		try {
			process.kill(pid, 'SIGKILL');
		} catch {}
	}

	await runCommand('ip', ['netns', 'del', namespace]);
}

/**
Remove what a crashed earlier run left behind: namespaces named by this helper whose creating
process is gone. Namespaces of runs still alive (parallel workers) are left alone.
*/
export async function removeLeftovers(): Promise<string[]> {
	if (!existsSync(NETNS_DIR)) {
		return [];
	}

	const removed: string[] = [];
	for (const namespace of readdirSync(NETNS_DIR)) {
		const match = NAME_PATTERN.exec(namespace);
		if (!match || isAlive(Number(match[1]))) {
			continue;
		}

		await deleteNamespace(namespace);
		removed.push(namespace);
	}

	return removed;
}

function rulesetFor(): string {
	// The loss chain is flushed and refilled by setLoss; the cut set is refilled by partition.
	return `table inet chorus {
	set cut {
		type ipv4_addr
	}

	chain loss {
	}

	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr @cut counter drop
		jump loss
	}
}
`;
}

/** Build the network: `count` node namespaces on one bridge. Tears down what it built if a step fails. */
export async function createNetwork(count: number): Promise<Network> {
	if (!Number.isInteger(count) || count < 1 || count > 200) {
		throw new RangeError(`node count ${count} is out of range 1-200`);
	}

	runCounter++;
	// Worker threads share a pid, so the thread id goes into the run number too.
	const prefix = `chorus-${process.pid}-${threadId * 10_000 + runCounter}`;
	const bridgeNamespace = `${prefix}-br`;
	const nodes: NetNode[] = Array.from({length: count}, (_, offset) => ({
		index: offset + 1,
		namespace: `${prefix}-n${offset + 1}`,
		address: `${SUBNET_PREFIX}.${offset + 11}`,
	}));
	const created: string[] = [];
	let destroyed = false;

	const destroy = async () => {
		if (destroyed) {
			return;
		}

		destroyed = true;
		// Deleting a node namespace destroys its veth end, and with it the peer on the bridge.
		for (const namespace of created.toReversed()) {
			await deleteNamespace(namespace);
		}
	};

	const nftIn = async (node: NetNode, script: string) => mustRun('ip', ['netns', 'exec', node.namespace, 'nft', '-f', '-'], script);
	const nftOnEvery = async (scriptFor: (node: NetNode) => string): Promise<AppliedAt> => {
		const appliedAt: AppliedAt = new Map();
		await Promise.all(nodes.map(async (node) => {
			await nftIn(node, scriptFor(node));
			appliedAt.set(node.index, performance.now());
		}));
		return appliedAt;
	};

	try {
		await mustRun('ip', ['netns', 'add', bridgeNamespace]);
		created.push(bridgeNamespace);
		await mustRun('ip', ['-n', bridgeNamespace, 'link', 'set', 'lo', 'up']);
		await mustRun('ip', ['-n', bridgeNamespace, 'link', 'add', 'br0', 'type', 'bridge']);
		await mustRun('ip', ['-n', bridgeNamespace, 'link', 'set', 'br0', 'up']);
		for (const node of nodes) {
			const port = `p${node.index}`;
			await mustRun('ip', ['netns', 'add', node.namespace]);
			created.push(node.namespace);
			await mustRun('ip', ['-n', node.namespace, 'link', 'set', 'lo', 'up']);
			// Created inside the bridge namespace, the far end moved straight into the node's: no name
			// is ever taken in the host's namespace.
			await mustRun('ip', ['-n', bridgeNamespace, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.namespace]);
			await mustRun('ip', ['-n', bridgeNamespace, 'link', 'set', port, 'master', 'br0']);
			await mustRun('ip', ['-n', bridgeNamespace, 'link', 'set', port, 'up']);
			await mustRun('ip', ['-n', node.namespace, 'addr', 'add', `${node.address}/24`, 'dev', 'eth0']);
			await mustRun('ip', ['-n', node.namespace, 'link', 'set', 'eth0', 'up']);
			await nftIn(node, rulesetFor());
		}
	} catch (error) {
		await destroy();
		throw error;
	}

	return {
		prefix,
		bridgeNamespace,
		nodes,
		async setLoss(percent) {
			if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
				throw new RangeError(`loss ${percent} % is out of range 0-100`);
			}

			const rule = percent > 0 ? `add rule inet chorus loss iifname "eth0" numgen random mod 100 < ${percent} counter drop\n` : '';
			return nftOnEvery(() => `flush chain inet chorus loss\n${rule}`);
		},
		async lossDrops() {
			let total = 0;
			for (const node of nodes) {
				const listing = await mustRun('ip', ['netns', 'exec', node.namespace, 'nft', 'list', 'chain', 'inet', 'chorus', 'loss']);
				for (const match of listing.matchAll(/counter packets (\d+)/g)) {
					total += Number(match[1]);
				}
			}

			return total;
		},
		async partition(groups) {
			const groupOf = new Map<number, number>();
			for (const [group, members] of groups.entries()) {
				for (const index of members) {
					if (!nodes.some((node) => node.index === index) || groupOf.has(index)) {
						throw new RangeError(`node ${index} is unknown or in two groups`);
					}

					groupOf.set(index, group);
				}
			}

			return nftOnEvery((node) => {
				const others = nodes.filter((other) => groupOf.get(other.index) !== groupOf.get(node.index));
				const elements = others.length > 0 ? `add element inet chorus cut { ${others.map((other) => other.address).join(', ')} }\n` : '';
				return `flush set inet chorus cut\n${elements}`;
			});
		},
		async heal() {
			return nftOnEvery(() => 'flush set inet chorus cut\n');
		},
		destroy,
	};
}
