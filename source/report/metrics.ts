/**
The node's Prometheus metrics: a prom-client registry whose values are read from one snapshot taken
at scrape time (collect callbacks), so the node's hot path pays nothing for them. The one exception
is the tick lateness histogram, which must see every tick: it is fed by the node's lateness hook,
once per tick.

Names follow the Prometheus conventions: a `chorus_` prefix, base units (seconds, radians), `_total`
for counters, labels of low cardinality. No label carries a peer id unless asked
(`peerLabels`): a thousand peers would make a thousand series.

Loaded only when `--metrics` is given (with prom-client), so that a plain headless node stays small.
*/

import {readFileSync} from 'node:fs';
import {collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type CounterConfiguration, type GaugeConfiguration, type RegistryContentType} from 'prom-client';
import type {Member, MemberState} from '../cluster/protocol.js';
import {PEER_STATES} from '../mesh/model/peer-table.js';
import {REJECT_REASONS} from '../mesh/model/wire.js';
import type {NodeSnapshot} from '../mesh/snapshot.js';

/** What the metrics read at scrape time: a session's snapshot, with membership once it has one. */
export type MetricsSnapshot = NodeSnapshot & {members?: readonly Member[]};

export type MetricsSource = {
	snapshot(): MetricsSnapshot;
	/**
	The hook for the global order parameter (every node's own phase, from the control plane): when it
	returns a number, `chorus_order_parameter{scope="global"}` is exported beside the local one.
	Absent or undefined: no global series (a node alone cannot know it).
	*/
	globalOrderParameter?: () => number | undefined;
};

export type MetricsOptions = {
	/** Add per-peer series (label `peer`), for small meshes. @default false */
	peerLabels?: boolean;
	/** Export prom-client's default process metrics (CPU, RSS, heap, event loop lag, fds). @default true */
	processMetrics?: boolean;
};

/** The most peers that get per-peer series even with `peerLabels`: the cardinality stays bounded. */
export const MAX_PEER_LABELS = 64;

/** Tick lateness buckets in seconds: sub-millisecond (a quiet node) up to 5 s (a frozen one). */
export const LATENESS_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const MEMBER_STATES: readonly MemberState[] = ['alive', 'suspect', 'dead'];
/**
The `state` of chorus_members for observers (`--observe`): they are listed as alive while they keep
joining, but publish nothing and are in no coupling sum, so they are counted apart, never as alive.
*/
export const OBSERVER_STATE = 'observer';

/** One registry in one exposition format; `collect(snapshot)` runs one scrape. */
export type ChorusMetrics = {
	readonly registry: Registry<RegistryContentType>;
	/** Observe one tick's lateness (ms): the histogram's feed. */
	observeTickLateness(lateMs: number): void;
	/** Render every metric from this snapshot, in the registry's format. */
	render(snapshot: MetricsSnapshot): Promise<string>;
};

/** The package's version, for chorus_build_info (package.json sits two folders up from source/report and dist/report). */
export function packageVersion(): string {
	try {
		const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
		const version = (JSON.parse(text) as {version?: unknown}).version;
		return typeof version === 'string' ? version : 'unknown';
	} catch {
		return 'unknown';
	}
}

function countFaults(faults: NodeSnapshot['faults']): number {
	return (faults.all === undefined ? 0 : 1) + Object.keys(faults.peers).length + (faults.outbound === undefined ? 0 : 1);
}

