/**
The NDJSON reporter: the node's snapshots at a fixed interval and its events as they happen, one
JSON object per line on stdout. Operators' scripts and later tools read this stream, so its field
names only ever grow.
*/

import type {NodeSnapshot, StampedEvent} from '../mesh/snapshot.js';

/** Any event stream: a node's, or a mesh session's (which adds peer actions and scenario steps). */
type ReportedEvent = StampedEvent<string>;

/** What the reporter reads: a node, or a mesh session (which adds its demo peers and actions). */
export type ReportSource = {
	on(listener: (event: ReportedEvent) => void): () => void;
	snapshot(): NodeSnapshot;
};

export type ReporterOptions = {
	reportMs: number;
	write: (line: string) => void;
	/**
	When given, the first snapshot is written as soon as this resolves (the node is bound) and the
	node has ticked once, then one every `reportMs`: a reader sees the node's state at start-up, not a
	report interval later. Without it, the first snapshot comes after one interval.
	*/
	started?: Promise<unknown>;
};

/** How often the reporter looks for the node's first tick (due as the node starts, run once the start-up's own work yields). */
export const FIRST_TICK_POLL_MS = 5;

export type Reporter = {stop: () => void};

export function startReporter(node: ReportSource, options: ReporterOptions): Reporter {
	const writeEvent = (event: ReportedEvent) => {
		options.write(JSON.stringify({type: 'event', ...event}) + '\n');
	};

	const unsubscribe = node.on(writeEvent);
	const writeSnapshot = () => {
		options.write(JSON.stringify({type: 'snapshot', ...node.snapshot()}) + '\n');
	};

	let stopped = false;
	let timer: NodeJS.Timeout | undefined;
	const startInterval = () => {
		if (!stopped) {
			timer = setInterval(writeSnapshot, options.reportMs);
		}
	};

	if (options.started === undefined) {
		startInterval();
	} else {
		// A few cheap looks at a node with no peers yet, only until its first tick.
		const awaitFirstTick = () => {
			if (stopped) {
				return;
			}

			if (node.snapshot().stats.ticks === 0) {
				timer = setTimeout(awaitFirstTick, FIRST_TICK_POLL_MS);
				return;
			}

			writeSnapshot();
			startInterval();
		};

		// A node that fails to start has nothing to report; its caller says why.
		options.started.then(awaitFirstTick, () => undefined);
	}

	return {
		stop() {
			stopped = true;
			clearTimeout(timer);
			clearInterval(timer);
			unsubscribe();
		},
	};
}
