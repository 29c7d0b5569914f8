/**
The NDJSON reporter: the node's snapshots at a fixed interval and its events as they happen, one
JSON object per line on stdout. Operators' scripts and later tools read this stream, so its field
names only ever grow.
*/

import type {ChorusNode, NodeEvent} from '../mesh/node.js';

/** What the reporter reads: a node, or a mesh session (which adds its demo peers and actions). */
export type ReportSource = Pick<ChorusNode, 'on' | 'snapshot'>;

export type ReporterOptions = {
	reportMs: number;
	write: (line: string) => void;
};

export type Reporter = {stop: () => void};

export function startReporter(node: ReportSource, options: ReporterOptions): Reporter {
	const writeEvent = (event: NodeEvent) => {
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
