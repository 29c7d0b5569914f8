/**
Every option of the command line: its default and its validation, in one place.

Validation turns raw flag text into a typed config or throws a ConfigError naming the flag, which
the CLI prints as one line with exit code 2.
*/

import {isPrintableId} from './mesh/model/wire.js';
import {defaultMaxConnections} from './mesh/net/descriptors.js';
import {ENGINE_CHOICES, type EngineChoice} from './mesh/net/engine/select.js';
import {NODE_DEFAULTS} from './mesh/options.js';
import {parseJoinTarget} from './cluster/membership/seeds.js';
import {DEFAULT_FANOUT, type FanoutPolicy} from './cluster/membership/fanout.js';
import {endpointRefusal} from './cluster/membership/endpoints.js';
import {ControlAddressError, resolveControlEndpoint} from './cluster/control/address.js';
import {MAX_LEASE_MS} from './cluster/control/requests.js';
import {DEFAULT_FAULT_LEASE_MS} from './cluster/protocol.js';
import {checkScenarioPeers, loadScenario, ScenarioError, type Scenario} from './scenario/file.js';

/** The node's own defaults are the node's (mesh/options.ts); the rest are the command line's. */
export const DEFAULTS = {
	bind: 'tcp://127.0.0.1:5555',
	ttlS: NODE_DEFAULTS.ttlMs / 1000,
	hz: NODE_DEFAULTS.hz,
	coupling: NODE_DEFAULTS.coupling,
	noiseSigma: NODE_DEFAULTS.noiseSigma,
	/** Natural frequency: 2π·0.5 rad/s plus a per-node offset drawn from N(0, omegaSpread). */
	omegaBaseRadPerS: NODE_DEFAULTS.omegaBaseRadPerS,
	omegaSpreadRadPerS: NODE_DEFAULTS.omegaSpreadRadPerS,
	reportMs: 1000,
	maxPeers: NODE_DEFAULTS.maxPeers,
	maxLamportJump: NODE_DEFAULTS.maxLamportJump,
	/** How long an evicted peer stays listed as `evicted` before it leaves the table. */
	evictionGraceMs: NODE_DEFAULTS.evictionGraceMs,
	/** Demo peers started when no --peer is given. */
	demoPeers: 4,
	/** Larger frames are refused by the socket, which then drops the connection (and we reconnect). */
	maxMessageBytes: 64 * 1024,
	/** Messages queued per socket (ZeroMQ high-water mark) before the newest are dropped. */
	hwm: 1000,
	/**
	Connections our publisher holds at once: half the process's descriptors above 64, between 64 and
	4,096 (480 under the common ulimit of 1,024). The other half is the reserve for our own dials:
	in a full mesh a node accepts one connection per peer and dials one (see mesh/net/descriptors.ts).
	*/
	maxConnections: defaultMaxConnections(),
	/** Messages per second from a peer that announces no rate; one that does may send ten times it. */
	peerRatePerS: 100,
	/** Membership pulls the member list from one random member this often (memberlist's push/pull). */
	gossipIntervalS: 2,
	/** A dead member is redialled with backoff this long, then forgotten (Serf's reconnect_timeout is longer; a mesh of oscillators moves faster). */
	reconnectTimeoutS: 600,
	/** A full mesh up to 32 members, then 8 links a node (the README's cost model says why). */
	fanout: DEFAULT_FANOUT,
	/** A fault set through the control plane expires after this unless set again (0: never). */
	faultLeaseS: DEFAULT_FAULT_LEASE_MS / 1000,
} as const;

/** The largest demo swarm we will start on one machine. */
export const MAX_DEMO_PEERS = 64;

export class ConfigError extends Error {
	constructor(
		readonly flag: string,
		message: string,
	) {
		super(`${flag}: ${message}`);
		this.name = 'ConfigError';
	}
}

