/**
In-process nodes and raw ZeroMQ peers for integration tests: real sockets on loopback.
*/

import * as zmq from 'zeromq';
import {type ChorusNode, type NodeEvent, type NodeOptions} from '../../source/mesh/node.js';
import {seededUniform} from '../../source/mesh/model/random.js';
import {defaultNodeOptions} from '../../source/session/node-from-config.js';
import {freePort, loopback} from './ports.js';

export async function testNodeOptions(overrides: Partial<NodeOptions> = {}): Promise<NodeOptions> {
	return defaultNodeOptions(
		{id: 'node-under-test', bindEndpoint: loopback(await freePort())},
		{random: seededUniform(1), ...overrides},
	);
}

/** Resolve when the node emits an event that matches, or reject after `timeoutMs`. */
export async function nextEvent(
	node: ChorusNode,
	predicate: (event: NodeEvent) => boolean,
	timeoutMs: number,
): Promise<NodeEvent> {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			unsubscribe();
			reject(new Error(`no matching event within ${timeoutMs} ms`));
		}, timeoutMs);
		const unsubscribe = node.on((event) => {
			if (predicate(event)) {
				clearTimeout(timer);
				unsubscribe();
				resolve(event);
			}
		});
	});
}

/** Poll until `condition` holds; throws with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, condition: () => T | undefined | false, timeoutMs: number, everyMs = 25): Promise<T> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const value = condition();
		if (value) {
			return value;
		}

		if (performance.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
		}

		await new Promise((resolve) => setTimeout(resolve, everyMs));
	}
}

/**
A bare ZeroMQ publisher standing in for a peer: it sends whatever frames a test gives it. It is an
XPUB so that it can wait for a subscription to arrive: a PUB drops what it sends before that.
*/
export class RawPeer {
	readonly socket = new zmq.XPublisher({linger: 0});

	/** Resolve once a subscriber's subscription has reached this publisher. */
	async waitForSubscriber(): Promise<void> {
		const [frame] = await this.socket.receive();
		if (frame?.[0] !== 1) {
			await this.waitForSubscriber();
		}
	}

	endpoint = '';

	async bind(): Promise<this> {
		this.endpoint = loopback(await freePort());
		await this.socket.bind(this.endpoint);
		return this;
	}

	async send(frame: string | Buffer | Array<string | Buffer>): Promise<void> {
		await this.socket.send(frame);
	}

	close(): void {
		this.socket.close();
	}
}

export async function sleep(ms: number): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, ms));
}
