/**
Free loopback ports for tests. The kernel picks a port that is free now; tests bind it soon after.
Ports handed out in this process are never handed out twice.
*/

import net from 'node:net';

const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
	for (;;) {
		const port = await new Promise<number>((resolve, reject) => {
			const server = net.createServer();
			server.unref();
			server.on('error', reject);
			server.listen(0, '127.0.0.1', () => {
				const {port} = server.address() as net.AddressInfo;
				server.close(() => {
					resolve(port);
				});
			});
		});
		if (!handedOut.has(port)) {
			handedOut.add(port);
			return port;
		}
	}
}

export async function freePorts(count: number): Promise<number[]> {
	const ports: number[] = [];
	for (let index = 0; index < count; index++) {
		ports.push(await freePort());
	}

	return ports;
}

export function loopback(port: number): string {
	return `tcp://127.0.0.1:${port}`;
}
