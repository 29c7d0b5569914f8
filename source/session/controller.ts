/**
What the terminal UI (and a scenario) may ask of a running mesh session: read snapshots, listen to
events, inject faults, and act on peers. The UI holds no mesh logic; it only calls this.
*/

import type {ControlEventKind} from '../cluster/control/ops.js';
import type {MembershipEventKind} from '../cluster/membership/membership.js';
import type {Member} from '../cluster/protocol.js';
import type {FaultTarget, InboundFault, OutboundFault} from '../mesh/model/fault-types.js';
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

/** What a session's listeners hear: its node's events, its peer actions, its scenario's steps, membership's news (member-joined, member-dead, member-forgotten, join-retry) and the control plane's (control-refused, fault-lease-expired, control-stop). */
export type SessionEventKind = NodeEventKind | PeerActionEventKind | ScenarioEventKind | MembershipEventKind | ControlEventKind;
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

export type PeerActionResult = {
	ok: boolean;
	/** One line for the event log, e.g. "demo-2 killed (SIGKILL, pid 4242)" or why not. */
	message: string;
};

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
	/** Stop demo peers and the node; resolves when every socket and child is gone. */
	stop(): Promise<void>;
};
