/**
How many connections a node's publisher may hold by default: a share of the process's file
descriptors that leaves the rest for the node's own dials to its peers.
*/

import {readFileSync} from 'node:fs';

/** Descriptors kept for everything that is not a connection: stdio, the terminal, files, libzmq's internals. */
export const DESCRIPTOR_OVERHEAD = 64;
/** Never fewer than this, whatever the limit says: a small mesh must work on a tight ulimit. */
const MIN_CONNECTIONS = 64;
/**
Never more than this by default: each connection costs memory as well as a descriptor (a socket,
its buffers and a ZMTP connection, 10–20 KiB), and more than a few thousand subscribers is not a
mesh of Kuramoto nodes but a flood.
*/
const MAX_DEFAULT_CONNECTIONS = 4096;
/** The usual soft limit, assumed where /proc is not there to ask (not Linux). */
const ASSUMED_LIMIT = 1024;

/**
The default `--max-connections`: half of the descriptors above DESCRIPTOR_OVERHEAD, between 64 and
4,096. Half, because in a full mesh of n nodes each node holds n − 1 connections accepted by its
publisher and n − 1 dialled by its subscribers: the other half is the reserve for our own dials,
which a flood of strangers can then never take. With the common soft limit of 1,024 that is 480;
Node raises the soft limit to the hard one at start, so on most systems it is 4,096.
*/
export function defaultMaxConnections(limit = openFileLimit()): number {
	return Math.max(MIN_CONNECTIONS, Math.min(MAX_DEFAULT_CONNECTIONS, Math.floor((limit - DESCRIPTOR_OVERHEAD) / 2)));
}

/** The process's soft RLIMIT_NOFILE, from /proc/self/limits (Node has no getrlimit). */
export function openFileLimit(): number {
	try {
		const line = readFileSync('/proc/self/limits', 'utf8')
			.split('\n')
			.find((text) => text.startsWith('Max open files'));
		const soft = line?.split(/\s{2,}/)[1];
		const value = soft === undefined ? Number.NaN : Number(soft);
		return Number.isFinite(value) && value > 0 ? value : ASSUMED_LIMIT;
	} catch {
		return ASSUMED_LIMIT;
	}
}
