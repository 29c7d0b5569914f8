/**
The HTTP face of the metrics: `/metrics` (Prometheus text, or OpenMetrics when the scraper's Accept
header asks for `application/openmetrics-text`) and `/healthz` (200 while the node ticks on time,
503 when it does not; see health.ts). Anything else is 404, any method but GET and HEAD is 405.

Bounded like everything that faces the network: at most MAX_CONNECTIONS connections, small
headers, a request must arrive whole within REQUEST_TIMEOUT_MS, no request body is read, and scrapes
run one at a time (each takes one snapshot).

Loaded (with node:http and prom-client) only when `--metrics` is given.
*/

import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {performance} from 'node:perf_hooks';
import {Registry} from 'prom-client';
import {TickHealth} from './health.js';
import {createMetrics, type ChorusMetrics, type MetricsOptions, type MetricsSource} from './metrics.js';

export const MAX_CONNECTIONS = 16;
export const REQUEST_TIMEOUT_MS = 5000;
const MAX_HEADER_BYTES = 8192;

export type MetricsServerOptions = MetricsOptions & {
	host: string;
	/** 0 picks a free port (see `port` on the result). */
	port: number;
	/** The node's tick rate: the health bound is three of its periods. */
	hz: number;
	/** The node's per-tick lateness hook (ChorusNode.onTickLateness). */
	onTickLateness: (observer: (lateMs: number) => void) => () => void;
};

export type MetricsServer = {
	/** The address actually bound, e.g. `127.0.0.1:9464`. */
	readonly address: string;
	readonly port: number;
	close(): Promise<void>;
};

/** The scraper asked for OpenMetrics (Prometheus sends it first in Accept when it can read it). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
	if (accept === undefined) {
		return false;
	}

	return accept.split(',').some((part) => {
		const [type, ...parameters] = part.trim().toLowerCase().split(';').map((piece) => piece.trim());
		const q = parameters.find((parameter) => parameter.startsWith('q='));
		return type === 'application/openmetrics-text' && (q === undefined || Number(q.slice(2)) > 0);
	});
}

/** Bind the metrics endpoint; rejects (EADDRINUSE, EACCES…) when it cannot. */
export async function startMetricsServer(source: MetricsSource, options: MetricsServerOptions): Promise<MetricsServer> {
	const health = new TickHealth({hz: options.hz});
	const text = createMetrics(source, options);
	// Made on the first OpenMetrics scrape only: its own metric objects (see createMetrics).
	let openMetrics: ChorusMetrics | undefined;
	const stopObserving = options.onTickLateness((lateMs) => {
		health.tick(lateMs, performance.now());
		text.observeTickLateness(lateMs);
		openMetrics?.observeTickLateness(lateMs);
	});

	let queue: Promise<unknown> = Promise.resolve();
	const scrape = async (metrics: ChorusMetrics): Promise<string> => {
		const next = queue.then(async () => metrics.render(source.snapshot()));
		queue = next.catch(() => undefined);
		return next;
	};

	const serveMetrics = async (request: IncomingMessage, response: ServerResponse) => {
		let metrics = text;
		if (wantsOpenMetrics(request.headers.accept)) {
			openMetrics ??= createMetrics(source, {...options, processMetrics: options.processMetrics, contentType: Registry.OPENMETRICS_CONTENT_TYPE});
			metrics = openMetrics;
		}

		const body = await scrape(metrics);
		response.writeHead(200, {'content-type': metrics.registry.contentType, 'cache-control': 'no-store'});
		response.end(request.method === 'HEAD' ? undefined : body);
	};

	const serveHealth = (request: IncomingMessage, response: ServerResponse) => {
		const report = health.judge(performance.now());
		response.writeHead(report.status === 'ok' ? 200 : 503, {'content-type': 'application/json', 'cache-control': 'no-store'});
		response.end(request.method === 'HEAD' ? undefined : JSON.stringify(report) + '\n');
	};

	const server: Server = createServer({maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS}, (request, response) => {
		const path = (request.url ?? '/').split('?', 1)[0];
		if (request.method !== 'GET' && request.method !== 'HEAD') {
			response.writeHead(405, {allow: 'GET, HEAD', 'content-type': 'text/plain'}).end('method not allowed\n');
			return;
		}

		if (path === '/healthz') {
			serveHealth(request, response);
		} else if (path === '/metrics') {
			serveMetrics(request, response).catch((error: unknown) => {
				response.writeHead(500, {'content-type': 'text/plain'}).end(`scrape failed: ${(error as Error).message}\n`);
			});
		} else {
			response.writeHead(404, {'content-type': 'text/plain'}).end('not found: try /metrics or /healthz\n');
		}
	});
	server.maxConnections = MAX_CONNECTIONS;
	server.keepAliveTimeout = REQUEST_TIMEOUT_MS;
	// A malformed request or a reset connection ends that connection, never the node.
	server.on('clientError', (_error, socket) => {
		socket.destroy();
	});

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port, options.host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	// A server that is listening can still fail later (EMFILE on accept): that is not a crash.
	server.on('error', () => undefined);
	const bound = server.address() as AddressInfo;
	const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
	return {
		address: `${host}:${bound.port}`,
		port: bound.port,
		async close() {
			stopObserving();
			server.closeAllConnections();
			await new Promise<void>((resolve) => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}
