/**
CURVE key files. A secret key file holds the Z85 secret key; the public key is derived from it, so a
node needs only one file. A public key file (`<secret>.pub`) holds the public key alone, one line,
ready to paste into a peer's allow file.

Pure: text in, text out. Reading and writing files is the caller's business.
*/

import {createPrivateKey, createPublicKey} from 'node:crypto';
import {isCurveKey, z85Decode, z85Encode} from './z85.js';

export type CurveKeyPair = {publicKey: string; secretKey: string};

/** DER prefix of a PKCS #8 X25519 private key: CURVE keys are Curve25519 keys, as Node's X25519. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** The public key that belongs to a Z85 secret key. */
export function publicKeyOf(secretKey: string): string {
	const secret = z85Decode(secretKey);
	if (secret?.length !== 32) {
		throw new TypeError('not a Z85 CURVE secret key');
	}

	const privateKey = createPrivateKey({key: Buffer.concat([X25519_PKCS8_PREFIX, secret]), format: 'der', type: 'pkcs8'});
	const jwk = createPublicKey(privateKey).export({format: 'jwk'});
	return z85Encode(Buffer.from(jwk.x!, 'base64url'));
}

export function secretKeyFileText(pair: CurveKeyPair): string {
	return [
		'# chorus-tui CURVE secret key. Keep this file private (mode 0600); share only the .pub file.',
		`# public key: ${pair.publicKey}`,
		pair.secretKey,
		'',
	].join('\n');
}

export function publicKeyFileText(pair: CurveKeyPair): string {
	return `${pair.publicKey}\n`;
}

/** Lines that are not blank and not comments. */
function meaningfulLines(text: string): string[] {
	return text
		.split(/\r?\n/)
		.map((line) => line.trim())
		.filter((line) => line !== '' && !line.startsWith('#'));
}

/** Parse a secret key file; throws a one-line Error saying what is wrong with it. */
export function parseSecretKeyFile(text: string): CurveKeyPair {
	const lines = meaningfulLines(text);
	if (lines.length !== 1 || !isCurveKey(lines[0]!)) {
		throw new Error('is not a CURVE secret key file (expected one 40-character Z85 key; make one with `chorus-tui keygen <path>`)');
	}

	const secretKey = lines[0]!;
	return {secretKey, publicKey: publicKeyOf(secretKey)};
}
