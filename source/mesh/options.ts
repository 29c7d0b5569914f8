/**
How a node is set up: its options, the defaults of the ones every node shares, and a helper that
fills them in, for programs that build nodes directly (the library's users, tests, benchmarks).
*/

import type {Uniform} from './model/random.js';
import type {SecurityOptions} from './security/screening.js';
import type {TransportOptions} from './net/transport.js';

export type NodeOptions = {
	/** This node's id on the wire: 1-64 printable characters. */
	id: string;
	/** Where this node publishes, e.g. `tcp://127.0.0.1:5555` or `inproc://a`. */
	bindEndpoint: string;
	/** The publishers this node subscribes to; more can be added with `addPeer`. */
	peerEndpoints: readonly string[];
	/** A peer silent this long is evicted. */
	ttlMs: number;
	/** Ticks (and publishes) per second. */
	hz: number;
	/** Kuramoto coupling strength K. */
	coupling: number;
	/** Standard deviation of the phase noise. */
	noiseSigma: number;
	/** Natural frequency. */
	omegaRadPerS: number;
	/** @default a uniform draw in (−π, π] from `random` */
	initialPhaseRad?: number;
	/** Bound on the peer table. */
	maxPeers: number;
	/** A Lamport leap larger than this is refused (and the peer quarantined). */
	maxLamportJump: number;
	/** How long an evicted peer stays listed as `evicted` before it leaves the table. */
	evictionGraceMs: number;
	/** Behave like the original Python node (no TTL, last message wins), for comparison. */
	legacyAdmission: boolean;
	/** Randomness for the noise term; seed it to reproduce a run. @default Math.random */
	random?: Uniform;
	/**
	Seed of the fault plan's own random stream (drop, duplicate and jitter draws). When absent, the
	seed is drawn once from `random`, so a seeded node makes the same fault decisions every run.
	*/
	faultSeed?: number;
	/** Extra transport settings (limits: maxMessageBytes, highWaterMark). */
	transport?: Partial<TransportOptions>;
	/** CURVE with an allow list, and the per-peer rate limit. */
	security?: SecurityOptions;
	/** How many of the latest ticks stats.tickLateMs summarises. @default 128 */
	latenessWindowTicks?: number;
	/**
	Only watch (`--observe`): subscribe and hear every peer, never publish. Its phase still follows its
	peers (coupled, never sent), so each peer's Δφ reads as its offset from the mesh; its `r` is the
	order parameter of the peers it hears, without itself. @default false
	*/
	observe?: boolean;
	/**
	The host this node announces (`--advertise`) in place of the one it binds: its `endpoint` becomes
	`tcp://<advertiseHost>:<bound port>`. For a node bound to 0.0.0.0 or a pod IP that others must
	reach, or authenticate, by name. @default the bound host
	*/
	advertiseHost?: string;
};

/** The defaults every node shares; the command line's (config.ts) are these. */
export const NODE_DEFAULTS = {
	ttlMs: 5000,
	hz: 10,
	coupling: 2.5,
	noiseSigma: 0.05,
	/** Natural frequency: 2π·0.5 rad/s, plus (on the command line) a per-node offset drawn from N(0, omegaSpread). */
	omegaBaseRadPerS: 2 * Math.PI * 0.5,
	omegaSpreadRadPerS: 0.3,
	maxPeers: 1024,
	maxLamportJump: 1_000_000,
	evictionGraceMs: 3000,
} as const;

/**
A node with every default: the id and the endpoint are the caller's; anything else can be
overridden. The natural frequency is the base one, with no random offset.
*/
export function defaultNodeOptions(
	required: Pick<NodeOptions, 'id' | 'bindEndpoint'>,
	overrides: Partial<NodeOptions> = {},
): NodeOptions {
	return {
		peerEndpoints: [],
		ttlMs: NODE_DEFAULTS.ttlMs,
		hz: NODE_DEFAULTS.hz,
		coupling: NODE_DEFAULTS.coupling,
		noiseSigma: NODE_DEFAULTS.noiseSigma,
		omegaRadPerS: NODE_DEFAULTS.omegaBaseRadPerS,
		maxPeers: NODE_DEFAULTS.maxPeers,
		maxLamportJump: NODE_DEFAULTS.maxLamportJump,
		evictionGraceMs: NODE_DEFAULTS.evictionGraceMs,
		legacyAdmission: false,
		...required,
		...overrides,
	};
}
