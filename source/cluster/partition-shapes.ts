/**
Partitions by shape, as Jepsen's nemeses make them: from the members' ids, which groups there are
and, for each member, the peers it must not hear (the per-link blackholes the control plane's
`fault` op sets, all of a member's at once with `direction: 'links'`, or one with `'link'`). Pure: no I/O, no randomness; the same ids give the same
partition, so a scenario breaks a mesh the same way every run.

- `halves`: the sorted ids split in two (the first half one larger when the count is odd); no link
  crosses.
- `isolate`: the selected member alone, the rest together.
- `bridge`: two halves plus one member that hears both and is heard by both (Jepsen's bridge); the
  selected member, or the middle of the sorted ids.
- `ring`: Jepsen's majorities ring: the sorted ids in a ring, each member hears the majority of
  members centred on it, and no two members hear the same majority.

A blackhole cuts what a member receives, so a link is cut both ways by two blackholes: one on
each side. A member without a control plane (legacy) cannot be told: the others still stop
hearing it, but it keeps hearing them.
*/

export const PARTITION_SHAPES = ['halves', 'isolate', 'bridge', 'ring'] as const;
export type PartitionShape = (typeof PARTITION_SHAPES)[number];

export type PartitionPlan = {
	shape: PartitionShape;
	/**
	The groups, for the operator: two halves; the isolated member and the rest; each half with the
	bridge (the bridge is in both); for a ring, each member's majority, in ring order.
	*/
	groups: string[][];
	/** Per member, the peer ids it must blackhole (never itself); every member has an entry. */
	blackholes: Map<string, Set<string>>;
	/** The bridge member, for `bridge`. */
	bridge?: string;
};

/** A partition that cannot be made: one line for the operator. */
export class PartitionError extends Error {
	override name = 'PartitionError';
}

export function isPartitionShape(value: unknown): value is PartitionShape {
	return typeof value === 'string' && (PARTITION_SHAPES as readonly string[]).includes(value);
}

/** Which members each member hears (itself included); the blackholes are the complement. */
function planFromHearing(shape: PartitionShape, ids: readonly string[], groups: string[][], hears: (member: string) => ReadonlySet<string>): PartitionPlan {
	const blackholes = new Map<string, Set<string>>();
	for (const member of ids) {
		const heard = hears(member);
		blackholes.set(member, new Set(ids.filter((peer) => peer !== member && !heard.has(peer))));
	}

	return {shape, groups, blackholes};
}

/** Each member hears its own group(s): the union of the groups it belongs to. */
function hearingOfGroups(groups: ReadonlyArray<readonly string[]>): (member: string) => ReadonlySet<string> {
	return (member) => new Set(groups.filter((group) => group.includes(member)).flat());
}

function split(ids: readonly string[]): [string[], string[]] {
	const half = Math.ceil(ids.length / 2);
	return [ids.slice(0, half), ids.slice(half)];
}

/**
Make a partition of `shape` over `memberIds` (observers left out by the caller: they publish
nothing, so there is nothing of theirs to cut). `selected` is the member to isolate, or the bridge.
Throws a PartitionError for a shape the members cannot take (fewer than two, no member to isolate).
*/
export function partitionPlan(memberIds: readonly string[], shape: PartitionShape, selected?: string): PartitionPlan {
	const ids = [...new Set(memberIds)].sort();
	if (ids.length < 2) {
		throw new PartitionError(`a partition needs at least two members; this mesh has ${ids.length}`);
	}

	if (selected !== undefined && !ids.includes(selected)) {
		throw new PartitionError(`${selected} is not a member that can be partitioned (members: ${ids.slice(0, 8).join(', ')}${ids.length > 8 ? ', …' : ''})`);
	}

	switch (shape) {
		case 'halves': {
			const groups = split(ids);
			return planFromHearing(shape, ids, groups, hearingOfGroups(groups));
		}

		case 'isolate': {
			if (selected === undefined) {
				throw new PartitionError('isolate needs a member to isolate');
			}

			const groups = [[selected], ids.filter((id) => id !== selected)];
			return planFromHearing(shape, ids, groups, hearingOfGroups(groups));
		}

		case 'bridge': {
			if (ids.length < 3) {
				throw new PartitionError(`a bridge needs at least three members; this mesh has ${ids.length}`);
			}

			const bridge = selected ?? ids[Math.floor(ids.length / 2)]!;
			const [left, right] = split(ids.filter((id) => id !== bridge));
			const groups = [[...left, bridge], [bridge, ...right]];
			return {...planFromHearing(shape, ids, groups, hearingOfGroups(groups)), bridge};
		}

		case 'ring': {
			return ringPlan(ids);
		}
	}
}

/**
Jepsen's majorities ring: in ring order, each member hears the `majority` consecutive members
centred on it (one more ahead than behind when the majority is even). Two members' arcs start at
different places and are shorter than the ring, so no two are the same set (from three members
on; with two, both hear both).
*/
function ringPlan(ids: readonly string[]): PartitionPlan {
	const count = ids.length;
	const majority = Math.floor(count / 2) + 1;
	const behind = Math.floor((majority - 1) / 2);
	const arcs = ids.map((_, index) => Array.from({length: majority}, (__, step) => ids[(index - behind + step + count) % count]!));
	const arcOf = new Map(ids.map((id, index) => [id, new Set(arcs[index])]));
	return planFromHearing('ring', ids, arcs, (member) => arcOf.get(member)!);
}
