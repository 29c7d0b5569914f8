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
