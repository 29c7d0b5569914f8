/**
Shared pieces of the ZMTP engine tests: waiting without fixed sleeps, cleanups, and a subscriber
that records its events.
*/

import {ZmtpSubscriber, type ZmtpSubscriberEvent, type ZmtpSubscriberOptions} from '../../../../source/mesh/net/zmtp/subscriber.js';
import {eventually as eventuallyWithin} from '../../../helpers/nodes.js';

/** The shared `eventually`, polling every 10 ms with a 5 s default. */
export async function eventually<T>(what: string, condition: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
	return eventuallyWithin(what, condition, timeoutMs, 10);
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
		for (const cleanup of this.#list.splice(0).reverse()) {
			try {
				// eslint-disable-next-line no-await-in-loop
				await cleanup();
			} catch {
				// One failed cleanup must not leave the others undone.
			}
		}
	}
}

/** A connecting ZmtpSubscriber that records its events, closed by `cleanups`. */
export function startSubscriber(
	cleanups: Cleanups,
	endpoint: string,
	overrides: Partial<ZmtpSubscriberOptions> = {},
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
	cleanups.add(() => sub.close());
	sub.connect();
	return {sub, events};
}
