/**
`chorus-tui keygen <path>`: write a CURVE key pair, the secret to `<path>` (mode 0600) and the
public key to `<path>.pub`. Never overwrites: a lost secret key is a node that can no longer prove
who it is, so replacing one is left to a deliberate `rm`.
*/

import {writeFileSync, existsSync, unlinkSync} from 'node:fs';
import {createRequire} from 'node:module';
import process from 'node:process';
import type * as Zeromq from 'zeromq';
import {publicKeyFileText, secretKeyFileText} from '../mesh/security/curve/keys.js';

export type KeygenResult = {ok: true; publicKey: string; secretFile: string; publicFile: string} | {ok: false; message: string};

export function keygen(secretFile: string): KeygenResult {
	const publicFile = `${secretFile}.pub`;
	for (const file of [secretFile, publicFile]) {
		if (existsSync(file)) {
			return {ok: false, message: `${file} already exists; refusing to overwrite a key (remove it first or choose another path)`};
		}
	}

	// Loaded here, not on import: the CLI imports this file on every start, and zeromq.js (a native
	// addon) is needed only for the keys. A CommonJS module, so it loads synchronously.
	const {curveKeyPair} = createRequire(import.meta.url)('zeromq') as typeof Zeromq;
	const pair = curveKeyPair();
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

/** `chorus-tui keygen <path>` as a run mode: writes what it did, or one line why not; returns the exit code. */
export function runKeygen(args: readonly string[]): number {
	if (args.length !== 1 || args[0] === '') {
		process.stderr.write('chorus-tui: keygen takes one path: chorus-tui keygen <path>\n');
		return 2;
	}

	const result = keygen(args[0]!);
	if (!result.ok) {
		process.stderr.write(`chorus-tui: ${result.message}\n`);
		return 1;
	}

	process.stdout.write(`secret key: ${result.secretFile} (mode 0600, keep it private)\npublic key: ${result.publicFile}\n${result.publicKey}\n`);
	return 0;
}
