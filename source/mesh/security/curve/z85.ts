/**
Z85, ZeroMQ's text encoding of binary keys (RFC 32): four bytes become five printable characters.
zeromq.js hands out CURVE keys as Z85 text but has no codec, and a ZAP handler receives the client's
key as 32 raw bytes, so the handler encodes them to compare with the allow file.
*/

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';

const DECODE_TABLE = (() => {
	const table = new Int8Array(128).fill(-1);
	for (let index = 0; index < ALPHABET.length; index++) {
		table[ALPHABET.charCodeAt(index)] = index;
	}

	return table;
})();

/** A CURVE key: 32 bytes, 40 Z85 characters. */
export const CURVE_KEY_BYTES = 32;
export const CURVE_KEY_Z85_LENGTH = 40;

/** Encode bytes whose length is a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
	if (bytes.length % 4 !== 0) {
		throw new RangeError(`Z85 encodes whole 4-byte groups; got ${bytes.length} bytes`);
	}

	let text = '';
	const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	for (let offset = 0; offset < bytes.length; offset += 4) {
		let value = view.getUint32(offset);
		const group: string[] = [];
		for (let digit = 0; digit < 5; digit++) {
			group.push(ALPHABET[value % 85]!);
			value = Math.floor(value / 85);
		}

		text += group.toReversed().join('');
	}

	return text;
}

/** Decode Z85 text; undefined when the text is not valid Z85 (bad length, bad character, overflow). */
export function z85Decode(text: string): Uint8Array | undefined {
	if (text.length % 5 !== 0) {
		return undefined;
	}

	const bytes = new Uint8Array((text.length / 5) * 4);
	const view = new DataView(bytes.buffer);
	for (let offset = 0; offset < text.length; offset += 5) {
		let value = 0;
		for (let digit = 0; digit < 5; digit++) {
			const code = text.charCodeAt(offset + digit);
			const index = code < 128 ? DECODE_TABLE[code]! : -1;
			if (index < 0) {
				return undefined;
			}

			value = value * 85 + index;
		}

		if (value > 0xff_ff_ff_ff) {
			return undefined;
		}

		view.setUint32((offset / 5) * 4, value);
	}

	return bytes;
}

/** Whether text is a well-formed Z85 CURVE key. */
export function isCurveKey(text: string): boolean {
	return text.length === CURVE_KEY_Z85_LENGTH && z85Decode(text) !== undefined;
}
