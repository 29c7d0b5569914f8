/**
ZMTP 3 framing (RFC 23): a flags byte, a 1-byte or 8-byte big-endian size, then the body.
*/

/** More frames of this message follow. */
export const FLAG_MORE = 0x01;
/** The size is 8 bytes, not 1. */
export const FLAG_LONG = 0x02;
/** A command frame (READY, PING, SUBSCRIBE …), not a message frame. */
export const FLAG_COMMAND = 0x04;

/** Largest body that fits the short (1-byte) size. */
const SHORT_MAX = 255;

/** Header and body in one Buffer, so that it goes out in one write (and can go to many sockets). */
export function encodeFrame(body: Uint8Array, flags: number): Buffer {
	const size = body.length;
	if (size <= SHORT_MAX) {
		const frame = Buffer.allocUnsafe(2 + size);
		frame[0] = flags;
		frame[1] = size;
		frame.set(body, 2);
		return frame;
	}

	const frame = Buffer.allocUnsafe(9 + size);
	frame[0] = flags | FLAG_LONG;
	// Two 32-bit halves: a size over 4 GiB never reaches here, but the wire needs all 8 bytes.
	frame.writeUInt32BE(Math.floor(size / 2 ** 32), 1);
	frame.writeUInt32BE(size >>> 0, 5);
	frame.set(body, 9);
	return frame;
}

/** A command frame: name-size, name, data. */
export function encodeCommand(name: string, data: Uint8Array = Buffer.alloc(0)): Buffer {
	const nameBytes = Buffer.from(name, 'latin1');
	const body = Buffer.allocUnsafe(1 + nameBytes.length + data.length);
	body[0] = nameBytes.length;
	nameBytes.copy(body, 1);
	body.set(data, 1 + nameBytes.length);
	return encodeFrame(body, FLAG_COMMAND);
}

/** The frames of one message, MORE set on all but the last. */
export function encodeMessage(frames: readonly Uint8Array[]): Buffer {
	const encoded = frames.map((frame, index) => encodeFrame(frame, index < frames.length - 1 ? FLAG_MORE : 0));
	return encoded.length === 1 ? encoded[0]! : Buffer.concat(encoded);
}
