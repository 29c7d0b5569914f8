/**
A FIFO of received messages, as a subscriber keeps them until its owner takes them: push at the
tail, shift at the head, in O(1) without Array#shift's copying. The consumed head is dropped when
the queue runs empty, or compacted once it is long and most of the array.

Exported for other engines of the same shape (chorus-tui's in-memory inproc:// bus), so that the
queue and its `take` loop exist once.
*/

const COMPACT_AFTER = 1024;

export class MessageQueue<T> {
	#items: Array<T | undefined> = [];
	#head = 0;

	get size(): number {
		return this.#items.length - this.#head;
	}

	push(item: T): void {
		this.#items.push(item);
	}

	/** The oldest item, or undefined when the queue is empty. */
	shift(): T | undefined {
		const items = this.#items;
		const head = this.#head;
		if (head >= items.length) {
			return undefined;
		}

		const item = items[head];
		// Let the item (and whatever it holds on to) go as soon as the caller does.
		items[head] = undefined;
		if (head + 1 === items.length) {
			items.length = 0;
			this.#head = 0;
		} else {
			this.#head = head + 1;
			if (head >= COMPACT_AFTER && head * 2 > items.length) {
				items.splice(0, head + 1);
				this.#head = 0;
			}
		}

		return item;
	}

	/**
	Hand up to `max` items to `each`, oldest first; returns how many. `context` is passed through as
	the second argument, so a caller on the hot path need not allocate a closure per take.
	*/
	take<C>(max: number, each: (item: T, context: C) => void, context: C): number {
		let taken = 0;
		while (taken < max) {
			// Read afresh each time: `each` may clear the queue (its owner closed).
			if (this.#head >= this.#items.length) {
				break;
			}

			taken++;
			each(this.shift()!, context);
		}

		return taken;
	}

	clear(): void {
		this.#items = [];
		this.#head = 0;
	}
}