/** Flags as the command line hands them over (flags.ts): numbers stay text so that errors can quote what was typed. */
export type RawFlags = {
	bind?: string;
	peer?: string[];
	id?: string;
	ttl?: string;
	hz?: string;
	coupling?: string;
	noise?: string;
	omega?: string;
	demo?: string;
	headless?: boolean;
	reportMs?: string;
	maxPeers?: string;
	maxLamportJump?: string;
	legacyAdmission?: boolean;
	readonly?: boolean;
	record?: string;
	screenshotDir?: string;
	color?: boolean;
	seed?: string;
	scenario?: string;
	curveSecretKeyFile?: string;
	allow?: string;
	maxMessageBytes?: string;
	hwm?: string;
	maxConnections?: string;
	maxPeerRate?: string;
	engine?: string;
	metrics?: string;
	metricsPeerLabels?: boolean;
	join?: string[];
	gossipInterval?: string;
	reconnectTimeout?: string;
	fanout?: string;
	/** `--control <endpoint|port>`; `--no-control` arrives as false. */
	control?: string | false;
	faultLease?: string;
	observe?: boolean;
	advertise?: string;
};

export type Config = {
	/** Undefined: a random 8-hex-digit id is drawn at start. */
	id: string | undefined;
	bindEndpoint: string;
	peerEndpoints: string[];
	ttlMs: number;
	hz: number;
	coupling: number;
	noiseSigma: number;
	/** Undefined: drawn at start around the default. */
	omegaRadPerS: number | undefined;
	demoPeers: number;
	headless: boolean;
	reportMs: number;
	maxPeers: number;
	maxLamportJump: number;
	evictionGraceMs: number;
	legacyAdmission: boolean;
	readonly: boolean;
	/** `--record <file>`: write the session (snapshots, events, actions) here; gzip when it ends in .gz. */
	recordFile: string | undefined;
	/** Where the `S` key writes its screenshots (`--screenshot-dir`, default the current directory). */
	screenshotDir: string;
	color: boolean;
	seed: number | undefined;
	/** A timeline of faults and peer actions to play (`--scenario file`), read and validated here. */
	scenario: Scenario | undefined;
	/** CURVE on when set: this node's secret key file (`chorus-tui keygen`) and its allow file. */
	curve: {secretKeyFile: string; allowFile: string} | undefined;
	maxMessageBytes: number;
	hwm: number;
	/** `--max-connections`: connections our publisher holds at once; more are refused and counted. */
	maxConnections: number;
	peerRatePerS: number;
	/** Which code speaks ZeroMQ: the built-in engines (ZMTP over node:net, in-memory inproc) or libzmq. */
	engine: EngineChoice;
	/** `--metrics`: where /metrics and /healthz are served over HTTP; undefined: not at all. */
	metrics: MetricsEndpoint | undefined;
	/** `--metrics-peer-labels`: per-peer series too (bounded; for small meshes). */
	metricsPeerLabels: boolean;
	/** `--join`: seeds to join a running mesh through: data endpoints or `dns:NAME:PORT` (checked by parseJoinTarget). */
	joins: string[];
	/** `--gossip-interval`: how often membership pulls the member list from one random member. */
	gossipIntervalMs: number;
	/** `--reconnect-timeout`: a dead member is redialled this long, then forgotten. */
	reconnectTimeoutMs: number;
	/** `--fanout <k|all>`: the members subscribed to past a size (cluster/membership/fanout.ts); undefined: a full mesh at any size. */
	fanout: FanoutPolicy | undefined;
	/**
	The control endpoint (`--control`; default the data endpoint's host, port + 1, on loopback without
	CURVE). Undefined with `--no-control`. `explicit`: asked for, so a port that is taken is an error,
	where the default's is a warning.
	*/
	control: {endpoint: string; explicit: boolean} | undefined;
	/** `--fault-lease`: a control-plane fault's lease when the request names none; 0: no expiry. */
	faultLeaseMs: number;
	/**
	`--observe`: watch without publishing (joins as an observer: listed, never subscribed to, in no
	coupling sum). Needs something to watch: --join, --peer or demo peers (watched like any peers).
	*/
	observe: boolean;
	/** `--advertise <host>`: the host announced in the data and control endpoints and in `join`, in place of --bind's. */
	advertiseHost: string | undefined;
};

