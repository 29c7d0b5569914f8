/**
`chorus-tui ctl <control-endpoint> <op> [args]`: send one control request, print the reply as JSON.
Exit 0 on an ok reply, 1 on an error reply or no reply, 2 on bad input (one line naming it).
*/

import {readFileSync} from 'node:fs';
import process from 'node:process';
import {parseArgs} from 'node:util';
import {ControlTimeoutError, controlRequest, type ControlCurve, type ControlRequestBody} from '../cluster/control/client.js';
import {ConfigError, parseEndpoint} from '../config.js';
import {parseSecretKeyFile} from '../mesh/security/curve/keys.js';
import {isCurveKey} from '../mesh/security/curve/z85.js';
import {readAllowList} from '../session/curve-files.js';

export const CTL_USAGE = `Usage: chorus-tui ctl <control-endpoint|port> <op> [args]

  members [--offset n] [--limit n]          every member this node knows
  view [--offset n] [--limit n]             the node's state and a page of its peer table
  fault [--target <peer|all>] [--drop p] [--delay ms] [--jitter ms] [--duplicate p] [--blackhole] [--lease s]
  fault --outbound [--drop p] [--delay ms] [--jitter ms] [--lease s]
  fault --link <peer> [--off] [--lease s]   blackhole (or, --off, restore) what comes from one peer
  clear                                     every fault off
  stop                                      the node exits cleanly
  join --node <id> --endpoint <tcp://host:port> [--control <tcp://host:port>] [--incarnation ms]

  --lease <s>      the fault's lease (default: the node's --fault-lease; 0: no expiry)
  --timeout <s>    how long to wait for the reply (default 3)
  CURVE: --curve-secret-key-file <file> and --server-key <key>, or --allow <file> listing the node
         (its control endpoint, or its data endpoint on the port below)
`;

class UsageError extends Error {}

const OPTIONS = {
	offset: {type: 'string'},
	limit: {type: 'string'},
	target: {type: 'string'},
	drop: {type: 'string'},
	delay: {type: 'string'},
	jitter: {type: 'string'},
	duplicate: {type: 'string'},
	blackhole: {type: 'boolean'},
	outbound: {type: 'boolean'},
	link: {type: 'string'},
	off: {type: 'boolean'},
	lease: {type: 'string'},
	node: {type: 'string'},
	endpoint: {type: 'string'},
	control: {type: 'string'},
	incarnation: {type: 'string'},
	timeout: {type: 'string'},
	'curve-secret-key-file': {type: 'string'},
	'server-key': {type: 'string'},
	allow: {type: 'string'},
	help: {type: 'boolean'},
} as const;

type Values = Partial<Record<keyof typeof OPTIONS, string | boolean>>;

function number(values: Values, name: keyof typeof OPTIONS, min: number, max: number): number | undefined {
	const text = values[name];
	if (text === undefined) {
		return undefined;
	}

	const value = Number(text);
	if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
		throw new UsageError(`--${name}: '${String(text)}' must be a number from ${min} to ${max}`);
	}

	return value;
}

function faultFields(values: Values, inbound: boolean): Record<string, number | boolean> {
	const fields: Record<string, number | boolean | undefined> = {
		drop: number(values, 'drop', 0, 1),
		delayMs: number(values, 'delay', 0, 60_000),
		jitterMs: number(values, 'jitter', 0, 60_000),
	};
	if (inbound) {
		fields['duplicate'] = number(values, 'duplicate', 0, 1);
		fields['blackhole'] = values.blackhole === true ? true : undefined;
	} else if (values.duplicate !== undefined || values.blackhole !== undefined) {
		throw new UsageError('--outbound takes --drop, --delay and --jitter only');
	}

	const set = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Record<string, number | boolean>;
	if (Object.keys(set).length === 0) {
		throw new UsageError('fault: say what to set, e.g. --drop 0.3 (or use clear)');
	}

	return set;
}

/** The request body for an op and its flags; throws a UsageError for anything wrong. */
export function ctlRequestBody(op: string, values: Values): ControlRequestBody {
	const leaseS = number(values, 'lease', 0, 86_400);
	const lease = leaseS === undefined ? {} : {leaseMs: Math.round(leaseS * 1000)};
	switch (op) {
		case 'members':
		case 'view': {
			const offset = number(values, 'offset', 0, Number.MAX_SAFE_INTEGER);
			const limit = number(values, 'limit', 1, 100_000);
			return {op, ...(offset === undefined ? {} : {offset: Math.floor(offset)}), ...(limit === undefined ? {} : {limit: Math.floor(limit)})};
		}

		case 'fault': {
			if (typeof values.link === 'string') {
				const link: ControlRequestBody = {op, direction: 'link', peer: values.link, blackhole: values.off !== true, ...lease};
				return link;
			}

			if (values.outbound === true) {
				const outbound: ControlRequestBody = {op, direction: 'outbound', fault: faultFields(values, false), ...lease};
				return outbound;
			}

			const target = typeof values.target === 'string' ? values.target : 'all';
			const inbound: ControlRequestBody = {op, direction: 'inbound', target, fault: faultFields(values, true), ...lease};
			return inbound;
		}

		case 'clear':
		case 'stop': {
			return {op};
		}

		case 'join': {
			if (typeof values.node !== 'string' || typeof values.endpoint !== 'string') {
				throw new UsageError('join needs --node <id> and --endpoint <tcp://host:port>');
			}

			const incarnation = number(values, 'incarnation', 0, Number.MAX_SAFE_INTEGER) ?? 0;
			return {
				op,
				node: values.node,
				endpoint: parseEndpoint(values.endpoint, '--endpoint'),
				...(typeof values.control === 'string' ? {control: parseEndpoint(values.control, '--control')} : {}),
				incarnation,
			};
		}

		default: {
			throw new UsageError(`unknown op '${op}'; one of members, view, fault, clear, stop, join (chorus-tui ctl --help)`);
		}
	}
}

