/**
The seeds of `--join`: data endpoints given outright, and `dns:NAME:PORT` names whose A and AAAA
records each give one (a Kubernetes headless Service lists every pod that way). With CURVE, an
address the allow file does not list is looked up backwards (PTR) for a name it does list: the
allow file names pods by their stable DNS names, the A records give their changing IPs.

The resolver honours /etc/resolv.conf. `CHORUS_DNS_SERVERS` (comma-separated `host` or
`host:port`, e.g. `10.213.0.11:53`) or the `servers` option points it at other servers instead:
tests use it to ask their own dnsmasq.
*/

import {Resolver} from 'node:dns/promises';
import process from 'node:process';
import {endpointRefusal, tcpEndpoint} from './endpoints.js';

/** One `--join` value, parsed: a data endpoint, or a DNS name and the port its nodes publish on. */
export type JoinTarget = {kind: 'endpoint'; endpoint: string} | {kind: 'dns'; name: string; port: number};

/** Every address record of a name gives one seed; a name with more records than this is cut here. */
export const MAX_DNS_SEEDS = 256;

/** How often `dns:` seeds are resolved again (a headless Service's pods come and go). */
export const DNS_REFRESH_MS = 30_000;

/** The environment variable that points the resolver at other DNS servers than /etc/resolv.conf's. */
export const DNS_SERVERS_ENV = 'CHORUS_DNS_SERVERS';

/**
Parse one `--join` value: `tcp://host:port`, a bare port (loopback, as `--peer`), or
`dns:NAME:PORT`. Throws an Error with one line saying what is wrong.
*/
export function parseJoinTarget(text: string): JoinTarget {
	const value = text.trim();
	const dns = /^dns:([A-Za-z\d.-]{1,253}):(\d{1,5})$/.exec(value);
	if (dns) {
		const port = Number(dns[2]);
		if (port < 1 || port > 65_535) {
			throw new Error(`port ${dns[2]} is out of range; use 1-65535`);
		}

		return {kind: 'dns', name: dns[1]!, port};
	}

	if (value.startsWith('dns:')) {
		throw new Error(`'${text}' is not dns:NAME:PORT`);
	}

	const endpoint = /^\d+$/.test(value) ? `tcp://127.0.0.1:${value}` : value;
	const refusal = endpointRefusal(endpoint);
	if (refusal !== undefined) {
		throw new Error(refusal === 'not-unicast'
			? `'${text}' is not one host's address (unspecified, multicast or broadcast); name a member's data endpoint`
			: `'${text}' is not an endpoint; use tcp://HOST:PORT, a port, or dns:NAME:PORT`);
	}

	return {kind: 'endpoint', endpoint};
}

export type SeedResolver = {
	resolve4(name: string): Promise<string[]>;
	resolve6(name: string): Promise<string[]>;
	/** PTR records of an address. Optional: without it, addresses are seeds as they are. */
	reverse?(address: string): Promise<string[]>;
};

/** Names one address may give back; a PTR answer with more is cut here. */
const MAX_NAMES_PER_ADDRESS = 8;

/** A resolver that honours /etc/resolv.conf, or `servers` / CHORUS_DNS_SERVERS when given. */
export function createSeedResolver(servers: readonly string[] | undefined = serversFromEnvironment()): SeedResolver {
	const resolver = new Resolver({timeout: 2000, tries: 2});
	if (servers !== undefined && servers.length > 0) {
		resolver.setServers([...servers]);
	}

	return resolver;
}

function serversFromEnvironment(): string[] | undefined {
	const text = process.env[DNS_SERVERS_ENV];
	if (text === undefined || text.trim() === '') {
		return undefined;
	}

	return text.split(',').map((server) => server.trim()).filter(Boolean);
}

/**
Every A and AAAA record of `name`, as data endpoints on `port`. A name with no record of one family
is fine; a failure of both is thrown (the caller retries and says so).
*/
export async function resolveSeeds(resolver: SeedResolver, name: string, port: number): Promise<string[]> {
	const results = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
	const addresses = results.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
	if (addresses.length === 0) {
		const reasons = results.map((result) => (result.status === 'rejected' ? (result.reason as NodeJS.ErrnoException).code ?? String(result.reason) : 'no records'));
		throw new Error(`dns:${name}:${port}: ${[...new Set(reasons)].join(', ')}`);
	}

	return [...new Set(addresses.map((address) => tcpEndpoint(address, port)))]
		.filter((endpoint) => endpointRefusal(endpoint) === undefined)
		.slice(0, MAX_DNS_SEEDS);
}

/**
The seeds of `endpoints` that `allowed` accepts (with CURVE: those the allow file gives a key for).
An address it does not accept is asked for its PTR records, and each name's endpoint on the same
port is taken if accepted: Kubernetes answers a StatefulSet pod's IP, behind a headless Service,
with the pod's stable name (`chorus-0.chorus.NS.svc.cluster.local`), which is what the allow file
and `--advertise` use. An address with no accepted name is dropped; lookups that fail are dropped.
*/
export async function allowedSeeds(resolver: SeedResolver, endpoints: readonly string[], allowed: (endpoint: string) => boolean): Promise<string[]> {
	const seeds = await Promise.all(endpoints.map(async (endpoint) => {
		if (allowed(endpoint)) {
			return [endpoint];
		}

		const match = /^tcp:\/\/\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint);
		if (match === null || resolver.reverse === undefined) {
			return [];
		}

		let names: string[];
		try {
			names = await resolver.reverse(match[1]!);
		} catch {
			return [];
		}

		return names.slice(0, MAX_NAMES_PER_ADDRESS)
			.map((name) => `tcp://${name.replace(/\.$/, '').toLowerCase()}:${match[2]!}`)
			.filter((candidate) => endpointRefusal(candidate) === undefined && allowed(candidate));
	}));
	return [...new Set(seeds.flat())];
}