/** An HTTP listen address: `host` is an IP address or name, without brackets. */
export type MetricsEndpoint = {host: string; port: number};

/**
Turn `--metrics` text into a listen address. A bare port means loopback (127.0.0.1:PORT), like
`--bind`: serving the node's state to other machines is a choice to make in so many words.
*/
export function parseMetricsEndpoint(text: string): MetricsEndpoint {
	const value = text.trim().replace(/^http:\/\//, '').replace(/\/$/, '');
	if (/^\d+$/.test(value)) {
		return {host: '127.0.0.1', port: parsePort(value, '--metrics')};
	}

	const match = /^(\[[\da-fA-F:.]+\]|[A-Za-z\d.-]+):(\d+)$/.exec(value);
	if (!match) {
		throw new ConfigError('--metrics', `'${text}' is not a listen address; use a port (9464) or HOST:PORT (0.0.0.0:9464)`);
	}

	return {host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: parsePort(match[2]!, '--metrics')};
}

function resolveMetrics(flags: RawFlags): MetricsEndpoint | undefined {
	if (flags.metrics === undefined) {
		if (flags.metricsPeerLabels) {
			throw new ConfigError('--metrics-peer-labels', 'needs --metrics <port|HOST:PORT>');
		}

		return undefined;
	}

	return parseMetricsEndpoint(flags.metrics);
}

/**
Turn `--bind`/`--peer` text into a ZeroMQ endpoint. A bare port means tcp://127.0.0.1:PORT, as in
the original script.
*/
export function parseEndpoint(text: string, flag: string): string {
	const value = text.trim();
	if (/^\d+$/.test(value)) {
		return `tcp://127.0.0.1:${parsePort(value, flag)}`;
	}

	const tcp = /^tcp:\/\/(\[[\da-fA-F:.]+\]|[A-Za-z\d.-]+|\*):(\d+)$/.exec(value);
	if (tcp) {
		return `tcp://${tcp[1]}:${parsePort(tcp[2]!, flag)}`;
	}

	if (/^ipc:\/\/\S+$/.test(value)) {
		return value;
	}

	throw new ConfigError(flag, `'${text}' is not an endpoint; use a port (5556) or tcp://HOST:PORT`);
}

function parsePort(text: string, flag: string): number {
	const port = Number(text);
	if (!Number.isInteger(port) || port < 1 || port > 65_535) {
		throw new ConfigError(flag, `port ${text} is out of range; use 1-65535`);
	}

	return port;
}

type NumberRule = {min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean};

function parseNumber(text: string | undefined, flag: string, fallback: number, rule: NumberRule): number;
function parseNumber(text: string | undefined, flag: string, fallback: undefined, rule: NumberRule): number | undefined;
function parseNumber(
	text: string | undefined,
	flag: string,
	fallback: number | undefined,
	rule: NumberRule,
): number | undefined {
	if (text === undefined) {
		return fallback;
	}

	const trimmed = String(text).trim();
	const value = trimmed === '' ? Number.NaN : Number(trimmed);
	if (!Number.isFinite(value)) {
		throw new ConfigError(flag, `'${text}' is not a number`);
	}

	if (rule.integer && !Number.isInteger(value)) {
		throw new ConfigError(flag, `'${text}' is not a whole number`);
	}

	if (rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)) {
		throw new ConfigError(flag, `${text} is too small; it must be ${rule.exclusiveMin ? 'more than' : 'at least'} ${rule.min}`);
	}

	if (rule.max !== undefined && value > rule.max) {
		throw new ConfigError(flag, `${text} is too large; it must be at most ${rule.max}`);
	}

	return value;
}

/** Split repeated and comma-separated values into one list. */
function splitList(values: readonly string[] | undefined): string[] {
	return (values ?? []).flatMap((value) => value.split(',')).map((value) => value.trim()).filter(Boolean);
}