/** CURVE keys from the flags: ours from the secret key file, the node's from --server-key or the allow file. */
function curveFromFlags(values: Values, endpoint: string): ControlCurve | undefined {
	const secretFile = values['curve-secret-key-file'];
	if (secretFile === undefined) {
		if (values['server-key'] !== undefined || values.allow !== undefined) {
			throw new UsageError('--server-key and --allow need --curve-secret-key-file <file> too');
		}

		return undefined;
	}

	let keys;
	try {
		keys = parseSecretKeyFile(readFileSync(String(secretFile), 'utf8'));
	} catch (error) {
		throw new UsageError(`--curve-secret-key-file: ${String(secretFile)} ${(error as Error).message}`);
	}

	const given = values['server-key'];
	if (typeof given === 'string') {
		if (!isCurveKey(given)) {
			throw new UsageError('--server-key: expected a 40-character Z85 public key');
		}

		return {...keys, serverKey: given};
	}

	if (typeof values.allow !== 'string') {
		throw new UsageError('with --curve-secret-key-file, give the node\'s key: --server-key <key> or --allow <file>');
	}

	const allow = readAllowList(values.allow);
	// The control endpoint's own line, or the node's data endpoint on the port below (the default layout).
	const match = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint);
	const dataEndpoint = match === null ? undefined : `tcp://${match[1]!}:${Number(match[2]) - 1}`;
	const serverKey = allow.serverKeyFor(endpoint) ?? (dataEndpoint === undefined ? undefined : allow.serverKeyFor(dataEndpoint));
	if (serverKey === undefined) {
		throw new UsageError(`--allow: ${values.allow} lists no key for ${endpoint}${dataEndpoint === undefined ? '' : ` or ${dataEndpoint}`}; use --server-key <key>`);
	}

	return {...keys, serverKey};
}

/**
A Z85 key may begin with '-' (one key in 85), which parseArgs would take for an option and refuse
as ambiguous; a key after --server-key is joined to it as `--server-key=<key>`, as the user meant.
*/
function withKeysAttached(args: readonly string[]): string[] {
	const attached: string[] = [];
	for (let index = 0; index < args.length; index++) {
		const next = args[index + 1];
		if (args[index] === '--server-key' && next !== undefined && isCurveKey(next)) {
			attached.push(`--server-key=${next}`);
			index++;
		} else {
			attached.push(args[index]!);
		}
	}

	return attached;
}

/** Resolves with the exit code. */
export async function runCtl(args: readonly string[]): Promise<number> {
	let endpoint: string;
	let body: ControlRequestBody;
	let curve: ControlCurve | undefined;
	let timeoutMs: number;
	try {
		const {values, positionals} = parseArgs({args: withKeysAttached(args), options: OPTIONS, allowPositionals: true, strict: true});
		if (values.help === true || positionals.length === 0) {
			process.stdout.write(CTL_USAGE);
			return values.help === true ? 0 : 2;
		}

		if (positionals.length !== 2) {
			throw new UsageError(`expected <control-endpoint> <op>, got ${positionals.length === 1 ? 'no op' : `extra arguments: ${positionals.slice(2).join(' ')}`}`);
		}

		endpoint = parseEndpoint(positionals[0]!, 'control-endpoint');
		const valuesWithKebab: Values = values;
		body = ctlRequestBody(positionals[1]!, valuesWithKebab);
		curve = curveFromFlags(valuesWithKebab, endpoint);
		timeoutMs = Math.round((number(valuesWithKebab, 'timeout', 0.05, 600) ?? 3) * 1000);
	} catch (error) {
		if (error instanceof UsageError || error instanceof ConfigError || (error as {code?: string}).code?.startsWith('ERR_PARSE_ARGS')) {
			process.stderr.write(`chorus-tui ctl: ${(error as Error).message.split('\n')[0]!}\n`);
			return 2;
		}

		throw error;
	}

	try {
		const reply = await controlRequest(endpoint, body, {timeoutMs, curve});
		process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
		return reply.ok ? 0 : 1;
	} catch (error) {
		if (error instanceof ControlTimeoutError) {
			process.stderr.write(`chorus-tui ctl: ${error.message} (is the node running, is this its control endpoint, is your key listed?)\n`);
			return 1;
		}

		throw error;
	}
}
