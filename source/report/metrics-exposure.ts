/**
The warning for a metrics endpoint that other machines can reach: /metrics and /healthz have no
authentication, so whoever reaches them reads the node's state (ids, peers, faults). Kept apart
from metrics-server.ts so that the command line can warn without loading prom-client.
*/

import {isLoopbackOnly} from '../mesh/security/screening.js';

/** Undefined when the endpoint is loopback-only. */
export function metricsExposureWarning(endpoint: {host: string; port: number}): string | undefined {
	const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
	if (isLoopbackOnly(`tcp://${host}:${endpoint.port}`)) {
		return undefined;
	}

	return `metrics served on http://${host}:${endpoint.port} without authentication: anyone who can reach it can read this node's state; keep it on a network only Prometheus reaches (a NetworkPolicy, a firewall) or use --metrics <port> for loopback`;
}
