/**
The local demo swarm: `demo-1` … `demo-n`, each a `chorus-tui --headless` child process on a free
loopback port, fully meshed with each other and with the embedded node (the hub).

All ports are picked before any child starts, so each child gets the full peer list on its command
line. Should a port be taken in the meantime, that child moves to a new port and the others (and
the hub, through `onEndpointMoved`) are told over the control channel.
*/

import {existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {DemoPeer, type DemoPeerEvent, type DemoPeerInfo} from './demo-peer.js';
import {pickFreePorts} from './ports.js';

export type SwarmOptions = {
	count: number;
	/** The embedded node's endpoint, which every demo peer subscribes to. */
	hubEndpoint: string;
	/** The CLI the children run (default: dist/cli.js of this package). */
	cliPath?: string;
	/** More flags for the child with this index (1-based). */
	extraArgs?: (index: number) => string[];
	/** Spawn through setpriv --pdeathsig (default: when /usr/bin/setpriv exists on Linux). */
	useSetpriv?: boolean;
	onEvent?: (event: DemoPeerEvent) => void;
	/** A demo peer had to move to another port before it first started. */
	onEndpointMoved?: (id: string, oldEndpoint: string, newEndpoint: string) => void;
};

/** How many times a child whose port was taken is moved to another. */
const PORT_RETRIES = 3;

export function demoPeerId(index: number): string {
	return `demo-${index}`;
}

/** dist/cli.js, found from dist/swarm/ (built) or source/swarm/ (tests run from source). */
export function defaultCliPath(): string {
	const here = path.dirname(fileURLToPath(import.meta.url));
	const candidates = [path.resolve(here, '../cli.js'), path.resolve(here, '../../dist/cli.js')];
	return candidates.find((candidate) => existsSync(candidate)) ?? candidates[1]!;
}

/** A hub bound to every interface is reached on loopback. */
export function reachableEndpoint(endpoint: string): string {
	return endpoint.replace(/^tcp:\/\/(\*|0\.0\.0\.0):/, 'tcp://127.0.0.1:').replace(/^tcp:\/\/\[(::|::0)\]:/, 'tcp://[::1]:');
}

export class DemoSwarm {
	readonly #options: SwarmOptions;
	readonly #peers = new Map<string, DemoPeer>();
	#stopped = false;

	private constructor(options: SwarmOptions, endpoints: string[]) {
		this.#options = options;
		const hub = reachableEndpoint(options.hubEndpoint);
		const cliPath = options.cliPath ?? defaultCliPath();
		for (const [offset, endpoint] of endpoints.entries()) {
			const index = offset + 1;
			const id = demoPeerId(index);
			this.#peers.set(
				id,
				new DemoPeer({
					id,
					endpoint,
					cliPath,
					peerEndpoints: [hub, ...endpoints.filter((other) => other !== endpoint)],
					extraArgs: options.extraArgs?.(index) ?? [],
					useSetpriv: options.useSetpriv,
					onEvent: (event) => options.onEvent?.(event),
				}),
			);
		}
	}

	/** Pick the ports; nothing runs until `startAll`. */
	static async create(options: SwarmOptions): Promise<DemoSwarm> {
		const ports = await pickFreePorts(options.count);
		return new DemoSwarm(options, ports.map((port) => `tcp://127.0.0.1:${port}`));
	}

	get peers(): DemoPeer[] {
		return [...this.#peers.values()];
	}

	get(id: string): DemoPeer | undefined {
		return this.#peers.get(id);
	}

	has(id: string): boolean {
		return this.#peers.has(id);
	}

	endpoints(): string[] {
		return this.peers.map((peer) => peer.endpoint);
	}

	info(): DemoPeerInfo[] {
		return this.peers.map((peer) => peer.info());
	}

	/** Start every peer at once; resolves when each is ready or has failed for good. */
	async startAll(): Promise<Array<{id: string; ok: boolean; error?: string}>> {
		return Promise.all(this.peers.map(async (peer) => this.#startWithRetries(peer)));
	}

	async #startWithRetries(peer: DemoPeer): Promise<{id: string; ok: boolean; error?: string}> {
		for (let attempt = 0; ; attempt++) {
			try {
				// eslint-disable-next-line no-await-in-loop -- a retry waits for the attempt before it.
				await peer.start();
				return {id: peer.id, ok: true};
			} catch (error) {
				const message = (error as Error).message;
				if (this.#stopped || attempt >= PORT_RETRIES || !message.includes('already in use')) {
					return {id: peer.id, ok: false, error: message};
				}

				// eslint-disable-next-line no-await-in-loop -- the new port is picked only after the old one failed.
				const [port] = await pickFreePorts(1);
				this.#move(peer, `tcp://127.0.0.1:${port!}`);
			}
		}
	}

	#move(peer: DemoPeer, newEndpoint: string): void {
		const oldEndpoint = peer.endpoint;
		peer.endpoint = newEndpoint;
		for (const other of this.peers) {
			if (other !== peer) {
				other.replacePeerEndpoint(oldEndpoint, newEndpoint);
			}
		}

		this.#options.onEndpointMoved?.(peer.id, oldEndpoint, newEndpoint);
	}

	async stopAll(): Promise<void> {
		this.#stopped = true;
		await Promise.all(this.peers.map(async (peer) => peer.stop()));
	}
}
