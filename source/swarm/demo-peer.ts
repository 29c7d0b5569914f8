/**
One demo peer: a `chorus-tui --headless --demo 0` child process with a fixed id and port, and the
control channel to it. Kill, pause, resume and restart act on the real process; a restart is a new
process with the same id and port, hence a new incarnation.
*/

import {spawn, type ChildProcess} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import {createInterface} from 'node:readline';
import type {InboundFault} from '../mesh/model/fault-types.js';
import {CONTROL_ENV, isControlReply, type ControlCommand, type ControlReply, type ControlRequest} from './control.js';

/**
util-linux setpriv: `--pdeathsig KILL` makes the kernel SIGKILL the child when its parent dies,
whatever the way, and SIGKILL ends a stopped process too.
*/
export const SETPRIV_PATH = '/usr/bin/setpriv';

/**
Whether children can be tied to our life by the kernel. `CHORUS_DEMO_SETPRIV=0` turns it off, to
exercise the fallback (the child watches its IPC channel and its parent pid).
*/
export function setprivAvailable(): boolean {
	return process.platform === 'linux' && process.env['CHORUS_DEMO_SETPRIV'] !== '0' && existsSync(SETPRIV_PATH);
}

export type DemoPeerState = 'starting' | 'running' | 'paused' | 'killed' | 'exited' | 'stopped';

export type DemoPeerInfo = {
	id: string;
	endpoint: string;
	state: DemoPeerState;
	/** The current (or last) process id. */
	pid?: number;
	/** The incarnation the child reported when it was last ready. */
	incarnation?: number;
	/** How many times the peer was started after the first time. */
	restarts: number;
};

export type DemoPeerEvent =
	| {kind: 'ready'; peer: string; pid: number; incarnation: number}
	| {kind: 'exited'; peer: string; pid: number; code: number | null; signal: NodeJS.Signals | null; expected: boolean; stderr: string}
	| {kind: 'line'; peer: string; line: Record<string, unknown>};

export type DemoPeerSpec = {
	id: string;
	endpoint: string;
	/** The CLI to run: dist/cli.js. */
	cliPath: string;
	/** Every other endpoint this peer subscribes to. */
	peerEndpoints: readonly string[];
	/** More flags for the child (--hz, --ttl, --seed ...). */
	extraArgs: readonly string[];
	/** Spawn through setpriv --pdeathsig when it exists (default: on Linux). */
	useSetpriv?: boolean;
	onEvent: (event: DemoPeerEvent) => void;
};

const STDERR_KEEP = 2000;
const GRACEFUL_STOP_MS = 2000;
/** How long pause and resume wait for the kernel to act on the signal. */
const SIGNAL_SETTLE_MS = 1000;
/** A child that is neither ready nor gone after this long is killed (a stuck start). */
const READY_TIMEOUT_MS = 30_000;

export class DemoPeer {
	readonly id: string;
	/** Where it publishes; changes only when its port was taken before its first start. */
	endpoint: string;
	/** The fault set on this peer; re-sent to every new incarnation. */
	fault: InboundFault | undefined;
	lastSnapshot: Record<string, unknown> | undefined;
	readonly #spec: DemoPeerSpec;
	#peerEndpoints: string[];
	#child: ChildProcess | undefined;
	#state: DemoPeerState = 'stopped';
	#pid: number | undefined;
	#incarnation: number | undefined;
	#starts = 0;
	#seq = 0;
	#expectExit = false;
	#stderr = '';
	readonly #pending = new Map<number, (reply: ControlReply & {type: 'ack'}) => void>();
	#exited: Promise<void> = Promise.resolve();

	constructor(spec: DemoPeerSpec) {
		this.#spec = spec;
		this.id = spec.id;
		this.endpoint = spec.endpoint;
		this.#peerEndpoints = [...spec.peerEndpoints];
	}

	get state(): DemoPeerState {
		return this.#state;
	}

	get pid(): number | undefined {
		return this.#pid;
	}

	get alive(): boolean {
		return this.#state === 'starting' || this.#state === 'running' || this.#state === 'paused';
	}

	get peerEndpoints(): readonly string[] {
		return this.#peerEndpoints;
	}

