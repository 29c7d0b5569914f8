// Fault leases as pure scheduling: time is an argument.
import {describe, expect, it} from 'vitest';
import {LeaseBook} from '../../source/cluster/control/leases.js';

describe('LeaseBook', () => {
	it('runs each field of an entry out on its own, grouped by entry', () => {
		const book = new LeaseBook();
		book.set('inbound:all', ['drop', 'delayMs'], 1000, 0);
		book.set('inbound:demo-2', ['blackhole'], 500, 100);
		book.set('outbound', ['drop'], 2000, 0);
		expect(book.size).toBe(4);
		expect(book.nextDueMs()).toBe(600);
		expect(book.takeDue(599)).toEqual([]);
		expect(book.takeDue(600)).toEqual([{key: 'inbound:demo-2', fields: ['blackhole']}]);
		expect(book.takeDue(1000)).toEqual([{key: 'inbound:all', fields: ['drop', 'delayMs']}]);
		expect(book.nextDueMs()).toBe(2000);
		expect(book.all(1500)).toEqual({outbound: {drop: 500}});
	});

	it('renews a lease when the fault is set again, per field', () => {
		const book = new LeaseBook();
		book.set('inbound:all', ['drop', 'delayMs'], 1000, 0);
		book.set('inbound:all', ['drop'], 1000, 800);
		expect(book.takeDue(1000)).toEqual([{key: 'inbound:all', fields: ['delayMs']}]);
		expect(book.takeDue(1799)).toEqual([]);
		expect(book.takeDue(1800)).toEqual([{key: 'inbound:all', fields: ['drop']}]);
		expect(book.size).toBe(0);
		expect(book.nextDueMs()).toBeUndefined();
	});

	it('treats a lease of 0 as no expiry, which removes a running one', () => {
		const book = new LeaseBook();
		book.set('outbound', ['drop'], 1000, 0);
		book.set('outbound', ['drop'], 0, 10);
		expect(book.size).toBe(0);
		expect(book.takeDue(10_000)).toEqual([]);
	});

	it('forgets everything on clear', () => {
		const book = new LeaseBook();
		book.set('outbound', ['drop'], 1000, 0);
		book.set('inbound:x', ['drop'], 1000, 0);
		book.clear();
		expect(book.nextDueMs()).toBeUndefined();
		expect(book.all(0)).toEqual({});
	});
});
