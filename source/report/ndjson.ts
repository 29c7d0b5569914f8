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
};

export type Reporter = {stop: () => void};

export function startReporter(node: ReportSource, options: ReporterOptions): Reporter {
	const writeEvent = (event: ReportedEvent) => {
		options.write(JSON.stringify({type: 'event', ...event}) + '\n');
	};

	const unsubscribe = node.on(writeEvent);
	const writeSnapshot = () => {
		options.write(JSON.stringify({type: 'snapshot', ...node.snapshot()}) + '\n');
	};

	const timer = setInterval(writeSnapshot, options.reportMs);
	return {
		stop() {
			clearInterval(timer);
			unsubscribe();
		},
	};
}
