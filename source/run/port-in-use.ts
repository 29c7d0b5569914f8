/**
The one line both run modes print when the bind port is taken: which port, and how to choose another.
*/

export function describePortInUse(endpoint: string): string {
	const port = /:(\d+)$/.exec(endpoint)?.[1] ?? endpoint;
	return `port ${port} is already in use (${endpoint}); choose another with --bind <port>, e.g. --bind ${Number(port) + 1}`;
}
