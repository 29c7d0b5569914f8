// Ports for nodes whose control endpoint takes the default place: the data port + 1.
import net from 'node:net';
import {freePort} from '../helpers/ports.js';

async function isFree(port: number): Promise<boolean> {
	const probe = net.createServer();
	return new Promise<boolean>((resolve) => {
		probe.once('error', () => {
			resolve(false);
		});
		probe.listen(port, '127.0.0.1', () => {
			probe.close(() => {
				resolve(true);
			});
		});
	});
}

/**
A free data port whose next port is free too, for a node started with the default control
endpoint: a random port's neighbour may be held by any process of the machine.
*/
export async function portWithFreeNext(): Promise<number> {
	for (;;) {
		const port = await freePort();
		if (port < 65_535 && (await isFree(port + 1))) {
			return port;
		}
	}
}

/** A free port whose next port is held by a listener of ours: where a node's default control endpoint cannot bind. */
export async function portBelowATakenOne(): Promise<{port: number; blocker: net.Server}> {
	for (;;) {
		const blocker = net.createServer();
		await new Promise<void>((resolve) => {
			blocker.listen(0, '127.0.0.1', resolve);
		});
		const taken = (blocker.address() as net.AddressInfo).port;
		if (await isFree(taken - 1)) {
			return {port: taken - 1, blocker};
		}

		blocker.close();
	}
}
