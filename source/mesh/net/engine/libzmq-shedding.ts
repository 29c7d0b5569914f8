/**
How the libzmq publisher bounds its connections, which libzmq cannot do itself: it gives no handle on
an accepted connection (so one past --max-connections cannot be closed alone), and on EMFILE its
I/O thread retries the accept without pause, a monitor event each time (measured: 58,699 events
and a node frozen for 5 s under a descriptor flood). Both are met the one way libzmq allows: the
listener is unbound, which closes every connection it accepted and frees their descriptors, and
bound again after a rest that doubles while the flood goes on. Honest subscribers redial by
themselves (libzmq and our engine both do) and are back within a rest; a flood costs one burst per
rest, not a spinning thread.
*/

import type * as zmq from 'zeromq';

/** Connections the publisher holds, from its socket events: libzmq reports no count of its own. */
export type ConnectionCount = {held: number};

const FIRST_REST_MS = 500;
const MAX_REST_MS = 8000;
/** A listener that stayed up this long without shedding starts again from the first rest. */
const CALM_AFTER_MS = 30_000;

export class ListenerShedder {
	/** The endpoint actually bound; undefined until bind() resolved. */
	endpoint: string | undefined;
	#restMs = FIRST_REST_MS;
	#resting = false;
	#lastShedMs = 0;
	#closed = false;
	#timer: NodeJS.Timeout | undefined;

	constructor(
		readonly socket: zmq.Publisher,
		readonly connections: ConnectionCount,
	) {}

	get resting(): boolean {
		return this.#resting;
	}

	/** Unbind now (closing every accepted connection) and bind again after the rest; a no-op while resting. */
	shed(): void {
		const {endpoint} = this;
		if (this.#resting || this.#closed || endpoint === undefined) {
			return;
		}

		const nowMs = performance.now();
		if (nowMs - this.#lastShedMs > CALM_AFTER_MS) {
			this.#restMs = FIRST_REST_MS;
		}

		this.#lastShedMs = nowMs;
		this.#resting = true;
		const restMs = this.#restMs;
		this.#restMs = Math.min(this.#restMs * 2, MAX_REST_MS);
		this.socket.unbind(endpoint).then(
			() => {
				// Their disconnect events may not all come once the listener is gone: count afresh.
				this.connections.held = 0;
				this.#timer = setTimeout(() => {
					void this.#rebind(endpoint);
				}, restMs);
			},
			() => {
				this.#resting = false;
			},
		);
	}

	close(): void {
		this.#closed = true;
		clearTimeout(this.#timer);
	}

	async #rebind(endpoint: string): Promise<void> {
		// The port was ours a moment ago; retry while the kernel lets go of it (and while descriptors are short).
		for (let attempt = 1; !this.#closed && attempt <= 50; attempt++) {
			try {
				// eslint-disable-next-line no-await-in-loop -- a retry loop: each attempt waits for the last.
				await this.socket.bind(endpoint);
				break;
			} catch {
				// eslint-disable-next-line no-await-in-loop -- the pause between two attempts.
				await new Promise((resolve) => setTimeout(resolve, 100));
			}
		}

		this.#resting = false;
	}
}