/**
Validate everything. `positional` is the original script's form: `chorus-tui 5555 5556,5557`.
*/
export function resolveConfig(flags: RawFlags, positional: readonly string[] = []): Config {
	if (positional.length > 2) {
		throw new ConfigError(
			String(positional[2]),
			'unexpected argument; the positional form is `chorus-tui BIND_PORT [PEER_PORTS]`',
		);
	}

	const [bindPositional, peersPositional] = positional;
	if (bindPositional !== undefined && flags.bind !== undefined) {
		throw new ConfigError('--bind', 'given twice: as a flag and as the first argument');
	}

	const bindEndpoint = parseEndpoint(flags.bind ?? bindPositional ?? DEFAULTS.bind, flags.bind === undefined && bindPositional !== undefined ? 'bind-port' : '--bind');
	const peerEndpoints = [
		...splitList(flags.peer).map((text) => parseEndpoint(text, '--peer')),
		...splitList(peersPositional === undefined ? [] : [peersPositional]).map((text) => parseEndpoint(text, 'peer-ports')),
	];

	if (flags.id !== undefined && !isPrintableId(flags.id)) {
		throw new ConfigError('--id', 'must be 1-64 printable characters');
	}

	const ttlS = parseNumber(flags.ttl, '--ttl', DEFAULTS.ttlS, {min: 0, exclusiveMin: true, max: 86_400});
	const hz = parseNumber(flags.hz, '--hz', DEFAULTS.hz, {min: 0, exclusiveMin: true, max: 1000});
	const coupling = parseNumber(flags.coupling, '--coupling', DEFAULTS.coupling, {min: 0, max: 1000});
	const noiseSigma = parseNumber(flags.noise, '--noise', DEFAULTS.noiseSigma, {min: 0, max: 100});
	const omegaRadPerS = parseNumber(flags.omega, '--omega', undefined, {min: -1000, max: 1000});
	// Demo peers have no keys: with CURVE on there are none by default, and asking for them is an error.
	const curveRequested = flags.curveSecretKeyFile !== undefined || flags.allow !== undefined;
	// A node that joins a mesh (--join) has peers enough: no demo peers unless asked for.
	const defaultDemo = peerEndpoints.length === 0 && splitList(flags.join).length === 0 && !curveRequested ? DEFAULTS.demoPeers : 0;
	const demoPeers = parseNumber(flags.demo, '--demo', defaultDemo, {min: 0, max: MAX_DEMO_PEERS, integer: true});
	const reportMs = parseNumber(flags.reportMs, '--report-ms', DEFAULTS.reportMs, {min: 10, max: 3_600_000, integer: true});
	const maxPeers = parseNumber(flags.maxPeers, '--max-peers', DEFAULTS.maxPeers, {min: 1, max: 100_000, integer: true});
	const maxLamportJump = parseNumber(flags.maxLamportJump, '--max-lamport-jump', DEFAULTS.maxLamportJump, {
		min: 1,
		max: Number.MAX_SAFE_INTEGER,
		integer: true,
	});
	const seed = parseNumber(flags.seed, '--seed', undefined, {min: 0, max: 2 ** 32 - 1, integer: true});
	const maxMessageBytes = parseNumber(flags.maxMessageBytes, '--max-message-bytes', DEFAULTS.maxMessageBytes, {
		min: 256,
		max: 16 * 1024 * 1024,
		integer: true,
	});
	const hwm = parseNumber(flags.hwm, '--hwm', DEFAULTS.hwm, {min: 1, max: 10_000_000, integer: true});
	const maxConnections = parseNumber(flags.maxConnections, '--max-connections', DEFAULTS.maxConnections, {min: 1, max: 1_000_000, integer: true});
	const peerRatePerS = parseNumber(flags.maxPeerRate, '--max-peer-rate', DEFAULTS.peerRatePerS, {min: 0, exclusiveMin: true, max: 1_000_000});
	const curve = resolveCurveFlags(flags);
	if (curve !== undefined && demoPeers > 0) {
		throw new ConfigError('--demo', 'demo peers run without CURVE keys; they cannot join a node with --curve-secret-key-file');
	}

	const scenario = resolveScenario(flags.scenario, demoPeers);
	const engine = resolveEngine(flags.engine, curve !== undefined);

	const joins = splitList(flags.join).map((text) => {
		try {
			const target = parseJoinTarget(text);
			return target.kind === 'endpoint' ? target.endpoint : `dns:${target.name}:${target.port}`;
		} catch (error) {
			throw new ConfigError('--join', (error as Error).message);
		}
	});
	const gossipIntervalS = parseNumber(flags.gossipInterval, '--gossip-interval', DEFAULTS.gossipIntervalS, {min: 0.05, max: 3600});
	const reconnectTimeoutS = parseNumber(flags.reconnectTimeout, '--reconnect-timeout', DEFAULTS.reconnectTimeoutS, {min: 0, max: 7 * 86_400});
	const faultLeaseS = parseNumber(flags.faultLease, '--fault-lease', DEFAULTS.faultLeaseS, {min: 0, max: MAX_LEASE_MS / 1000});
	const observe = flags.observe ?? false;
	if (observe && peerEndpoints.length === 0 && joins.length === 0 && demoPeers === 0) {
		throw new ConfigError('--observe', 'nothing to watch; give --join <endpoint|dns:NAME:PORT>, --peer <endpoint> or --demo <n>');
	}

	return {
		id: flags.id,
		bindEndpoint,
		peerEndpoints: [...new Set(peerEndpoints)],
		ttlMs: ttlS * 1000,
		hz,
		coupling,
		noiseSigma,
		omegaRadPerS,
		demoPeers,
		headless: flags.headless ?? false,
		reportMs,
		maxPeers,
		maxLamportJump,
		evictionGraceMs: Math.min(DEFAULTS.evictionGraceMs, ttlS * 1000),
		legacyAdmission: flags.legacyAdmission ?? false,
		readonly: flags.readonly ?? false,
		recordFile: resolveFileFlag(flags.record, '--record', 'a file name (session.ndjson, or session.ndjson.gz to compress)'),
		screenshotDir: resolveFileFlag(flags.screenshotDir, '--screenshot-dir', 'a folder') ?? '.',
		color: flags.color ?? true,
		seed,
		scenario,
		curve,
		maxMessageBytes,
		hwm,
		maxConnections,
		peerRatePerS,
		engine,
		metrics: resolveMetrics(flags),
		metricsPeerLabels: flags.metricsPeerLabels ?? false,
		joins: [...new Set(joins)],
		gossipIntervalMs: gossipIntervalS * 1000,
		reconnectTimeoutMs: reconnectTimeoutS * 1000,
		fanout: resolveFanout(flags.fanout),
		control: resolveControl(flags.control, bindEndpoint, curve !== undefined),
		faultLeaseMs: Math.round(faultLeaseS * 1000),
		observe,
		advertiseHost: resolveAdvertise(flags.advertise, bindEndpoint),
	};
}

