/**
Fault leases: every fault set through the control plane expires unless it is set again, so an
operator (or a script) that vanishes never leaves a mesh broken.

A lease covers one field of one fault entry (`inbound:<target>` drop, `outbound` delayMs, …): the
entry may hold fields from several requests, each running out on its own. Pure: time is an
argument. `LeaseTimer` below is the thin part that calls back when the next lease is due.
*/

/** Which fault entry: `inbound:<peer id or all>` or `outbound`. */
export type LeaseKey = string;

/** What ran out: the fields of one entry whose leases ended, to be reset to their zero value. */
export type ExpiredLease = {key: LeaseKey; fields: string[]};

export class LeaseBook {
	/** key → field → due time (monotonic ms). */
	readonly #due = new Map<LeaseKey, Map<string, number>>();

	/** Number of (entry, field) leases running. */
	get size(): number {
		let count = 0;
		for (const fields of this.#due.values()) {
			count += fields.size;
		}

		return count;
	}

	/**
	(Re)start the leases of `fields` on `key`: they run out at `nowMs + leaseMs`. `leaseMs` 0 sets
	no expiry, and so removes a lease those fields had.
	*/
	set(key: LeaseKey, fields: readonly string[], leaseMs: number, nowMs: number): void {
		let entry = this.#due.get(key);
		for (const field of fields) {
			if (leaseMs > 0) {
				entry ??= new Map();
				entry.set(field, nowMs + leaseMs);
			} else {
				entry?.delete(field);
			}
		}

		if (entry !== undefined && entry.size > 0) {
			this.#due.set(key, entry);
		} else {
			this.#due.delete(key);
		}
	}

	/** Forget every lease (the faults were cleared another way). */
	clear(): void {
		this.#due.clear();
	}

	/** The leases due at `nowMs`, removed from the book, grouped by entry. */
	takeDue(nowMs: number): ExpiredLease[] {
		const expired: ExpiredLease[] = [];
		for (const [key, fields] of this.#due) {
			const due = [...fields].filter(([, dueMs]) => dueMs <= nowMs).map(([field]) => field);
			if (due.length === 0) {
				continue;
			}

			for (const field of due) {
				fields.delete(field);
			}

			if (fields.size === 0) {
				this.#due.delete(key);
			}

			expired.push({key, fields: due});
		}

		return expired;
	}

	/** When the next lease runs out, or undefined when none runs. */
	nextDueMs(): number | undefined {
		let next: number | undefined;
		for (const fields of this.#due.values()) {
			for (const dueMs of fields.values()) {
				if (next === undefined || dueMs < next) {
					next = dueMs;
				}
			}
		}

		return next;
	}

	/** Milliseconds left on each running lease of `key`, by field (for `view`). */
	remainingMs(key: LeaseKey, nowMs: number): Record<string, number> | undefined {
		const fields = this.#due.get(key);
		if (fields === undefined) {
			return undefined;
		}

		return Object.fromEntries([...fields].map(([field, dueMs]) => [field, Math.max(0, Math.round(dueMs - nowMs))]));
	}

	/** Every running lease: entry → field → milliseconds left. */
	all(nowMs: number): Record<LeaseKey, Record<string, number>> {
		return Object.fromEntries([...this.#due.keys()].map((key) => [key, this.remainingMs(key, nowMs)!]));
	}
}

/**
Calls `onExpired` when leases of a book run out: one timer, set for the next due lease, set again
after every change (`reschedule`). `now` is a monotonic clock (performance.now).
*/
export class LeaseTimer {
	readonly #book: LeaseBook;
	readonly #now: () => number;
	readonly #onExpired: (expired: ExpiredLease[]) => void;
	#timer: NodeJS.Timeout | undefined;

	constructor(book: LeaseBook, now: () => number, onExpired: (expired: ExpiredLease[]) => void) {
		this.#book = book;
		this.#now = now;
		this.#onExpired = onExpired;
	}

	reschedule(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		const dueMs = this.#book.nextDueMs();
		if (dueMs === undefined) {
			return;
		}

		// setTimeout takes at most 2^31-1 ms; a longer lease is looked at again then.
		const waitMs = Math.min(Math.max(0, dueMs - this.#now()), 2 ** 31 - 1);
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			const expired = this.#book.takeDue(this.#now());
			if (expired.length > 0) {
				this.#onExpired(expired);
			}

			this.reschedule();
		}, waitMs);
		// A lease alone never keeps a process alive.
		this.#timer.unref();
	}

	stop(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
	}
}
