/**
The bridge from a validated command-line config to a node: the random draws (id, natural
frequency, initial phase) happen here, from one seedable generator.
*/

import {DEFAULTS, type Config} from '../config.js';
import {loadCurve} from './curve-files.js';
import {standardNormal} from '../mesh/model/kuramoto.js';
import {ChorusNode, type NodeOptions} from '../mesh/node.js';
import {randomNodeId, seededUniform} from '../mesh/model/random.js';

/**
A node with every default of config.ts, for code that builds nodes directly (tests, benchmarks):
the id and the endpoints are the caller's; anything else can be overridden.
*/
export function defaultNodeOptions(
	required: Pick<NodeOptions, 'id' | 'bindEndpoint'>,
	overrides: Partial<NodeOptions> = {},
): NodeOptions {
	return {
		peerEndpoints: [],
		ttlMs: DEFAULTS.ttlS * 1000,
		hz: DEFAULTS.hz,
		coupling: DEFAULTS.coupling,
		noiseSigma: DEFAULTS.noiseSigma,
		omegaRadPerS: DEFAULTS.omegaBaseRadPerS,
		maxPeers: DEFAULTS.maxPeers,
		maxLamportJump: DEFAULTS.maxLamportJump,
		evictionGraceMs: DEFAULTS.evictionGraceMs,
		legacyAdmission: false,
		...required,
		...overrides,
	};
}

export function nodeOptionsFromConfig(config: Config): NodeOptions {
	const random = config.seed === undefined ? Math.random : seededUniform(config.seed);
	return {
		id: config.id ?? randomNodeId(random),
		bindEndpoint: config.bindEndpoint,
		peerEndpoints: config.peerEndpoints,
		ttlMs: config.ttlMs,
		hz: config.hz,
		coupling: config.coupling,
		noiseSigma: config.noiseSigma,
		omegaRadPerS: config.omegaRadPerS ?? DEFAULTS.omegaBaseRadPerS + DEFAULTS.omegaSpreadRadPerS * standardNormal(random),
		maxPeers: config.maxPeers,
		maxLamportJump: config.maxLamportJump,
		evictionGraceMs: config.evictionGraceMs,
		legacyAdmission: config.legacyAdmission,
		random,
		transport: {maxMessageBytes: config.maxMessageBytes, highWaterMark: config.hwm, engine: config.engine},
		// Reads the key and allow files; a problem with them is a ConfigError (one line, exit 2).
		security: {curve: loadCurve(config), defaultPeerRatePerS: config.peerRatePerS},
	};
}

export function createNode(config: Config): ChorusNode {
	return new ChorusNode(nodeOptionsFromConfig(config));
}
