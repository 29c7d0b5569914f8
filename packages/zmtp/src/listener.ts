/**
Binding a TCP listener for a socket that accepts (PUB, ROUTER): both bind the same way, and both
must survive a failed accept (out of descriptors), which libuv survives by accepting and closing
the pending connection; the socket only counts it.
*/

import net from 'node:net';
import {formatTcpEndpoint, parseTcpEndpoint} from './endpoint.js';

export type Listening = {server: net.Server; endpoint: string};

/**
Listen on `endpoint` (exclusively) and hand every accepted connection to `accept`. Errors after
listening go to `onError` as a refusal reason, never to the process. Rejects with the listen error.
*/
export async function listenTcp(
	endpoint: string,
	accept: (socket: net.Socket) => void,
	onError: (reason: 'descriptors' | 'protocol', message: string) => void,
): Promise<Listening> {
	const {host, port} = parseTcpEndpoint(endpoint, 'bind');
	const server = net.createServer(accept);
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen({host, port, exclusive: true}, () => {
			server.off('error', reject);
			resolve();
		});
	});
	server.on('error', (error: NodeJS.ErrnoException) => {
		const code = error.code ?? 'EUNKNOWN';
		onError(code === 'EMFILE' || code === 'ENFILE' ? 'descriptors' : 'protocol', `accept failed: ${code}`);
	});
	const address = server.address() as net.AddressInfo;
	return {server, endpoint: formatTcpEndpoint(address.address, address.port)};
}

/** What an accepting socket lends `bindListener`: its name for errors, whether it is closed, and where connections and refusals go. */
export type ListenerOwner = {
	/** 'publisher', 'router': the errors say which socket was closed. */
	readonly kind: string;
	closed: () => boolean;
	accept: (socket: net.Socket) => void;
	refuse: (reason: 'descriptors' | 'protocol', message: string) => void;
};

/**
`bind` of a PUB or ROUTER: listen for `owner`, refusing (code ENOTSOCK, as libzmq) when it is closed
before or while binding; the server is closed then. Resolves with the server and the bound endpoint.
*/
export async function bindListener(owner: ListenerOwner, endpoint: string): Promise<Listening> {
	if (owner.closed()) {
		throw Object.assign(new Error(`the ${owner.kind} is closed`), {code: 'ENOTSOCK'});
	}

	const listening = await listenTcp(endpoint, owner.accept, owner.refuse);
	if (owner.closed()) {
		listening.server.close();
		throw Object.assign(new Error(`the ${owner.kind} was closed while binding`), {code: 'ENOTSOCK'});
	}

	return listening;
}
