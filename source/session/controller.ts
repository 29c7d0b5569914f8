/**
What the terminal UI (and a scenario) may ask of a running mesh session: read snapshots, listen to
events, inject faults, and act on peers. The UI holds no mesh logic; it only calls this.
*/

import type {ControlEventKind} from '../cluster/control/ops.js';
import type {MembershipEventKind} from '../cluster/membership/membership.js';
import type {PartitionShape} from '../cluster/partition-shapes.js';
import type {Member} from '../cluster/protocol.js';
import type {FaultsInForce, FaultTarget, InboundFault, OutboundFault} from '../mesh/model/fault-types.js';
import type {NodeEventKind, NodeSnapshot, StampedEvent} from '../mesh/snapshot.js';
import type {DemoPeerInfo} from '../swarm/demo-peer.js';

/**
The kinds of event the scenario player records. They are declared here, not beside the player,
because they reach listeners only through this controller's event stream (the player records
through the session); declaring them there would make this file and the player import each other.
*/
export type ScenarioEventKind = 'scenario-started' | 'scenario-step' | 'scenario-done' | 'scenario-end';

/** The session's own kinds: what was done to a demo peer's process (or a remote peer, locally). */
export type PeerActionEventKind = 'peer-killed' | 'peer-paused' | 'peer-resumed' | 'peer-revived' | 'demo-exited';

/**
What the session did to the whole mesh through the control plane (mesh-faults.ts): `mesh-fault`
(a fault set on a member, `member`, `fault`, `leaseMs`), `mesh-partition` (a shape set on every
member, `shape`, `groups`), `mesh-clear` (every member cleared), `mesh-stop` (a member asked to
exit), `mesh-renew-failed` (a lease renewal a member did not answer, at most one per member per
lease). Each carries a one-line `message` and, where members failed, `failed`: id → reason.
*/
export type MeshActionEventKind = 'mesh-fault' | 'mesh-partition' | 'mesh-clear' | 'mesh-stop' | 'mesh-renew-failed';

/** What a session's listeners hear: its node's events, its peer actions, its scenario's steps, membership's news (member-joined, member-dead, member-forgotten, join-retry) and the control plane's (control-refused, fault-lease-expired, control-stop). */
export type SessionEventKind = NodeEventKind | PeerActionEventKind | MeshActionEventKind | ScenarioEventKind | MembershipEventKind | ControlEventKind;
export type SessionEvent = StampedEvent<SessionEventKind>;

/** What a session shows: its node's snapshot (faults included) and its local demo processes. */
export type SessionSnapshot = NodeSnapshot & {
	/** The local demo processes: id, state (starting, running, paused, killed, exited, stopped), pid. */
	demo: readonly DemoPeerInfo[];
	/**
	Every member of the mesh this node knows, itself first (the control plane's `members`). Always
	present in a live session's snapshot; optional so that recordings made before it still type-check.
	*/
	members?: readonly Member[];
};

/** What one cell of the mesh view says: how the row's member hears the column's member. */
export type MeshCellState = 'alive' | 'suspect' | 'evicted' | 'never';

/** A column of the mesh view: every member this node knows, itself included. */
export type MeshColumn = {
	id: string;
	/** No control plane: a column but no row ("no control plane"); fault keys act locally on it. */
	legacy: boolean;
	/** Joined with --observe: listens, never publishes; in no coupling sum. */
	observer: boolean;
};

/** A row of the mesh view: one observer's `view`, from the last pull. */
export type MeshRow = {
	id: string;
	/** The member's own phase (rad) and local r, from its last good `view`; absent before the first. */
	phase?: number;
	localR?: number;
	/** Its cells by column id; a column it never heard is 'never'. */
	cells: Record<string, MeshCellState>;
	/** The faults in force on that member, as its `view` says. */
	faults?: FaultsInForce;
	/** Why the last pull failed (timeout, forbidden, …); the row keeps its previous cells, marked stale. */
	error?: string;
	/** Milliseconds since this row's last good pull. */
	ageMs: number;
};

/** A partition shape `P` cycles through: 'halves' | 'isolate' | 'bridge' | 'ring' (cluster/partition-shapes.ts makes the per-link blackholes of each). */
export type {PartitionShape} from '../cluster/partition-shapes.js';

/** The mesh as every member hears it: what the mesh view (`m`) draws. */
export type MeshMatrix = {
	columns: readonly MeshColumn[];
	rows: readonly MeshRow[];
	/** The order parameter of every member's own phase from the same pull; undefined before the first. */
	globalR: number | undefined;
	/** With a partition in force: its shape, its groups of member ids, and each group's r. */
	partition?: {shape: PartitionShape; groups: ReadonlyArray<readonly string[]>; groupR: ReadonlyArray<number | undefined>};
	/** Wall-clock ms of the last completed pull. */
	pulledAtWallMs: number;
};

export type PeerActionResult = {
	ok: boolean;
	/** One line for the event log, e.g. "demo-2 killed (SIGKILL, pid 4242)" or why not. */
	message: string;
};

/** A fault for one member, as the fault keys set it: inbound (from all its peers or one) or outbound. */
export type MemberFault =
	| {direction: 'inbound'; target: FaultTarget; fault: Partial<InboundFault>}
	| {direction: 'outbound'; fault: Partial<OutboundFault>};

export type MeshController = {
	snapshot(): SessionSnapshot;
	on(listener: (event: SessionEvent) => void): () => void;
	setInboundFault(target: FaultTarget, patch: Partial<InboundFault>): void;
	setOutboundFault(patch: Partial<OutboundFault>): void;
	clearFaults(): void;
	/** Whether a peer is one of our local demo processes (kill/pause/revive act on a real process). */
	isDemoPeer(id: string): boolean;
	/** SIGKILL for a demo peer; a local blackhole for a remote one. */
	killPeer(id: string): Promise<PeerActionResult>;
	/** SIGSTOP / SIGCONT for a demo peer. */
	togglePausePeer(id: string): Promise<PeerActionResult>;
	/** Restart a killed demo peer (same id, new incarnation); lift the blackhole of a remote one. */
	revivePeer(id: string): Promise<PeerActionResult>;
	/**
	The mesh as every member hears it, from the last pull; undefined before the first pull after
	watchMesh(true). Pulled about once a second while watched: the view asks for it while open.
	Members without a control plane (legacy) have a column and no row.
	*/
	meshMatrix?(): MeshMatrix | undefined;
	watchMesh?(on: boolean): void;
	/**
	A fault on any member: through its control plane with a lease the session renews while it runs;
	on this node, or locally for a legacy member (the result's message says which).
	*/
	setMemberFault?(member: string, fault: MemberFault): Promise<PeerActionResult>;
	/** Set a partition of this shape on every member at once (per-link blackholes); `selected` for isolate and bridge. */
	partition?(shape: PartitionShape, selected: string | undefined): Promise<PeerActionResult>;
	/** Clear every fault on every member, partitions included, and stop renewing their leases. */
	clearAll?(): Promise<PeerActionResult>;
	/** Ask a remote member to exit through its control plane (`stop`); its supervisor may restart it. */
	stopMember?(member: string): Promise<PeerActionResult>;
	/** Stop demo peers and the node; resolves when every socket and child is gone. */
	stop(): Promise<void>;
};
