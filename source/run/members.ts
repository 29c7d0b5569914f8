/**
`chorus-tui members --join <endpoint> [--json]`: print the mesh's members and exit, as Serf's
`members` does. The endpoint is any member's data endpoint (or `dns:NAME:PORT`): we hear one of its
messages to learn its control endpoint, then ask that for `members`. With CURVE (the same flags as
a node) both steps are encrypted, and the keys come from the allow file.
*/

import process from 'node:process';
import type * as Zeromq from 'zeromq';
import {ControlClient, type ControlCurve} from '../cluster/control/client.js';
import {endpointRefusal} from '../cluster/membership/endpoints.js';
import {allowedSeeds, createSeedResolver, parseJoinTarget, resolveSeeds} from '../cluster/membership/seeds.js';
import type {KnownMember} from '../cluster/membership/member-table.js';
import {ConfigError, resolveConfig, type RawFlags} from '../config.js';
import type {CurveOptions} from '../mesh/security/screening.js';
import {loadCurve} from '../session/curve-files.js';

export type MembersFlags = Pick<RawFlags, 'join' | 'curveSecretKeyFile' | 'allow'> & {json?: boolean};

/** How long we listen to one seed for a message that names its control endpoint. */
const HEAR_TIMEOUT_MS = 3000;
const REQUEST_TIMEOUT_MS = 3000;
/** Pages of members we ask for at most (2,000 members a page at most): a bound, whatever the server says. */
const MAX_PAGES = 64;
/** Control characters (C0, DEL, C1, bidi overrides) from the network are shown escaped, never written raw. */
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

type Output = {stdout: (text: string) => void; stderr: (text: string) => void};

const processOutput: Output = {
	stdout(text) {
		process.stdout.write(text);
	},
	stderr(text) {
		process.stderr.write(text);
	},
};

/**
Run the subcommand; resolves with the exit code: 0 with the members printed, 1 when no seed
answered, 2 for bad input (one line).
*/
export async function runMembers(args: readonly string[], flags: MembersFlags, output: Output = processOutput): Promise<number> {
	const fail = (message: string, code: number) => {
		output.stderr(`chorus-tui members: ${message}\n`);
		return code;
	};

	if (args.length > 0) {
		return fail(`unexpected argument '${args[0]}'; usage: chorus-tui members --join <endpoint|dns:NAME:PORT> [--json]`, 2);
	}

	const joins = flags.join ?? [];
	if (joins.length === 0) {
		return fail('needs --join <endpoint|dns:NAME:PORT>: the data endpoint of any member', 2);
	}

	let curve: CurveOptions | undefined;
	const seeds: string[] = [];
	try {
		// The node's own validation of the CURVE flags, so that both read the same files the same way.
		const config = resolveConfig({curveSecretKeyFile: flags.curveSecretKeyFile, allow: flags.allow, demo: '0', join: joins});
		curve = loadCurve(config);
		for (const text of config.joins) {
			const target = parseJoinTarget(text);
			if (target.kind === 'endpoint') {
				seeds.push(target.endpoint);
			} else {
				const resolver = createSeedResolver();
				// eslint-disable-next-line no-await-in-loop -- few names.
				const endpoints = await resolveSeeds(resolver, target.name, target.port);
				const allow = curve?.allow;
				// With CURVE, as a node does: addresses the allow file does not list are looked up for names it does (PTR).
				// eslint-disable-next-line no-await-in-loop -- as above.
				seeds.push(...(allow === undefined ? endpoints : await allowedSeeds(resolver, endpoints, (endpoint) => allow.serverKeyFor(endpoint) !== undefined)));
			}
		}
	} catch (error) {
		return fail((error as Error).message, error instanceof ConfigError ? 2 : 1);
	}

	const zeromq = await import('zeromq');
	const client = new ControlClient({timeoutMs: REQUEST_TIMEOUT_MS, maxSockets: 4, curve: curve === undefined ? undefined : (endpoint) => controlCurve(curve, endpoint, seeds)});
	const problems: string[] = [];
	try {
		for (const seed of seeds) {
			// eslint-disable-next-line no-await-in-loop -- one seed at a time: the first that answers is enough.
			const control = await hearControlEndpoint(zeromq, seed, curve);
			if (typeof control !== 'string') {
				problems.push(`${seed}: ${control.problem}`);
				continue;
			}

			try {
				// eslint-disable-next-line no-await-in-loop -- as above.
				const members = await fetchMembers(client, control);
				if (!Array.isArray(members)) {
					problems.push(`${control}: ${members.problem}`);
					continue;
				}

				output.stdout(flags.json ? `${JSON.stringify({members, from: control})}\n` : formatTable(members));
				return 0;
			} catch (error) {
				problems.push(`${control}: ${(error as Error).message}`);
			}
		}
	} finally {
		await client.close();
	}

	return fail(`no member answered: ${problems.join('; ')}`, 1);
}

