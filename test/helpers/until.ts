/**
Polling for a condition that a real process or terminal will reach: the end-to-end tests watch
things they cannot subscribe to (a tmux pane, /proc, a child's liveness), so they look again every
`everyMs` until it holds or the deadline passes, and then say what they waited for.
*/

import {performance} from 'node:perf_hooks';

export async function until(what: string, condition: () => boolean, timeoutMs: number, everyMs = 100): Promise<void> {
	const deadline = performance.now() + timeoutMs;
	while (!condition()) {
		if (performance.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
		}

		await new Promise((resolve) => {
			setTimeout(resolve, everyMs);
		});
	}
}