/**
Build the metrics in a registry of the given format. prom-client renames a counter object in place
when it renders OpenMetrics, so each format gets metric objects of its own (see metrics-server.ts).
*/
export function createMetrics(
	source: MetricsSource,
	options: MetricsOptions & {contentType?: RegistryContentType} = {},
): ChorusMetrics {
	const registry = new Registry<RegistryContentType>();
	registry.setContentType(options.contentType ?? Registry.PROMETHEUS_CONTENT_TYPE);
	const registers = [registry];
	// Registered here only, never in prom-client's global registry.
	const gauge = (config: GaugeConfiguration<string>) => {
		registry.registerMetric(new Gauge({...config, registers: []}));
	};

	const counter = (config: CounterConfiguration<string>) => {
		registry.registerMetric(new Counter({...config, registers: []}));
	};

	// The snapshot of the scrape under way; the collect callbacks read it.
	let current: MetricsSnapshot | undefined;
	const read = () => current ?? source.snapshot();

	gauge({
		name: 'chorus_build_info',
		help: 'Always 1; its labels say which build runs.',
		labelNames: ['version'],
		collect() {
			this.set({version: packageVersion()}, 1);
		},
	});

	gauge({
		name: 'chorus_order_parameter',
		help: 'Kuramoto order parameter r in [0, 1]: local (this node and its active peers) and, when the control plane gives it, global.',
		labelNames: ['scope'],
		collect() {
			this.set({scope: 'local'}, read().node.r);
			const global = source.globalOrderParameter?.();
			if (global === undefined) {
				this.remove({scope: 'global'});
			} else {
				this.set({scope: 'global'}, global);
			}
		},
	});

	gauge({
		name: 'chorus_peers',
		help: 'Peers in the peer table by state.',
		labelNames: ['state'],
		collect() {
			const counts = new Map<string, number>(PEER_STATES.map((state) => [state, 0]));
			for (const peer of read().peers) {
				counts.set(peer.state, (counts.get(peer.state) ?? 0) + 1);
			}

			for (const [state, count] of counts) {
				this.set({state}, count);
			}
		},
	});

	gauge({
		name: 'chorus_members',
		help: `Members known to membership by state (alive, suspect, dead); observers (--observe: listed, never coupled to) are counted apart under state="${OBSERVER_STATE}", never as alive. No series while the node has no membership.`,
		labelNames: ['state'],
		collect() {
			const {members} = read();
			this.reset();
			if (members === undefined) {
				return;
			}

			const counts = new Map<string, number>([...MEMBER_STATES, OBSERVER_STATE].map((state) => [state, 0]));
			for (const member of members) {
				const state = member.observer === true ? OBSERVER_STATE : member.state;
				counts.set(state, (counts.get(state) ?? 0) + 1);
			}

			for (const [state, count] of counts) {
				this.set({state}, count);
			}
		},
	});

	const cumulative = (name: string, help: string, value: (stats: NodeSnapshot['stats']) => number | undefined) => {
		counter({
			name,
			help,
			collect() {
				// The node's counters are cumulative already: the counter shows them as they are.
				this.reset();
				this.inc(value(read().stats) ?? 0);
			},
		});
	};

	cumulative('chorus_messages_received_total', 'Messages received from peers (admitted + rejected + fault-dropped + fault-held).', (stats) => stats.received);
	cumulative('chorus_messages_admitted_total', 'Messages admitted into the peer table.', (stats) => stats.admitted);
	cumulative('chorus_fault_dropped_total', 'Inbound messages dropped by an injected fault.', (stats) => stats.faultDropped);
	cumulative('chorus_auth_refused_total', 'Subscribers refused at this node\'s publisher by CURVE authentication.', (stats) => stats.authRefused);
	cumulative('chorus_ticks_total', 'Ticks run (each one steps the phase and publishes).', (stats) => stats.ticks);

	counter({
		name: 'chorus_messages_rejected_total',
		help: 'Messages refused, by reason (every reason listed, 0 included).',
		labelNames: ['reason'],
		collect() {
			const {rejected} = read().stats;
			this.reset();
			for (const reason of REJECT_REASONS) {
				this.inc({reason}, rejected[reason] ?? 0);
			}
		},
	});

	const lateness = new Histogram({
		name: 'chorus_tick_lateness_seconds',
		help: 'How far behind schedule each tick started.',
		buckets: LATENESS_BUCKETS_S,
		registers,
	});

	gauge({
		name: 'chorus_lamport_time',
		help: 'This node\'s Lamport clock.',
		collect() {
			this.set(read().node.lamport);
		},
	});

	gauge({
		name: 'chorus_phase_radians',
		help: 'This node\'s phase, wrapped to (-pi, pi].',
		collect() {
			this.set(read().node.phase);
		},
	});

	gauge({
		name: 'chorus_faults_active',
		help: 'Injected faults in force on this node (all-peers inbound, per-peer inbound, outbound).',
		collect() {
			this.set(countFaults(read().faults));
		},
	});

	if (options.peerLabels) {
		addPeerMetrics(gauge, read);
	}

	if (options.processMetrics ?? true) {
		collectDefaultMetrics({register: registry});
	}

	return {
		registry,
		observeTickLateness(lateMs) {
			lateness.observe(lateMs / 1000);
		},
		async render(snapshot) {
			current = snapshot;
			try {
				return await registry.metrics();
			} finally {
				current = undefined;
			}
		},
	};
}

/** Per-peer series for small meshes: the first MAX_PEER_LABELS peers by id. */
function addPeerMetrics(gauge: (config: GaugeConfiguration<string>) => void, read: () => MetricsSnapshot): void {
	const firstPeers = () => [...read().peers].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, MAX_PEER_LABELS);
	gauge({
		name: 'chorus_peer_last_seen_age_seconds',
		help: `Seconds since each peer's last admitted message (first ${MAX_PEER_LABELS} peers by id).`,
		labelNames: ['peer'],
		collect() {
			this.reset();
			for (const peer of firstPeers()) {
				this.set({peer: peer.id}, peer.lastSeenMs / 1000);
			}
		},
	});
	gauge({
		name: 'chorus_peer_phase_difference_radians',
		help: `Each peer's phase minus ours, in (-pi, pi] (first ${MAX_PEER_LABELS} peers by id).`,
		labelNames: ['peer'],
		collect() {
			this.reset();
			for (const peer of firstPeers()) {
				this.set({peer: peer.id}, peer.phaseDiff);
			}
		},
	});
}
