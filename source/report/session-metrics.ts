/**
Serve a session's metrics when `--metrics` asks for them. The global r (`scope="global"`) is exported
while the session's mesh watch runs: always on an observer (`--observe`), and on a console while its
mesh view is open or a recording pulls. prom-client and node:http are imported
here, on demand, so a node without `--metrics` never loads them (a headless node's RSS matters).
*/

import type {Config} from '../config.js';
import type {MeshSession} from '../session/session.js';
import type {MetricsServer} from './metrics-server.js';

export class MetricsBindError extends Error {
	constructor(readonly code: string | undefined, message: string) {
		super(message);
		this.name = 'MetricsBindError';
	}
}

/** Undefined without `--metrics`; rejects with a one-line MetricsBindError when the address cannot be bound. */
export async function serveSessionMetrics(session: MeshSession, config: Config): Promise<MetricsServer | undefined> {
	if (config.metrics === undefined) {
		return undefined;
	}

	const {startMetricsServer} = await import('./metrics-server.js');
	const {host, port} = config.metrics;
	try {
		const server = await startMetricsServer(
			{snapshot: () => session.snapshot(), globalOrderParameter: () => session.globalOrderParameter()},
			{
				host,
				port,
				hz: config.hz,
				peerLabels: config.metricsPeerLabels,
				onTickLateness: (observer) => session.node.onTickLateness(observer),
			},
		);
		// An observer with --metrics is the mesh's exporter of the global r: it pulls every member's
		// phase once a second. A member does not, even while its mesh view is closed: every member
		// pulling every other would cost the mesh N² requests a second.
		if (config.observe) {
			session.keepWatchingMesh();
		}

		return server;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
		const why = code === 'EADDRINUSE'
			? `port ${port} is already in use (${where}); choose another with --metrics <port>`
			: `cannot listen on ${where} (${code ?? (error as Error).message})`;
		throw new MetricsBindError(code, `--metrics: ${why}`);
	}
}
