/**
Where the control endpoint binds and what it announces. Default: the data endpoint's host, port + 1.
Without CURVE the control plane stays on loopback: a default address on another host falls back to
127.0.0.1 (same port), and an explicit one is refused.
*/

import {isTcpEndpoint} from '../../mesh/model/wire.js';
import {isLoopbackOnly} from '../../mesh/security/screening.js';

/** Thrown for a control address that may not be used; the CLI prints it as one line, exit 2. */
export class ControlAddressError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ControlAddressError';
	}
}

const TCP = /^tcp:\/\/(.+):(\d+)$/;

/**
The control endpoint for a node: `explicit` (from --control, already normalized) or the default
derived from `dataEndpoint`. Undefined when there is none to derive (an ipc:// data endpoint, or
port 65535).
*/
export function resolveControlEndpoint(dataEndpoint: string, explicit: string | undefined, curve: boolean): string | undefined {
	if (explicit !== undefined) {
		if (!curve && !isLoopbackOnly(explicit)) {
			throw new ControlAddressError(
				`--control: ${explicit} is not a loopback address; without CURVE the control endpoint binds loopback only (use --curve-secret-key-file and --allow, or --control <port>)`,
			);
		}

		return explicit;
	}

	const match = TCP.exec(dataEndpoint);
	if (match === null) {
		return undefined;
	}

	const port = Number(match[2]) + 1;
	if (port > 65_535) {
		return undefined;
	}

	const derived = `tcp://${match[1]!}:${port}`;
	// The data plane may be exposed without CURVE (with a warning); the control plane never is.
	return curve || isLoopbackOnly(derived) ? derived : `tcp://127.0.0.1:${port}`;
}

/**
What to announce in data messages for a bound control endpoint: only what a peer can dial
(`tcp://host:port` with a real host); a wildcard bind (`*`, 0.0.0.0, ::) announces nothing.
With `advertiseHost` (`--advertise`) that host and the bound port, unless the control plane is on
loopback: then it is this machine's alone, and announced as it is.
*/
export function announcedControlEndpoint(bound: string, advertiseHost?: string): string | undefined {
	if (!isTcpEndpoint(bound)) {
		return undefined;
	}

	const match = TCP.exec(bound);
	if (advertiseHost !== undefined && match !== null && !isLoopbackOnly(bound)) {
		return `tcp://${advertiseHost.includes(':') ? `[${advertiseHost}]` : advertiseHost}:${match[2]!}`;
	}

	const host = match?.[1];
	return host === '0.0.0.0' || host === '[::]' ? undefined : bound;
}
