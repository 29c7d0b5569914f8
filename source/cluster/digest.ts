/**
Digests the control plane sends so that a reader who already holds the same thing can skip it
(protocol.ts, `since`). Opaque to the reader, who only compares or sends them back; they need to
change when what they cover does, not to resist a forger (a member that lies about its digest can as
well lie about its list).

- A peer table's (the brief `view`): `[id, state]` pairs in id order, FNV-1a, 8 hex characters.
- A member list's (`members`): every field a merge reads, whatever the order, so that two nodes
  that see the mesh alike have the same digest (each lists itself first and the rest in the order it
  learned them). A pull sends the digest of its own list; a member whose list has the same digest has
  nothing to teach it, and answers `unchanged`. Two 32-bit sums of per-member FNV-1a hashes, with the
  count: 16 hex characters and a count.
*/

import type {Member} from './protocol.js';

export function peerTableDigest(pairs: ReadonlyArray<readonly [string, string]>): string {
	let hash = FNV_OFFSET;
	for (const [id, state] of pairs) {
		hash = fnvMix(fnvMix(hash, id), state);
	}

	return hex(hash);
}

export function memberListDigest(members: readonly Member[]): string {
	let low = 0;
	let high = 0;
	for (const member of members) {
		low = (low + memberHash(member, FNV_OFFSET)) >>> 0;
		high = (high + memberHash(member, SECOND_OFFSET)) >>> 0;
	}

	return `${hex(high)}${hex(low)}-${members.length}`;
}

/**
A member list's digest, kept while the list holds the same entries: membership hands out an
unchanged member's entry again (member-table.ts), so a steady mesh pays a comparison of references
per pull, not a hash of every field.
*/
export class MemberListDigest {
	#members: readonly Member[] = [];
	#digest = memberListDigest([]);

	of(members: readonly Member[]): string {
		if (!sameEntries(members, this.#members)) {
			this.#members = members;
			this.#digest = memberListDigest(members);
		}

		return this.#digest;
	}
}

const FNV_OFFSET = 0x81_1C_9D_C5;
/** Another start for the second hash, so that the two sums fail independently. */
const SECOND_OFFSET = 0x05_0C_5D_1F;
const FNV_PRIME = 0x01_00_01_93;

function memberHash(member: Member, offset: number): number {
	let hash = fnvMix(offset, member.id);
	hash = fnvMix(hash, member.endpoint);
	hash = fnvMix(hash, member.control ?? '');
	hash = fnvMix(hash, String(member.incarnation));
	hash = fnvMix(hash, member.state);
	return fnvMix(hash, member.observer === true ? 'observer' : (member.legacy ? 'legacy' : ''));
}

function fnvMix(hash: number, text: string): number {
	for (let index = 0; index < text.length; index++) {
		hash = Math.imul(hash ^ text.charCodeAt(index), FNV_PRIME);
	}

	// A separator no field contains, so that ("ab", "c") and ("a", "bc") differ.
	return Math.imul(hash ^ 0x1F, FNV_PRIME);
}

function hex(hash: number): string {
	return (hash >>> 0).toString(16).padStart(8, '0');
}

/** `every`, not `for…of entries()`: in code this cold each entry would allocate an iterator result and a pair. */
function sameEntries(a: readonly Member[], b: readonly Member[]): boolean {
	return a.length === b.length && a.every((member, index) => member === b[index]);
}
