/**
inproc:// as an in-memory bus between nodes of one process: a publish hands the same encoded frame
to every subscriber's queue, and each node drains its queues on its own tick, exactly as it drains
sockets. Nothing is copied per subscriber and nothing crosses a thread, which is what lets a
hundred nodes share one process; through libzmq's inproc every message woke a mailbox and cost a
promise and an N-API call (94–97 % of the process's time at 50 nodes).

The semantics are ZeroMQ's inproc PUB/SUB: a subscriber may connect before the publisher binds
(it attaches when the publisher appears), and a subscriber whose queue is at the high-water mark
misses messages rather than slowing the publisher.
*/

// The ZMTP package's queue, take loop included: one FIFO for both engines that queue parsed messages.
import {MessageQueue} from '@chorus-tui/zmtp';
import type {Engine, LinkEvent, PublisherSocket, SocketOptions, SubscriberSocket, OnFrames} from './engine.js';

/** The bound publishers of this process, and the subscribers waiting for one, by endpoint. */
const publishers = new Map<string, InprocPublisher>();
const waiting = new Map<string, Set<InprocSubscriber>>();

export const inprocEngine: Engine = {
	name: 'inproc',
	async bind(endpoint) {
		if (publishers.has(endpoint)) {
			throw Object.assign(new Error(`${endpoint} is already bound in this process`), {code: 'EADDRINUSE'});
		}

		const publisher = new InprocPublisher(endpoint);
		publishers.set(endpoint, publisher);
		for (const subscriber of waiting.get(endpoint) ?? []) {
			publisher.attach(subscriber);
		}

		waiting.delete(endpoint);
		return publisher;
	},
	open(endpoint, options, onEvent) {
		const subscriber = new InprocSubscriber(endpoint, options, onEvent);
		const publisher = publishers.get(endpoint);
		if (publisher === undefined) {
			wait(subscriber);
		} else {
			publisher.attach(subscriber);
		}

		return subscriber;
	},
};

function wait(subscriber: InprocSubscriber): void {
	let set = waiting.get(subscriber.endpoint);
	if (set === undefined) {
		set = new Set();
		waiting.set(subscriber.endpoint, set);
	}

	set.add(subscriber);
}

class InprocPublisher implements PublisherSocket {
	/** An array rebuilt on attach and detach only, so that a send walks a plain array. */
	#subscribers: InprocSubscriber[] = [];
	#closed = false;

	constructor(readonly endpoint: string) {}

	attach(subscriber: InprocSubscriber): void {
		this.#subscribers = [...this.#subscribers, subscriber];
		subscriber.attached(this);
	}

	detach(subscriber: InprocSubscriber): void {
		this.#subscribers = this.#subscribers.filter((candidate) => candidate !== subscriber);
	}

	send(frame: string): boolean {
		if (this.#closed) {
			return false;
		}

		// One Buffer and one frames array for every subscriber: receivers only read them.
		const frames = [Buffer.from(frame)];
		for (const subscriber of this.#subscribers) {
			subscriber.deliver(frames);
		}

		return true;
	}

	close(): void {
		if (this.#closed) {
			return;
		}

		this.#closed = true;
		publishers.delete(this.endpoint);
		const subscribers = this.#subscribers;
		this.#subscribers = [];
		// Like a peer that went away: the subscribers wait for the endpoint to be bound again.
		for (const subscriber of subscribers) {
			subscriber.detached();
		}
	}
}

class InprocSubscriber implements SubscriberSocket {
	readonly #options: SocketOptions;
	readonly #onEvent: (event: LinkEvent) => void;
	readonly #queue = new MessageQueue<Buffer[]>();
	#publisher: InprocPublisher | undefined;
	#closed = false;

	constructor(
		readonly endpoint: string,
		options: SocketOptions,
		onEvent: (event: LinkEvent) => void,
	) {
		this.#options = options;
		this.#onEvent = onEvent;
	}

	/** A publish hands its one Buffer to every subscriber (see InprocPublisher.send). */
	get sharesFrames(): boolean {
		return true;
	}

	attached(publisher: InprocPublisher): void {
		this.#publisher = publisher;
		this.#onEvent({type: 'up'});
	}

	detached(): void {
		this.#publisher = undefined;
		if (!this.#closed) {
			wait(this);
			this.#onEvent({type: 'down'});
		}
	}

	deliver(frames: Buffer[]): void {
		if (this.#queue.size < this.#options.highWaterMark) {
			this.#queue.push(frames);
		}
	}

	take(max: number, onFrames: OnFrames, endpoint: string): number {
		// close() clears the queue, so a take after it, or a close from onFrames, ends the loop.
		return this.#queue.take(max, onFrames, endpoint);
	}

	close(): void {
		if (this.#closed) {
			return;
		}

		this.#closed = true;
		this.#publisher?.detach(this);
		this.#publisher = undefined;
		waiting.get(this.endpoint)?.delete(this);
		if (waiting.get(this.endpoint)?.size === 0) {
			waiting.delete(this.endpoint);
		}

		this.#queue.clear();
	}
}
