/**
What changes when the allow file is read again (SIGHUP): which keys come in, which go, and what
becomes of each subscription, whose server key the file pins.

Pure: two allow lists and the endpoints we subscribe to in, a plan out. The node carries it out.
*/

import type {AllowList} from './allow-list.js';

export type AllowListChange = {
	/** Keys on the new list only: their next handshake is let in. */
	keysAdded: number;
	/** Keys on the old list only: their connections to our publisher must be closed. */
	keysRemoved: number;
	/** Keys on the new list. */
	keys: number;
	/** Subscriptions whose endpoint now has another server key: dialled afresh, pinning the new key. */
	reopen: string[];
	/** Subscriptions whose endpoint has no key any more: closed (reopened by a later reload that lists one). */
	close: string[];
	/** Wanted subscriptions that had no key and now have one: opened. */
	open: string[];
};

/**
`subscribed`: the endpoints with an open subscription; `waiting`: the endpoints we were asked to
subscribe to but could not, for want of a key.
*/
export function planAllowListChange(
	before: AllowList,
	after: AllowList,
	subscribed: Iterable<string>,
	waiting: Iterable<string>,
): AllowListChange {
	const oldKeys = new Set(before.entries.map((entry) => entry.publicKey));
	const newKeys = new Set(after.entries.map((entry) => entry.publicKey));
	const change: AllowListChange = {
		keysAdded: countMissing(newKeys, oldKeys),
		keysRemoved: countMissing(oldKeys, newKeys),
		keys: newKeys.size,
		reopen: [],
		close: [],
		open: [],
	};
	for (const endpoint of subscribed) {
		const key = after.serverKeyFor(endpoint);
		if (key === undefined) {
			change.close.push(endpoint);
		} else if (key !== before.serverKeyFor(endpoint)) {
			change.reopen.push(endpoint);
		}
	}

	for (const endpoint of waiting) {
		if (after.serverKeyFor(endpoint) !== undefined) {
			change.open.push(endpoint);
		}
	}

	return change;
}

function countMissing(from: ReadonlySet<string>, inside: ReadonlySet<string>): number {
	let missing = 0;
	for (const key of from) {
		if (!inside.has(key)) {
			missing++;
		}
	}

	return missing;
}
