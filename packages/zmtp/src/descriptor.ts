/**
Synchronous reads and writes on a connected socket's file descriptor, for the places where going
through the event loop costs more than the I/O itself: a node's peer links, read once per tick
(subscriber.ts), its once-per-tick publish to every subscriber (publisher.ts), and the occasional
request or reply of a DEALER or ROUTER, where net's stream machinery, in code that runs too rarely
to be optimised, cost a tenth of a millisecond and more a message.

Node has no public synchronous socket I/O. A net.Socket's handle carries its descriptor
(`_handle.fd`, on every Unix; -1 on Windows), and fs.readSync / fs.writeSync work on it. libuv made
the socket non-blocking, so neither call ever blocks: an empty socket or a full send buffer answers
EAGAIN. The callers keep the event loop out of the way (reading stopped, nothing queued to write),
and stop using the number once the socket is destroyed, since the kernel may hand it to the next
file opened.
*/

import {readSync, writeSync} from 'node:fs';
import type net from 'node:net';

/** The socket's file descriptor, or undefined where the handle has none (Windows, a closed socket). */
export function descriptorOf(socket: net.Socket): number | undefined {
	const fd = (socket as unknown as {_handle?: {fd?: unknown} | null})._handle?.fd;
	return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** Bytes read into `buffer` (0: the peer closed), or -1 when nothing is waiting. Other errors throw. */
export function readNow(fd: number, buffer: Buffer): number {
	for (;;) {
		try {
			return readSync(fd, buffer, 0, buffer.length, null);
		} catch (error) {
			const {code} = error as NodeJS.ErrnoException;
			if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
				return -1;
			}

			if (code !== 'EINTR') {
				throw error;
			}
		}
	}
}

/**
Bytes of `data` the kernel took at once: all of it, part of it, or 0 when its send buffer is full
or the write failed. The caller hands what is left to socket.write, which queues it, or meets the
same error and closes the socket the usual way.
*/
export function writeNow(fd: number, data: Buffer): number {
	try {
		return writeSync(fd, data);
	} catch {
		return 0;
	}
}

/**
Write `data` to a connected socket: straight to the kernel through `fd` when nothing waits in the
socket's own queue, so that the order holds; what the kernel does not take at once (or all of it,
when there is no descriptor or a write is pending) goes through socket.write, which queues it and
handles errors as for any write.
*/
export function writeThrough(socket: net.Socket, data: Buffer, fd: number | undefined): void {
	const written = fd !== undefined && socket.writableLength === 0 && !socket.destroyed ? writeNow(fd, data) : 0;
	if (written < data.length) {
		socket.write(written === 0 ? data : data.subarray(written));
	}
}
