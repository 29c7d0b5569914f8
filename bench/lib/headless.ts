/** A `chorus-tui --headless` process whose NDJSON lines are parsed as they arrive. */

import {CLI_PATH} from './paths.js';
import {Child, type SpawnOptions} from './proc.js';

export type Snapshot = {
	type: 'snapshot';
	t: number;
	node: {id: string; incarnation: number; lamport: number; phase: number; r: number; omega: number};
	peers: Array<{id: string; state: string; lamport: number; incarnation: number; lastSeenMs: number}>;
	stats: {received: number; admitted: number; rejected: Record<string, number>; tickLateMs: {p50: number; p99: number; max: number}};
	atMs: number;
};

export type NodeEventLine = {type: 'event'; kind: string; peer?: string; atMs: number; [field: string]: unknown};

export class HeadlessNode {
	readonly child: Child;
	readonly events: NodeEventLine[] = [];
	/** Snapshots kept (all of them when `keepSnapshots`, else only the last). */
	readonly snapshots: Snapshot[] = [];
	lastSnapshot: Snapshot | undefined;

	constructor(
		readonly id: string,
		args: readonly string[],
		options: SpawnOptions & {keepSnapshots?: boolean} = {},
	) {
		this.child = new Child(process.execPath, [CLI_PATH, '--headless', '--demo', '0', '--id', id, ...args], {
			...options,
			keepLines: false,
			onLine: (text, atMs) => {
				let parsed: {type?: string};
				try {
					parsed = JSON.parse(text) as {type?: string};
				} catch {
					return;
				}

				if (parsed.type === 'snapshot') {
					const snapshot = {...(parsed as Snapshot), atMs};
					this.lastSnapshot = snapshot;
					if (options.keepSnapshots) {
						this.snapshots.push(snapshot);
					}
				} else if (parsed.type === 'event') {
					this.events.push({...(parsed as NodeEventLine), atMs});
				}
			},
		});
	}

	get pid(): number {
		return this.child.pid;
	}

	async stop(): Promise<void> {
		await this.child.stop();
	}
}

/** Wait until `condition` holds, polling every `everyMs`; false on timeout. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
	const deadline = performance.now() + timeoutMs;
	while (performance.now() < deadline) {
		if (condition()) {
			return true;
		}

		await new Promise((resolve) => {
			setTimeout(resolve, everyMs);
		});
	}

	return condition();
}
