/**
`tcp://host:port` endpoints as libzmq spells them, for the ZMTP engine that speaks over node:net.
*/

export type TcpEndpoint = {
	/** An IP address or a host name, without IPv6 brackets; `0.0.0.0` where `*` was written. */
	host: string;
	/** 0 when a bind asked for any free port (`*` or `0`). */
	port: number;
};

/** A malformed endpoint; `code` is EINVAL, as libzmq reports it. */
export class EndpointError extends Error {
	get code(): 'EINVAL' {
		return 'EINVAL';
	}

	constructor(readonly endpoint: string, why: string) {
		super(`invalid endpoint ${JSON.stringify(endpoint)}: ${why}`);
		this.name = 'EndpointError';
	}
}

/**
Parse `tcp://host:port`. `[::1]` is IPv6. For a bind, host `*` means every IPv4 interface (as in
libzmq without the ipv6 option) and port `*` or `0` means any free port; a connect needs both.
*/
export function parseTcpEndpoint(endpoint: string, use: 'bind' | 'connect'): TcpEndpoint {
	if (!endpoint.startsWith('tcp://')) {
		throw new EndpointError(endpoint, 'only tcp:// is spoken here');
	}

	const address = endpoint.slice('tcp://'.length);
	const colon = address.lastIndexOf(':');
	if (colon <= 0) {
		throw new EndpointError(endpoint, 'expected host:port');
	}

	let host = address.slice(0, colon);
	const portText = address.slice(colon + 1);
	if (host.startsWith('[')) {
		if (!host.endsWith(']') || host.length < 3) {
			throw new EndpointError(endpoint, 'unbalanced [ ] around an IPv6 address');
		}

		host = host.slice(1, -1);
		if (!host.includes(':')) {
			throw new EndpointError(endpoint, '[ ] holds an IPv6 address');
		}
	} else if (host.includes(':')) {
		throw new EndpointError(endpoint, 'an IPv6 address must be written in [ ]');
	}

	// libzmq's source-address form (`tcp://src;dst:port`) and interface names are not supported.
	if (!/^[\w.:%*-]+$/.test(host)) {
		throw new EndpointError(endpoint, `bad host ${JSON.stringify(host)}`);
	}

	if (host === '*') {
		if (use === 'connect') {
			throw new EndpointError(endpoint, 'a connect needs a host, not *');
		}

		host = '0.0.0.0';
	}

	let port: number;
	if (portText === '*') {
		port = 0;
	} else if (/^\d{1,5}$/.test(portText)) {
		port = Number(portText);
	} else {
		throw new EndpointError(endpoint, `bad port ${JSON.stringify(portText)}`);
	}

	if (port > 65_535 || (port === 0 && use === 'connect')) {
		throw new EndpointError(endpoint, `port ${portText} out of range`);
	}

	return {host, port};
}

/** The endpoint as libzmq's `last_endpoint` writes it: IPv6 hosts in brackets. */
export function formatTcpEndpoint(host: string, port: number): string {
	return host.includes(':') ? `tcp://[${host}]:${port}` : `tcp://${host}:${port}`;
}
