/**
The allow file: which CURVE public keys may connect, which node id each may use, and where each
publishes. One entry a line; a field that starts with `#` starts a comment:

	<public-key> [node-id|*] [endpoint] [role=operator]

- Our publisher's ZAP handler lets a subscriber in only if its key is listed.
- Our subscription to an endpoint pins the key listed with that endpoint as the server key, so
  only the holder of that key's secret can feed us through it (CURVE authenticates the server).
- A message that arrives through a pinned endpoint must carry the node id listed with its key,
  and no key may claim an id that the file binds to another key (`id-mismatch`).
- `role=operator` (last, optional) lets the key change nodes through the control plane (fault,
  clear, stop); every listed key may read (members, view). A file without it stays valid.

Pure: the caller reads the file and normalizes endpoints.
*/

import {isPrintableId} from '../../model/wire.js';
import {isCurveKey} from './z85.js';

export type AllowEntry = {
	publicKey: string;
	/** The one node id this key may publish under; undefined: any id not bound to another key. */
	nodeId?: string;
	/** Where the holder of this key publishes; needed to subscribe to it. */
	endpoint?: string;
	/** `operator`: may send the control plane's write ops. Undefined: read ops only. */
	role?: AllowRole;
};

export type AllowRole = 'operator';
const ROLE_FIELD = /^role=(.*)$/;

export class AllowListError extends Error {
	constructor(
		readonly line: number,
		message: string,
	) {
		super(`line ${line}: ${message}`);
		this.name = 'AllowListError';
	}
}

/** `normalizeEndpoint` turns the text of an endpoint into the form `--peer` uses, or throws. */
export function parseAllowList(text: string, normalizeEndpoint: (text: string) => string): AllowEntry[] {
	const entries: AllowEntry[] = [];
	const idOfKey = new Map<string, string | undefined>();
	const keyOfId = new Map<string, string>();
	const keyOfEndpoint = new Map<string, string>();
	const lines = text.split(/\r?\n/);
	for (const [index, raw] of lines.entries()) {
		// `#` is a Z85 digit, so a comment is a field that starts with it, never a `#` inside a key
		// (no key starts with `#`: a Z85 group's first digit is at most the 83rd).
		const fields = raw.trim().split(/\s+/).filter((field) => field !== '');
		const commentAt = fields.findIndex((field) => field.startsWith('#'));
		if (commentAt !== -1) {
			fields.length = commentAt;
		}

		if (fields.length === 0) {
			continue;
		}

		const lineNumber = index + 1;
		// The role is named (`role=operator`), so it can follow a key with no id or endpoint.
		const roleText = fields.length > 1 ? ROLE_FIELD.exec(fields.at(-1)!)?.[1] : undefined;
		if (roleText !== undefined) {
			fields.pop();
			if (roleText !== 'operator') {
				throw new AllowListError(lineNumber, `unknown role '${roleText}'; the only role is role=operator`);
			}
		}

		const [publicKey, nodeId, endpoint, ...rest] = fields;
		if (!isCurveKey(publicKey!)) {
			throw new AllowListError(lineNumber, 'expected a 40-character Z85 public key first');
		}

		if (rest.length > 0) {
			throw new AllowListError(lineNumber, 'too many fields; the form is `<public-key> [node-id|*] [endpoint] [role=operator]`');
		}

		const entry: AllowEntry = {publicKey: publicKey!};
		if (roleText !== undefined) {
			entry.role = 'operator';
		}

		if (nodeId !== undefined && nodeId !== '*') {
			if (!isPrintableId(nodeId)) {
				throw new AllowListError(lineNumber, 'the node id must be 1-64 printable characters');
			}

			entry.nodeId = nodeId;
		}

		if (endpoint !== undefined) {
			try {
				entry.endpoint = normalizeEndpoint(endpoint);
			} catch (error) {
				throw new AllowListError(lineNumber, (error as Error).message);
			}
		}

		if (idOfKey.has(entry.publicKey) && idOfKey.get(entry.publicKey) !== entry.nodeId) {
			throw new AllowListError(lineNumber, 'this key is listed before with another node id');
		}

		if (entry.nodeId !== undefined && (keyOfId.get(entry.nodeId) ?? entry.publicKey) !== entry.publicKey) {
			throw new AllowListError(lineNumber, `node id ${entry.nodeId} is bound to another key before`);
		}

		if (entry.endpoint !== undefined && (keyOfEndpoint.get(entry.endpoint) ?? entry.publicKey) !== entry.publicKey) {
			throw new AllowListError(lineNumber, `endpoint ${entry.endpoint} is listed before with another key`);
		}

		idOfKey.set(entry.publicKey, entry.nodeId);
		if (entry.endpoint !== undefined) {
			keyOfEndpoint.set(entry.endpoint, entry.publicKey);
		}

		if (entry.nodeId !== undefined) {
			keyOfId.set(entry.nodeId, entry.publicKey);
		}

		entries.push(entry);
	}

	return entries;
}

export class AllowList {
	readonly #idByKey = new Map<string, string | undefined>();
	readonly #keyById = new Map<string, string>();
	readonly #keyByEndpoint = new Map<string, string>();
	readonly #operators = new Set<string>();

	constructor(readonly entries: readonly AllowEntry[]) {
		for (const entry of entries) {
			if (entry.role === 'operator') {
				this.#operators.add(entry.publicKey);
			}

			const knownId = this.#idByKey.get(entry.publicKey);
			this.#idByKey.set(entry.publicKey, knownId ?? entry.nodeId);
			if (entry.nodeId !== undefined && !this.#keyById.has(entry.nodeId)) {
				this.#keyById.set(entry.nodeId, entry.publicKey);
			}

			if (entry.endpoint !== undefined && !this.#keyByEndpoint.has(entry.endpoint)) {
				this.#keyByEndpoint.set(entry.endpoint, entry.publicKey);
			}
		}
	}

	get size(): number {
		return this.#idByKey.size;
	}

	allows(publicKey: string): boolean {
		return this.#idByKey.has(publicKey);
	}

	/** Whether a key may send the control plane's write ops (any of its lines says role=operator). */
	isOperator(publicKey: string): boolean {
		return this.#operators.has(publicKey);
	}

	/** The server key to pin when subscribing to an endpoint. */
	serverKeyFor(endpoint: string): string | undefined {
		return this.#keyByEndpoint.get(endpoint);
	}

	/** Whether the holder of `publicKey` may publish as `nodeId`. */
	mayClaim(publicKey: string, nodeId: string): boolean {
		const boundId = this.#idByKey.get(publicKey);
		if (boundId !== undefined) {
			return boundId === nodeId;
		}

		const owner = this.#keyById.get(nodeId);
		return owner === undefined || owner === publicKey;
	}
}
