/**
Free loopback ports for demo peers. All ports of one request are held open together before any is
released, so one request never hands out the same port twice.
*/

import net from 'node:net';

export async function pickFreePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
	const servers: net.Server[] = [];
	try {
		for (let index = 0; index < count; index++) {
			const server = net.createServer();
			servers.push(server);
			// eslint-disable-next-line no-await-in-loop -- each server holds its port until all are picked, so they cannot repeat.
			await new Promise<void>((resolve, reject) => {
				server.once('error', reject);
				server.listen(0, host, resolve);
			});
		}

		return servers.map((server) => (server.address() as net.AddressInfo).port);
	} finally {
		await Promise.all(servers.map(async (server) => new Promise<void>((resolve) => {
			server.close(() => {
				resolve();
			});
		})));
	}
}
