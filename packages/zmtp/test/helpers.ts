/**
Shared pieces of the package's tests: free loopback ports, waiting without fixed sleeps, cleanups,
and a subscriber that records its events and is fetched the way an owner would (every 10 ms).
Self-contained: the package's tests import nothing of chorus-tui's.
*/

import net from 'node:net';
import {ZmtpSubscriber, type ZmtpSubscriberEvent, type ZmtpSubscriberOptions} from '../src/subscriber.js';

const handedOut = new Set<number>();

/** A loopback port free now, never handed out twice in this process. */
export async function freePort(): Promise<number> {
	for (;;) {
		const port = await new Promise<number>((resolve, reject) => {
			const server = net.createServer();
			server.unref();
			server.on('error', reject);
			server.listen(0, '127.0.0.1', () => {
				const {port} = server.address() as net.AddressInfo;
				server.close(() => {
					resolve(port);
				});
			});
		});
		if (!handedOut.has(port)) {
			handedOut.add(port);
			return port;
		}
	}
}

export function loopback(port: number): string {
	return `tcp://127.0.0.1:${port}`;
}

/** Poll `condition` every 10 ms until it holds (its value is returned) or `timeoutMs` passes. */
export async function eventually<T>(what: string, condition: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const value = condition();
		if (value) {
			return value;
		}

		if (performance.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
		}

		await sleep(10);
	}
}

export async function sleep(ms: number): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Run `cleanup`s registered during a test, newest first; meant for afterEach. */
export class Cleanups {
	readonly #list: Array<() => unknown> = [];

	add(cleanup: () => unknown): void {
		this.#list.push(cleanup);
	}

	async run(): Promise<void> {
		for (const cleanup of this.#list.splice(0).toReversed()) {
			try {
				await cleanup();
			} catch {
				// One failed cleanup must not leave the others undone.
			}
		}
	}
}

/**
A connecting ZmtpSubscriber that records its events, closed by `cleanups`. A link reads only when
fetched, so it is fetched every `fetchEveryMs` (as a node does once a tick); 0 leaves fetching to the test.
*/
export function startSubscriber(
	cleanups: Cleanups,
	endpoint: string,
	overrides: Partial<ZmtpSubscriberOptions> = {},
	{fetchEveryMs = 10}: {fetchEveryMs?: number} = {},
): {sub: ZmtpSubscriber; events: ZmtpSubscriberEvent[]} {
	const events: ZmtpSubscriberEvent[] = [];
	const sub = new ZmtpSubscriber({
		endpoint,
		maxMessageBytes: 64 * 1024,
		highWaterMark: 1000,
		reconnectIntervalMs: 100,
		connectTimeoutMs: 1000,
		onEvent: (event) => events.push(event),
		...overrides,
	});
	if (fetchEveryMs > 0) {
		const timer = setInterval(() => {
			// What an on-demand read started is left running: the next fetch finds it reading.
			sub.fetch();
		}, fetchEveryMs);
		cleanups.add(() => {
			clearInterval(timer);
		});
	}

	cleanups.add(() => sub.close());
	sub.connect();
	return {sub, events};
}