	info(): DemoPeerInfo {
		const info: DemoPeerInfo = {id: this.id, endpoint: this.endpoint, state: this.#state, restarts: Math.max(0, this.#starts - 1)};
		if (this.#pid !== undefined) {
			info.pid = this.#pid;
		}

		if (this.#incarnation !== undefined) {
			info.incarnation = this.#incarnation;
		}

		return info;
	}

	/** Start a process; resolves once its node is bound and ready, rejects if it exits first. */
	async start(): Promise<void> {
		if (this.alive) {
			throw new Error(`${this.id} is already running`);
		}

		const useSetpriv = this.#spec.useSetpriv ?? setprivAvailable();
		const nodeArgs = [
			this.#spec.cliPath,
			'--headless',
			'--demo',
			'0',
			'--id',
			this.id,
			'--bind',
			this.endpoint,
			...(this.#peerEndpoints.length > 0 ? ['--peer', this.#peerEndpoints.join(',')] : []),
			...this.#spec.extraArgs,
		];
		const child = useSetpriv
			? spawn(SETPRIV_PATH, ['--pdeathsig', 'KILL', '--', process.execPath, ...nodeArgs], this.#spawnOptions())
			: spawn(process.execPath, nodeArgs, this.#spawnOptions());
		this.#child = child;
		this.#state = 'starting';
		this.#expectExit = false;
		this.#stderr = '';
		this.#incarnation = undefined;
		this.#starts++;
		this.#pid = child.pid;

		createInterface({input: child.stdout!}).on('line', (text) => {
			this.#onLine(text);
		});
		child.stderr!.on('data', (chunk: Buffer) => {
			this.#stderr = (this.#stderr + chunk.toString()).slice(-STDERR_KEEP);
		});
		child.on('error', (error) => {
			// A process that could not be started emits no 'exit'; make one, so waiters are told.
			if (child.pid === undefined) {
				this.#stderr += `\ncannot start ${process.execPath}: ${error.message}`;
				child.emit('exit', null, null);
			}
		});
		child.channel?.unref?.();

		const readyTimer = setTimeout(() => {
			if (this.#child === child && this.#state === 'starting') {
				this.#stderr += `\nnot ready after ${READY_TIMEOUT_MS} ms; killed`;
				child.kill('SIGKILL');
			}
		}, READY_TIMEOUT_MS);
		readyTimer.unref();
		let resolveReady: () => void;
		let rejectReady: (error: Error) => void;
		const ready = new Promise<void>((resolve, reject) => {
			resolveReady = resolve;
			rejectReady = reject;
		});
		child.on('message', (message: unknown) => {
			if (!isControlReply(message) || this.#child !== child) {
				return;
			}

			if (message.type === 'ready') {
				this.#incarnation = message.incarnation;
				if (this.#state === 'starting') {
					this.#state = 'running';
				}

				clearTimeout(readyTimer);
				this.#spec.onEvent({kind: 'ready', peer: this.id, pid: message.pid, incarnation: message.incarnation});
				resolveReady();
			} else {
				this.#pending.get(message.seq)?.(message);
				this.#pending.delete(message.seq);
			}
		});
		this.#exited = new Promise<void>((resolve) => {
			child.once('exit', (code, signal) => {
				clearTimeout(readyTimer);
				const expected = this.#expectExit;
				if (this.#child === child) {
					this.#state = expected ? this.#state : 'exited';
					this.#child = undefined;
				}

				for (const settle of this.#pending.values()) {
					settle({type: 'ack', seq: -1, ok: false, error: `${this.id} exited`});
				}

				this.#pending.clear();
				const why = lastWords(this.#stderr);
				rejectReady(new Error(`${this.id} exited before it was ready (${signal ?? `code ${code}`})${why ? `: ${why}` : ''}`));
				this.#spec.onEvent({kind: 'exited', peer: this.id, pid: child.pid ?? -1, code, signal, expected, stderr: this.#stderr});
				resolve();
			});
		});
		return ready;
	}

	/** SIGKILL, and wait until the process is gone. */
	async kill(): Promise<void> {
		const child = this.#child;
		this.#state = 'killed';
		if (child === undefined) {
			return;
		}

		this.#expectExit = true;
		child.kill('SIGKILL');
		await this.#exited;
	}

	/** SIGSTOP; resolves once the process table shows it stopped (signals are delivered later). */
	async pause(): Promise<void> {
		if (this.#child === undefined || this.#state === 'paused') {
			return;
		}

		this.#child.kill('SIGSTOP');
		this.#state = 'paused';
		await this.#untilProcessState((state) => state === 'T');
	}

	/** SIGCONT; resolves once the process runs again. */
	async resume(): Promise<void> {
		if (this.#child === undefined || this.#state !== 'paused') {
			return;
		}

		this.#child.kill('SIGCONT');
		this.#state = this.#incarnation === undefined ? 'starting' : 'running';
		await this.#untilProcessState((state) => state !== 'T');
	}

	/** Poll /proc (Linux) until the state letter matches, the process is gone, or a second passed. */
	async #untilProcessState(matches: (state: string) => boolean): Promise<void> {
		const pid = this.#pid;
		if (pid === undefined || process.platform !== 'linux') {
			return;
		}

		const deadline = performance.now() + SIGNAL_SETTLE_MS;
		for (;;) {
			const state = processState(pid);
			if (state === undefined || matches(state) || performance.now() > deadline) {
				return;
			}

			// eslint-disable-next-line no-await-in-loop -- polling: each wait follows the last look.
			await new Promise((resolve) => {
				setTimeout(resolve, 5);
			});
		}
	}

	/** A new process with the same id and port (a new incarnation); kills the old one first. */
	async restart(): Promise<void> {
		if (this.alive) {
			await this.kill();
		}

		await this.start();
	}

	/** SIGTERM (after SIGCONT if paused), SIGKILL after a grace period. */
	async stop(): Promise<void> {
		const child = this.#child;
		if (child === undefined) {
			this.#state = 'stopped';
			return;
		}

		this.#expectExit = true;
		this.#state = 'stopped';
		child.kill('SIGCONT');
		child.kill('SIGTERM');
		const timer = setTimeout(() => child.kill('SIGKILL'), GRACEFUL_STOP_MS);
		await this.#exited;
		clearTimeout(timer);
	}

	/**
	Send a request over the control channel. Resolves with the child's answer; a paused child answers
	when it is resumed, so callers need not wait for it.
	*/
	async request(request: ControlCommand): Promise<{ok: boolean; error?: string}> {
		const child = this.#child;
		if (!child?.connected) {
			return {ok: false, error: `${this.id} is not running`};
		}

		const seq = ++this.#seq;
		return new Promise((resolve) => {
			this.#pending.set(seq, (reply) => {
				resolve(reply.ok ? {ok: true} : {ok: false, error: reply.error});
			});
			child.send({...request, seq}, (error) => {
				if (error) {
					this.#pending.delete(seq);
					resolve({ok: false, error: error.message});
				}
			});
		});
	}