/**
`--advertise <host>`: a host name or a unicast address, without scheme or port (the port is the
bound one). Only for a tcp:// --bind: other transports have no host to announce.
*/
export function resolveAdvertise(text: string | undefined, bindEndpoint: string): string | undefined {
	if (text === undefined) {
		return undefined;
	}

	const host = text.trim().replace(/^\[(.*)\]$/, '$1');
	if (host === '' || /^[a-z]+:\/\//i.test(host) || /^[^:]+:\d+$/.test(host)) {
		throw new ConfigError('--advertise', `'${text}' is not a host; give a name or an address without scheme or port (chorus-0.chorus.default.svc.cluster.local, 10.0.0.5)`);
	}

	const refusal = endpointRefusal(`tcp://${host.includes(':') ? `[${host}]` : host}:1`);
	if (refusal !== undefined) {
		throw new ConfigError('--advertise', refusal === 'not-unicast'
			? `'${text}' is not one host's address (unspecified, multicast or broadcast); others must be able to dial it`
			: `'${text}' is not a host name or address`);
	}

	if (!bindEndpoint.startsWith('tcp://')) {
		throw new ConfigError('--advertise', `needs a tcp:// --bind; ${bindEndpoint} has no host to replace`);
	}

	return host;
}

/** `--fanout <k|all>`: k members from the start, or a full mesh at any size; left out, DEFAULTS.fanout. */
function resolveFanout(text: string | undefined): FanoutPolicy | undefined {
	if (text?.trim() === 'all') {
		return undefined;
	}

	const k = parseNumber(text, '--fanout', undefined, {min: 1, max: 10_000, integer: true});
	return k === undefined ? DEFAULTS.fanout : {k, fullMeshUpTo: k};
}