/** Every member, a page at a time (a reply is capped; `truncated` says more remain). */
async function fetchMembers(client: ControlClient, control: string): Promise<KnownMember[] | {problem: string}> {
	const members: KnownMember[] = [];
	for (let page = 0; page < MAX_PAGES; page++) {
		// eslint-disable-next-line no-await-in-loop -- each page starts where the last one ended.
		const reply = await client.request(control, {op: 'members', offset: members.length});
		if (!reply.ok) {
			return {problem: `${reply.error}: ${reply.message}`};
		}

		const got = Array.isArray(reply['members']) ? (reply['members'] as KnownMember[]) : [];
		members.push(...got.map((member) => withCoupled(member)));
		if (reply['truncated'] !== true || got.length === 0) {
			break;
		}
	}

	return members;
}

/** The server key of a control endpoint: listed for it, or for the data endpoint on the same host (the seed's). */
function controlCurve(curve: CurveOptions, endpoint: string, seeds: readonly string[]): ControlCurve | undefined {
	const host = endpoint.replace(/:\d+$/, '');
	const serverKey = curve.allow.serverKeyFor(endpoint) ?? seeds.filter((seed) => seed.replace(/:\d+$/, '') === host).map((seed) => curve.allow.serverKeyFor(seed)).find(Boolean);
	return serverKey === undefined ? undefined : {publicKey: curve.publicKey, secretKey: curve.secretKey, serverKey};
}

/** Subscribe to a data endpoint and read messages until one names a control endpoint. */
async function hearControlEndpoint(zeromq: typeof Zeromq, endpoint: string, curve: CurveOptions | undefined): Promise<string | {problem: string}> {
	const serverKey = curve?.allow.serverKeyFor(endpoint);
	if (curve !== undefined && serverKey === undefined) {
		return {problem: 'CURVE is on and the allow file gives no key for it (a line `<key> <id> ' + endpoint + '`)'};
	}

	const subscriber = new zeromq.Subscriber({
		linger: 0,
		maxMessageSize: 64 * 1024,
		receiveTimeout: 250,
		...(curve === undefined ? {} : {curveServerKey: serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey}),
	});
	try {
		subscriber.connect(endpoint);
		subscriber.subscribe();
		const deadline = performance.now() + HEAR_TIMEOUT_MS;
		let heard = 0;
		while (performance.now() < deadline) {
			let frames: Buffer[];
			try {
				// eslint-disable-next-line no-await-in-loop -- one message at a time, until one will do.
				frames = await subscriber.receive();
			} catch {
				continue;
			}

			heard++;
			const control = controlOf(frames.at(-1));
			if (control !== undefined) {
				return control;
			}
		}

		return {problem: heard === 0 ? `no message within ${HEAR_TIMEOUT_MS} ms (is a node publishing there?)` : `${heard} messages and none names a control endpoint (a legacy node, or one with --no-control)`};
	} finally {
		subscriber.close();
	}
}

function controlOf(frame: Buffer | undefined): string | undefined {
	try {
		const message = JSON.parse(frame?.toString('utf8') ?? '') as {control?: unknown};
		return endpointRefusal(message.control) === undefined ? (message.control as string) : undefined;
	} catch {
		return undefined;
	}
}

function safe(text: unknown): string {
	return String(text).replaceAll(UNSAFE, (character) => {
		const code = character.codePointAt(0)!;
		return code <= 0xFF ? String.raw`\x` + code.toString(16).padStart(2, '0') : String.raw`\u` + code.toString(16).padStart(4, '0');
	});
}

/**
`coupled` as the answering node says it (`--fanout`: true when it holds the member's data link and hears it,
false when it only knows the member), or left out: the node itself, an observer, a node from before fan-out,
or anything but a boolean (the network is not trusted to say it right).
*/
function withCoupled(member: KnownMember): KnownMember {
	// Not an object (a hostile or broken reply): passed on as it came, as every other field is.
	const said = (member as KnownMember | undefined)?.coupled;
	if (said === undefined || typeof said === 'boolean') {
		return member;
	}

	const {coupled, ...rest} = member;
	return rest;
}

/**
Serf's `members` table: one member a line, aligned columns. COUPLED says whether the answering node couples
to the member (yes), only knows it (no, `--fanout`), or does not say (blank: itself, an observer, an older
node); KIND says chorus, legacy or observer (`--observe`: listed, never subscribed to).
*/
export function formatTable(members: readonly KnownMember[]): string {
	const header = ['ID', 'STATE', 'COUPLED', 'DATA', 'CONTROL', 'INCARNATION', 'KIND'];
	const rows = members.map((member) => [
		safe(member.id),
		safe(member.state),
		member.coupled === true ? 'yes' : (member.coupled === false ? 'no' : ''),
		safe(member.endpoint),
		safe(member.control ?? '-'),
		safe(member.incarnation),
		member.observer === true ? 'observer' : (member.legacy ? 'legacy' : 'chorus'),
	]);
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
	const line = (cells: string[]) => `${cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')}\n`;
	return [line(header), ...rows.map((row) => line(row))].join('');
}