	/** Change the peer list for future processes (and tell the running one). */
	replacePeerEndpoint(oldEndpoint: string, newEndpoint: string): void {
		this.#peerEndpoints = this.#peerEndpoints.map((endpoint) => (endpoint === oldEndpoint ? newEndpoint : endpoint));
		if (this.alive) {
			void this.request({type: 'remove-peer', endpoint: oldEndpoint});
			void this.request({type: 'add-peer', endpoint: newEndpoint});
		}
	}

	#spawnOptions() {
		return {
			stdio: ['ignore', 'pipe', 'pipe', 'ipc'] as ['ignore', 'pipe', 'pipe', 'ipc'],
			// A session of its own: Ctrl-C, Ctrl-Z and hangups in the operator's terminal reach only the
			// parent, which stops its demo peers itself (and the kernel kills them if it dies).
			detached: true,
			env: {...process.env, [CONTROL_ENV]: 'ipc', NO_COLOR: '1'},
			serialization: 'json' as const,
		};
	}

	#onLine(text: string): void {
		let line: Record<string, unknown>;
		try {
			line = JSON.parse(text) as Record<string, unknown>;
		} catch {
			return;
		}

		if (line['type'] === 'snapshot') {
			this.lastSnapshot = line;
		}

		this.#spec.onEvent({kind: 'line', peer: this.id, line});
	}
}

/** The line of a dead child's stderr that says why: our own one-line error, else the error itself. */
export function lastWords(stderr: string): string | undefined {
	const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('at ') && !line.startsWith('Node.js v'));
	return lines.find((line) => line.startsWith('chorus-tui:')) ?? lines.find((line) => /Error\b/.test(line)) ?? lines.at(-1);
}

/** The state letter of /proc/PID/stat (R, S, T, Z ...), or undefined when there is no such process. */
export function processState(pid: number): string | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
	} catch {
		return undefined;
	}
}