/** `--control <endpoint|port>` or `--no-control`; a non-loopback address without CURVE is refused. */
function resolveControl(flag: string | false | undefined, bindEndpoint: string, curve: boolean): Config['control'] {
	if (flag === false) {
		return undefined;
	}

	const explicit = flag === undefined ? undefined : parseEndpoint(flag, '--control');
	if (explicit?.startsWith('ipc://')) {
		throw new ConfigError('--control', 'must be tcp://HOST:PORT or a port');
	}

	try {
		const endpoint = resolveControlEndpoint(bindEndpoint, explicit, curve);
		return endpoint === undefined ? undefined : {endpoint, explicit: explicit !== undefined};
	} catch (error) {
		if (error instanceof ControlAddressError) {
			throw new ConfigError('--control', error.message.replace(/^--control: /, ''));
		}

		throw error;
	}
}

/** CURVE is spoken by libzmq only: asking for the built-in engine with it is a contradiction, not a silent switch. */
function resolveEngine(text: string | undefined, curve: boolean): EngineChoice {
	if (text === undefined) {
		return curve ? 'libzmq' : 'builtin';
	}

	const choice = ENGINE_CHOICES.find((candidate) => candidate === text.trim());
	if (choice === undefined) {
		throw new ConfigError('--engine', `must be one of ${ENGINE_CHOICES.join(', ')}, not "${text}"`);
	}

	if (curve && choice === 'builtin') {
		throw new ConfigError('--engine', 'CURVE is spoken by libzmq only; leave --engine out or use --engine libzmq');
	}

	return choice;
}

/** A flag that names a file or folder: absent, or not blank. */
function resolveFileFlag(text: string | undefined, flag: string, what: string): string | undefined {
	if (text === undefined) {
		return undefined;
	}

	if (text.trim() === '') {
		throw new ConfigError(flag, `needs ${what}`);
	}

	return text;
}

/** Read and check the scenario file now, so that a bad one is one line and exit code 2 before anything starts. */
function resolveScenario(file: string | undefined, demoPeers: number): Scenario | undefined {
	if (file === undefined) {
		return undefined;
	}

	if (file.trim() === '') {
		throw new ConfigError('--scenario', 'needs a file name (.json, .yaml or .yml)');
	}

	try {
		const scenario = loadScenario(file);
		checkScenarioPeers(scenario, demoPeers);
		return scenario;
	} catch (error) {
		if (error instanceof ScenarioError) {
			throw new ConfigError('--scenario', error.message);
		}

		throw error;
	}
}

/** CURVE needs both files: a key without an allow list would let anyone in, and the reverse means nothing. */
function resolveCurveFlags(flags: RawFlags): Config['curve'] {
	const secretKeyFile = flags.curveSecretKeyFile?.trim();
	const allowFile = flags.allow?.trim();
	if (secretKeyFile === undefined && allowFile === undefined) {
		return undefined;
	}

	if (secretKeyFile === undefined) {
		throw new ConfigError('--allow', 'needs --curve-secret-key-file <file> too (make one with `chorus-tui keygen <file>`)');
	}

	if (allowFile === undefined) {
		throw new ConfigError('--curve-secret-key-file', 'needs --allow <file> too: the public keys allowed to connect');
	}

	if (secretKeyFile === '' || allowFile === '') {
		throw new ConfigError(secretKeyFile === '' ? '--curve-secret-key-file' : '--allow', 'needs a file name');
	}

	return {secretKeyFile, allowFile};
}
