/**
Free loopback ports for tests.

Two things made a port handed out free "now" taken by the time a node bound it:
- the kernel's ephemeral range (32768–60999 here) is where every outgoing connection and every
  `listen(0)` of the other test worker lands, so a port picked there by `listen(0)` could be taken
  a moment later as some connection's source port;
- a node's control endpoint defaults to its data port + 1, so two ports handed out one apart let
  one node's control endpoint take the other's data port.

So ports come from below the ephemeral range, each vitest worker (VITEST_POOL_ID) draws from its own
slice of it, and a port is handed out only with the port above it free and unclaimed as well.
*/

import net from 'node:net';

const FIRST_PORT = 10_000;
const LAST_PORT = 32_766;
/** More slices than workers (vitest.config.ts runs two), so a larger pool still gets disjoint ones. */
const SLICES = 8;
const SLICE_SIZE = Math.floor((LAST_PORT - FIRST_PORT) / SLICES) & ~1;

const slice = (Number(process.env.VITEST_POOL_ID ?? 1) - 1) % SLICES;
const sliceStart = FIRST_PORT + slice * SLICE_SIZE;
/** Test files in one worker run one after another in fresh processes: a random start spreads them out. */
let cursor = 2 * Math.floor((Math.random() * SLICE_SIZE) / 2);

export async function freePort(): Promise<number> {
	for (let tried = 0; tried < SLICE_SIZE / 2; tried++) {
		const port = sliceStart + cursor;
		cursor = (cursor + 2) % SLICE_SIZE;
		if (await isFree(port) && await isFree(port + 1)) {
			return port;
		}
	}

	throw new Error(`no free port pair left in ${sliceStart}–${sliceStart + SLICE_SIZE - 1}`);
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

async function isFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = net.createServer();
		server.unref();
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
