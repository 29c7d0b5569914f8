/**
Loopback ports for nodes that serve a control endpoint. A node's control endpoint defaults to its
data port + 1, so N nodes given N unrelated free ports may collide: one node's control endpoint can
take another's data port before it binds (that node then fails to start). A block of 2·N ports free
together gives node i the data port base + 2i and leaves base + 2i + 1 to its control endpoint.
*/

import net from 'node:net';

/**
Blocks are drawn from 10000–32767, below Linux's default ephemeral range (32768–60999): a port the
kernel hands an outgoing connection, or a `listen(0)`, never lands inside a block before its node
binds it.
*/
const FIRST_PORT = 10_000;
const LAST_PORT = 32_767;

/** Base of a block of `count` consecutive ports free on 127.0.0.1 now (none handed out twice in this process). */
export async function portBlock(count: number): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const base = FIRST_PORT + 2 * Math.floor((Math.random() * (LAST_PORT - FIRST_PORT - count)) / 2);
		if (overlapsHandedOut(base, count)) {
			continue;
		}

		const free = await Promise.all(Array.from({length: count}, async (_, offset) => isFree(base + offset)));
		if (free.every(Boolean)) {
			handedOut.push([base, count]);
			return base;
		}
	}

	throw new Error(`no block of ${count} free ports found`);
}

/** Data endpoints for `count` nodes whose default control endpoints (port + 1) are free too. */
export async function nodeEndpoints(count: number): Promise<string[]> {
	const base = await portBlock(count * 2);
	return Array.from({length: count}, (_, index) => `tcp://127.0.0.1:${base + index * 2}`);
}

const handedOut: Array<[number, number]> = [];

function overlapsHandedOut(base: number, count: number): boolean {
	return handedOut.some(([start, length]) => base < start + length && start < base + count);
}

async function isFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = net.createServer();
		server.once('error', () => {
			resolve(false);
		});
		server.listen(port, '127.0.0.1', () => {
			server.close(() => {
				resolve(true);
			});
		});
	});
}
