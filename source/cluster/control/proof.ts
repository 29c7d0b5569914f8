/**
Which key sent a write request. Over CURVE, libzmq tells the ZAP handler the client's key but
zeromq.js never hands that key to the socket's reader, so the server knows only that the client is
listed, not which key it holds. A write request therefore carries a proof:

	auth: {key: <client public key, Z85>, t: <ms since the epoch>, mac: <hex>}
	mac = HMAC-SHA256(X25519(client secret, server public), "chorus-control/1\n<op>\n<id>\n<t>")

Only the holder of `key`'s secret (or the server's) can compute it. It travels inside the CURVE
channel, so nobody else sees it; `t` bounds how long one is good for. Python: `cryptography`'s
X25519PrivateKey.exchange gives the same shared secret from the same raw keys.
*/

import {createHmac, createPrivateKey, createPublicKey, diffieHellman, timingSafeEqual, type KeyObject} from 'node:crypto';
import {z85Decode} from '../../mesh/security/curve/z85.js';

export type WriteProof = {key: string; t: number; mac: string};

/** A proof older or newer than this (by the server's clock) is refused. */
export const PROOF_SKEW_MS = 5 * 60 * 1000;

const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

function privateKeyOf(secretKey: string): KeyObject {
	const raw = z85Decode(secretKey);
	if (raw?.length !== 32) {
		throw new TypeError('not a Z85 CURVE secret key');
	}

	return createPrivateKey({key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8'});
}

function publicKeyObjectOf(publicKey: string): KeyObject | undefined {
	const raw = z85Decode(publicKey);
	if (raw?.length !== 32) {
		return undefined;
	}

	return createPublicKey({key: Buffer.concat([X25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki'});
}

function mac(shared: Buffer, op: string, id: string | number, t: number): string {
	return createHmac('sha256', shared).update(`chorus-control/1\n${op}\n${String(id)}\n${t}`).digest('hex');
}

/** The proof a client attaches to a write request. */
export function writeProof(keys: {publicKey: string; secretKey: string; serverKey: string}, op: string, id: string | number, nowMs: number): WriteProof {
	const server = publicKeyObjectOf(keys.serverKey);
	if (server === undefined) {
		throw new TypeError('not a Z85 CURVE public key (the server key)');
	}

	const shared = diffieHellman({privateKey: privateKeyOf(keys.secretKey), publicKey: server});
	return {key: keys.publicKey, t: nowMs, mac: mac(shared, op, id, nowMs)};
}

/**
Checks a proof with the server's secret key. Returns the client's key when it holds, or a reason
when not. The server keeps a cache of shared secrets by key (`secrets`), bounded by the caller.
*/
export class ProofChecker {
	readonly #privateKey: KeyObject;
	readonly #secrets = new Map<string, Buffer>();

	constructor(serverSecretKey: string) {
		this.#privateKey = privateKeyOf(serverSecretKey);
	}

	check(auth: unknown, op: string, id: string | number, nowMs: number): {ok: true; key: string} | {ok: false; reason: string} {
		if (typeof auth !== 'object' || auth === null) {
			return {ok: false, reason: 'a write request over CURVE needs an `auth` proof of the client key'};
		}

		const {key, t, mac: given} = auth as Partial<Record<keyof WriteProof, unknown>>;
		if (typeof key !== 'string' || typeof t !== 'number' || typeof given !== 'string' || !/^[\da-f]{64}$/.test(given)) {
			return {ok: false, reason: '`auth` must be {key, t, mac}'};
		}

		if (Math.abs(nowMs - t) > PROOF_SKEW_MS) {
			return {ok: false, reason: '`auth.t` is too far from the node clock'};
		}

		const shared = this.#shared(key);
		if (shared === undefined) {
			return {ok: false, reason: '`auth.key` is not a CURVE public key'};
		}

		const expected = Buffer.from(mac(shared, op, id, t), 'hex');
		return timingSafeEqual(expected, Buffer.from(given, 'hex')) ? {ok: true, key} : {ok: false, reason: '`auth.mac` does not match `auth.key`'};
	}

	#shared(key: string): Buffer | undefined {
		const known = this.#secrets.get(key);
		if (known !== undefined) {
			return known;
		}

		const publicKey = publicKeyObjectOf(key);
		if (publicKey === undefined) {
			return undefined;
		}

		const shared = diffieHellman({privateKey: this.#privateKey, publicKey});
		// Only keys that proved listed get here often; still, a flood of made-up keys cannot grow this.
		if (this.#secrets.size >= 256) {
			this.#secrets.delete(this.#secrets.keys().next().value!);
		}

		this.#secrets.set(key, shared);
		return shared;
	}
}
