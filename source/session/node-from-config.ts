/**
The bridge from a validated command-line config to a node: the random draws (id, natural
frequency, initial phase) happen here, from one seedable generator.
*/

import type {Config} from '../config.js';
import {standardNormal} from '../mesh/model/kuramoto.js';
import {randomNodeId, seededUniform} from '../mesh/model/random.js';
import {ChorusNode} from '../mesh/node.js';
import {NODE_DEFAULTS, type NodeOptions} from '../mesh/options.js';
import {loadCurve} from './curve-files.js';

// Tests and benchmarks build nodes with this; it lives with the node's own defaults.
export {defaultNodeOptions} from '../mesh/options.js';

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
		omegaRadPerS: config.omegaRadPerS ?? NODE_DEFAULTS.omegaBaseRadPerS + NODE_DEFAULTS.omegaSpreadRadPerS * standardNormal(random),
		maxPeers: config.maxPeers,
		maxLamportJump: config.maxLamportJump,
		evictionGraceMs: config.evictionGraceMs,
		legacyAdmission: config.legacyAdmission,
		random,
		transport: {maxMessageBytes: config.maxMessageBytes, highWaterMark: config.hwm, maxConnections: config.maxConnections, engine: config.engine},
		// Reads the key and allow files; a problem with them is a ConfigError (one line, exit 2).
		security: {curve: loadCurve(config), defaultPeerRatePerS: config.peerRatePerS},
		observe: config.observe,
		...(config.advertiseHost === undefined ? {} : {advertiseHost: config.advertiseHost}),
	};
}

export function createNode(config: Config): ChorusNode {
	return new ChorusNode(nodeOptionsFromConfig(config));
}
