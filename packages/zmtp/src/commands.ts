/**
ZMTP 3 commands: READY with its properties (RFC 23), PING/PONG and SUBSCRIBE/CANCEL (RFC 37).
*/

import {encodeCommand} from './frame.js';

export type Command = {name: string; data: Buffer};

/** Split a command frame's body into name and data; undefined when the name overruns the body. */
export function parseCommand(body: Buffer): Command | undefined {
	if (body.length === 0) {
		return undefined;
	}

	const nameSize = body[0]!;
	if (nameSize === 0 || 1 + nameSize > body.length) {
		return undefined;
	}

	return {name: body.toString('latin1', 1, 1 + nameSize), data: body.subarray(1 + nameSize)};
}

/** READY carrying the Socket-Type property, the one metadata PUB/SUB needs. */
export function encodeReady(socketType: string): Buffer {
	return encodeCommand('READY', encodeProperties({'Socket-Type': Buffer.from(socketType, 'latin1')}));
}

function encodeProperties(properties: Record<string, Buffer>): Buffer {
	const parts: Buffer[] = [];
	for (const [name, value] of Object.entries(properties)) {
		const header = Buffer.allocUnsafe(1 + name.length + 4);
		header[0] = name.length;
		header.write(name, 1, 'latin1');
		header.writeUInt32BE(value.length, 1 + name.length);
		parts.push(header, value);
	}

	return Buffer.concat(parts);
}

/** READY's properties, names lower-cased (the spec makes them case-insensitive); undefined if malformed. */
export function parseProperties(data: Buffer): Map<string, Buffer> | undefined {
	const properties = new Map<string, Buffer>();
	let offset = 0;
	while (offset < data.length) {
		const nameSize = data[offset]!;
		if (nameSize === 0 || offset + 1 + nameSize + 4 > data.length) {
			return undefined;
		}

		const name = data.toString('latin1', offset + 1, offset + 1 + nameSize).toLowerCase();
		offset += 1 + nameSize;
		const valueSize = data.readUInt32BE(offset);
		offset += 4;
		if (offset + valueSize > data.length) {
			return undefined;
		}

		properties.set(name, data.subarray(offset, offset + valueSize));
		offset += valueSize;
	}

	return properties;
}

/** PONG for a PING: PING's data is a 2-byte TTL and up to 16 bytes of context, which PONG echoes. */
export function encodePong(pingData: Buffer): Buffer {
	return encodeCommand('PONG', pingData.subarray(2, 18));
}

/** The reason text of an ERROR command (1-byte size, then text). */
export function errorReason(data: Buffer): string {
	const size = data[0] ?? 0;
	return data.toString('latin1', 1, 1 + size);
}
