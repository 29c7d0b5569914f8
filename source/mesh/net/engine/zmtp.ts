/**
The built-in engine for plain tcp:// links: ZMTP 3 spoken over node:net (the workspace package
@chorus-tui/zmtp, packages/zmtp). One read brings every message that has arrived, messages are
parsed in place, and no I/O thread or mailbox is woken per frame: the cost that made zeromq.js the
node's largest expense (bench/results.md). It speaks the NULL mechanism only; CURVE stays with libzmq.
*/

import {setImmediate as nextTurn} from 'node:timers/promises';
import {ZmtpPublisher, ZmtpSubscriber, type ZmtpSubscriberEvent} from '@chorus-tui/zmtp';
import type {Engine, LinkEvent, PublisherSocket, SubscriberSocket, OnFrames} from './engine.js';

/**
The cap of a link's redial backoff (it doubles from reconnectIntervalMs, with jitter). A second:
a peer that restarts is back within about a second of listening again, and a publisher that
refuses or hangs up on every dial costs one dial a second, not ten.
*/
const RECONNECT_INTERVAL_MAX_MS = 1000;

/** Complete messages a link queues before it stops reading its socket. */
const READ_AHEAD = 128;

export const zmtpEngine: Engine = {
	name: 'zmtp',
	async bind(endpoint, options, onEvent) {
		const publisher = new ZmtpPublisher({
			highWaterMark: options.highWaterMark,
			maxConnections: options.maxConnections,
			onEvent,
		});
		try {
			const bound = await publisher.bind(endpoint);
			return new ZmtpPublisherSocket(publisher, bound);
		} catch (error) {
			publisher.close();
			throw error;
		}
	},
	open(endpoint, options, onEvent) {
		const subscriber = new ZmtpSubscriber({
			endpoint,
			maxMessageBytes: options.maxMessageBytes,
			// How far it reads ahead of the node: a little suffices (a drain pass takes a few messages per
			// link), the kernel's buffer holds the rest, and the publisher drops at its own high-water mark,
			// as with libzmq. Reading up to the full mark kept 64 peers × 1000 parsed messages alive under a
			// flood, and every young-generation collection copied them: 25–40 ms pauses.
			highWaterMark: Math.min(options.highWaterMark, READ_AHEAD),
			reconnectIntervalMs: options.reconnectIntervalMs,
			reconnectIntervalMaxMs: RECONNECT_INTERVAL_MAX_MS,
			connectTimeoutMs: options.connectTimeoutMs,
			// The transport fetches once per poll (a node polls once per tick): no wake-up per message.
			// Where a socket has no descriptor, the package reads on demand instead (see fetch below).
			reading: 'polled',
			onEvent(event) {
				const linkEvent = toLinkEvent(event);
				if (linkEvent !== undefined) {
					onEvent(linkEvent);
				}

				// The subscriber does not redial a peer that refused it; the transport does, with backoff.
				if (event.type === 'handshake-failed') {
					onEvent({type: 'dropped', reason: 'refused'});
				}
			},
		});
		subscriber.connect();
		return new ZmtpSubscriberSocket(subscriber);
	},
};

function toLinkEvent(event: ZmtpSubscriberEvent): LinkEvent | undefined {
	switch (event.type) {
		case 'handshake': {
			return {type: 'up'};
		}

		case 'disconnect': {
			return {type: 'down'};
		}

		case 'dropped': {
			return {type: 'dropped', reason: event.reason};
		}

		case 'handshake-failed': {
			return {type: 'handshake-failed', reason: event.reason};
		}

		case 'connect-failed': {
			// It redials by itself, with backoff; the transport counts it and reports it at a bounded rate.
			return {type: 'dial-failed', code: event.code};
		}

		case 'ping-dropped': {
			return event;
		}
	}
}

class ZmtpPublisherSocket implements PublisherSocket {
	constructor(
		readonly publisher: ZmtpPublisher,
		readonly endpoint: string,
	) {}

	send(frame: string): boolean {
		this.publisher.send(frame);
		return true;
	}

	get connectionCount(): number {
		return this.publisher.connectionCount;
	}

	get subscriptions(): {count: number; bytes: number} {
		return this.publisher.subscriptions;
	}

	close(): void {
		this.publisher.close();
	}
}

class ZmtpSubscriberSocket implements SubscriberSocket {
	constructor(readonly subscriber: ZmtpSubscriber) {}

	take(max: number, onFrames: OnFrames, endpoint: string): number {
		return this.subscriber.take(max, onFrames, endpoint);
	}

	get backlogged(): boolean {
		return this.subscriber.backlogged;
	}

	/**
	A polled link has read by the time fetch() returns. One that reads on demand reads in the event
	loop's next poll phase, which comes before setImmediate; after it, the link stops reading even if
	its read has not come (the peer sent nothing), or it would wake the process for its next message
	in the middle of the tick, the very wake-up reading on demand saves.
	*/
	fetch(): Promise<void> | undefined {
		if (!this.subscriber.fetch()) {
			return undefined;
		}

		return nextTurn().then(() => {
			this.subscriber.endFetch();
		});
	}

	close(): void {
		this.subscriber.close();
	}
}
