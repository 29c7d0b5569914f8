/**
Read the CURVE files a config names: the secret key file and the allow file (at start, and the allow
file again on SIGHUP). Every problem becomes a ConfigError naming the flag, which the CLI prints as
one line at start and a reload reports as a warning.
*/

import {readFileSync, statSync} from 'node:fs';
import {ConfigError, parseEndpoint, type Config} from '../config.js';
import {AllowList, AllowListError, parseAllowList} from '../mesh/security/curve/allow-list.js';
import {parseSecretKeyFile} from '../mesh/security/curve/keys.js';
import type {CurveOptions} from '../mesh/security/screening.js';

export function loadCurve(config: Config): CurveOptions | undefined {
	if (config.curve === undefined) {
		return undefined;
	}

	const {secretKeyFile, allowFile} = config.curve;
	const keyText = readText(secretKeyFile, '--curve-secret-key-file');
	// Like ssh: a secret that others can read is no longer a secret.
	const mode = statSync(secretKeyFile).mode & 0o777;
	if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
		throw new ConfigError(
			'--curve-secret-key-file',
			`${secretKeyFile} is readable by others (mode ${mode.toString(8).padStart(4, '0')}); run chmod 600 ${secretKeyFile}`,
		);
	}

	let pair;
	try {
		pair = parseSecretKeyFile(keyText);
	} catch (error) {
		throw new ConfigError('--curve-secret-key-file', `${secretKeyFile} ${(error as Error).message}`);
	}

	const allow = readAllowList(allowFile);
	for (const endpoint of config.peerEndpoints) {
		if (allow.serverKeyFor(endpoint) === undefined) {
			throw new ConfigError(
				'--peer',
				`${endpoint} has no entry in ${allowFile}; with CURVE every peer needs a line \`<public-key> [node-id] ${endpoint}\``,
			);
		}
	}

	return {...pair, allow};
}

/** The allow file, parsed; throws a ConfigError naming `--allow`, the file and the line. */
export function readAllowList(allowFile: string): AllowList {
	try {
		return new AllowList(parseAllowList(readText(allowFile, '--allow'), (text) => parseEndpoint(text, 'endpoint')));
	} catch (error) {
		if (error instanceof AllowListError) {
			throw new ConfigError('--allow', `${allowFile} ${error.message}`);
		}

		throw error;
	}
}

function readText(file: string, flag: string): string {
	try {
		return readFileSync(file, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
		throw new ConfigError(flag, `cannot read ${file}: ${why}`);
	}
}
