/**
The FIFO a subscriber keeps its messages in (and chorus-tui's inproc engine too): order, the take
loop's budget and context, a clear from inside a take, and compaction under a long backlog.
*/

import {describe, expect, it} from 'vitest';
import {MessageQueue} from '../src/message-queue.js';

describe('MessageQueue', () => {
	it('takes oldest first, at most the budget, passing the context through', () => {
		const queue = new MessageQueue<number>();
		for (let item = 0; item < 5; item++) {
			queue.push(item);
		}

		const seen: Array<[number, string]> = [];
		expect(queue.take(3, (item, context) => seen.push([item, context]), 'ctx')).toBe(3);
		expect(seen).toEqual([
			[0, 'ctx'],
			[1, 'ctx'],
			[2, 'ctx'],
		]);
		expect(queue.size).toBe(2);
		expect(queue.take(10, () => {}, undefined)).toBe(2);
		expect(queue.take(10, () => {}, undefined)).toBe(0);
		expect(queue.shift()).toBeUndefined();
	});

	it('stops a take whose callback clears the queue (its owner closed)', () => {
		const queue = new MessageQueue<number>();
		for (const item of [1, 2, 3]) {
			queue.push(item);
		}

		const seen: number[] = [];
		expect(queue.take(10, (item) => {
			seen.push(item);
			queue.clear();
		}, undefined)).toBe(1);
		expect(seen).toEqual([1]);
		expect(queue.size).toBe(0);
	});

	it('keeps order through compaction of a long consumed head', () => {
		const queue = new MessageQueue<number>();
		const out: number[] = [];
		let next = 0;
		for (let round = 0; round < 50; round++) {
			for (let index = 0; index < 100; index++) {
				queue.push(next++);
			}

			queue.take(90, (item) => out.push(item), undefined);
		}

		queue.take(Number.POSITIVE_INFINITY, (item) => out.push(item), undefined);
		expect(out).toEqual(Array.from({length: next}, (_unused, index) => index));
	});
});
