/**
Which endpoints membership may dial: only well-formed `tcp://host:port`, never an address that is
not one host (unspecified, multicast, broadcast). Gossip is the input, so everything here is a
refusal with a reason, never a throw. Pure.
*/

import {isIP} from 'node:net';

export type EndpointRefusal = 'bad-endpoint' | 'not-unicast';

/** Longest endpoint text we look at; a longer one is refused before any parsing. */
const MAX_ENDPOINT_LENGTH = 300;

const TCP_ENDPOINT = /^tcp:\/\/(\[[\da-fA-F:.]+]|[A-Za-z\d.-]+):(\d{1,5})$/;

/**
`undefined` when `text` is a dialable unicast `tcp://host:port`; otherwise why not. A host name is
allowed (`tcp://chorus-0.chorus:5555`), as `--peer` allows it.
*/
export function endpointRefusal(text: unknown): EndpointRefusal | undefined {
	if (typeof text !== 'string' || text.length > MAX_ENDPOINT_LENGTH) {
		return 'bad-endpoint';
	}

	const match = TCP_ENDPOINT.exec(text);
	if (!match) {
		return 'bad-endpoint';
	}

	const port = Number(match[2]);
	if (port < 1 || port > 65_535) {
		return 'bad-endpoint';
	}

	const rawHost = match[1]!;
	const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
	switch (isIP(host)) {
		case 4: {
			return isUnicastIpv4(host) ? undefined : 'not-unicast';
		}

		case 6: {
			if (!rawHost.startsWith('[')) {
				return 'bad-endpoint';
			}

			return isUnicastIpv6(host) ? undefined : 'not-unicast';
		}

		default: {
			if (rawHost.startsWith('[')) {
				return 'bad-endpoint';
			}

			// A name: labels of letters, digits and hyphens; an all-numeric "name" is a malformed address.
			if (/^[\d.]+$/.test(host) || host.split('.').some((label) => label === '' || label.length > 63 || label.startsWith('-'))) {
				return 'bad-endpoint';
			}

			return undefined;
		}
	}
}

function isUnicastIpv4(host: string): boolean {
	const octets = host.split('.').map(Number);
	const [first] = octets;
	// 0.0.0.0/8 is "this network" (0.0.0.0 binds everything, dials nothing), 224/4 multicast,
	// 240/4 reserved, 255.255.255.255 broadcast.
	return first !== 0 && first! < 224;
}

function isUnicastIpv6(host: string): boolean {
	const lower = host.toLowerCase();
	if (lower === '::' || lower === '::0' || /^0*(:0*)*::?0*$/.test(lower)) {
		return false;
	}

	// ff00::/8 is multicast (IPv6 has no broadcast).
	return !lower.startsWith('ff');
}

/** Whether an endpoint's host is this machine's loopback (127/8, ::1, localhost). */
export function isLoopbackEndpoint(endpoint: string): boolean {
	const host = TCP_ENDPOINT.exec(endpoint)?.[1];
	return host !== undefined && (host.startsWith('127.') || host === '[::1]' || host === 'localhost');
}

/**
A member's control endpoint, if we can use it: well formed, and not a loopback address announced by
a member on another host (a node without CURVE keeps its control plane on its own loopback, which
is not ours).
*/
export function usableControl(control: unknown, dataEndpoint: string): string | undefined {
	if (endpointRefusal(control) !== undefined) {
		return undefined;
	}

	return isLoopbackEndpoint(control as string) && !isLoopbackEndpoint(dataEndpoint) ? undefined : (control as string);
}

/** `tcp://host:port` for an address that `dns.resolve4`/`resolve6` returned. */
export function tcpEndpoint(address: string, port: number): string {
	return isIP(address) === 6 ? `tcp://[${address}]:${port}` : `tcp://${address}:${port}`;
}
