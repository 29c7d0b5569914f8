/**
`chorus-tui keygen <path>`: write a CURVE key pair, the secret to `<path>` (mode 0600) and the
public key to `<path>.pub`. Never overwrites: a lost secret key is a node that can no longer prove
who it is, so replacing one is left to a deliberate `rm`.
*/

import {writeFileSync, existsSync, unlinkSync} from 'node:fs';
import * as zmq from 'zeromq';
import {publicKeyFileText, secretKeyFileText} from '../mesh/security/curve/keys.js';

export type KeygenResult = {ok: true; publicKey: string; secretFile: string; publicFile: string} | {ok: false; message: string};

export function keygen(secretFile: string): KeygenResult {
	const publicFile = `${secretFile}.pub`;
	for (const file of [secretFile, publicFile]) {
		if (existsSync(file)) {
			return {ok: false, message: `${file} already exists; refusing to overwrite a key (remove it first or choose another path)`};
		}
	}

	const pair = zmq.curveKeyPair();
	try {
		// `wx`: fail rather than overwrite, even if the file appeared since the check above.
		writeFileSync(secretFile, secretKeyFileText(pair), {flag: 'wx', mode: 0o600});
	} catch (error) {
		return {ok: false, message: `cannot write ${secretFile}: ${(error as Error).message}`};
	}

	try {
		writeFileSync(publicFile, publicKeyFileText(pair), {flag: 'wx', mode: 0o644});
	} catch (error) {
		unlinkSync(secretFile);
		return {ok: false, message: `cannot write ${publicFile}: ${(error as Error).message}`};
	}

	return {ok: true, publicKey: pair.publicKey, secretFile, publicFile};
}
