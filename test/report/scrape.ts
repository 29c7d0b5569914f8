/**
Scrape a node's metrics endpoint over real HTTP and parse the body with parse-prometheus-text-format
(a port of the Prometheus Python client's parser), so tests read families, types and samples.
*/

import parsePrometheusTextFormat, {type ParsedFamily} from 'parse-prometheus-text-format';

export type Scrape = {status: number; contentType: string; body: string; families: Map<string, ParsedFamily>};

export async function scrape(port: number, path = '/metrics', accept?: string): Promise<Scrape> {
	const response = await fetch(`http://127.0.0.1:${port}${path}`, {headers: accept === undefined ? {} : {accept}, signal: AbortSignal.timeout(10_000)});
	const body = await response.text();
	const contentType = response.headers.get('content-type') ?? '';
	const families = new Map<string, ParsedFamily>();
	if (path === '/metrics' && response.status === 200) {
		// OpenMetrics ends with `# EOF`, which the Prometheus text parser does not know.
		for (const family of parsePrometheusTextFormat(body.replace(/# EOF\n$/, ''))) {
			families.set(family.name, family);
		}
	}

	return {status: response.status, contentType, body, families};
}

/** The value of the one sample of a family whose labels include `labels`. */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number {
	const family = families.get(name);
	if (family === undefined) {
		throw new Error(`no family ${name}`);
	}

	const matches = family.metrics.filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value));
	if (matches.length !== 1 || matches[0]!.value === undefined) {
		throw new Error(`${name}${JSON.stringify(labels)}: ${matches.length} samples`);
	}

	return Number(matches[0]!.value);
}
