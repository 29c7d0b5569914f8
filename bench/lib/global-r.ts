/**
The mesh's true order parameter from nodes in separate processes: every node's own phase, each
from its latest snapshot, carried forward to one instant. A node's own r is what it sees of itself
and its peers (a dead peer's frozen phase included, for as long as it couples to it); this is r as an
observer holding every live phase at once would compute it.

Snapshots arrive at different moments (one every --report-ms), and a locked mesh turns at its
collective frequency, close to the mean natural frequency: each phase is carried forward by that
frequency for the time since its snapshot was read. With a snapshot every 100 ms and the spread of
natural frequencies the defaults give, the error this leaves is a few hundredths of a radian.
*/

import type {Snapshot} from './headless.js';
import {mean, orderParameter} from './stats.js';

export function globalOrderParameter(snapshots: ReadonlyArray<Snapshot | undefined>, atMs = performance.now()): number {
	const present = snapshots.filter((snapshot): snapshot is Snapshot => snapshot !== undefined);
	if (present.length === 0) {
		return Number.NaN;
	}

	const collectiveRadPerS = mean(present.map((snapshot) => snapshot.node.omega));
	return orderParameter(present.map((snapshot) => snapshot.node.phase + (collectiveRadPerS * (atMs - snapshot.atMs)) / 1000));
}
