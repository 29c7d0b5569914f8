/**
The command line's words: flags by name, the rest as input. Validation is config.ts's.

Parsed with Node's own `util.parseArgs`, not meow. meow was the parser until start-up became a
target (issue 18): its bundle initialises normalize-package-data when it loads, whatever the mode,
which cost every process about 40 ms of CPU before its first snapshot and 2.3 MiB of resident ICU
collation data (bench/optimizations.md, "Start-up"). What meow gave besides parsing, --help,
--version and the process title, is a few lines in cli.tsx. `ctl` already used parseArgs.
*/

import {parseArgs} from 'node:util';
import type {RawFlags} from './config.js';

/** Flags of every mode, by their camelCase name. Numbers stay text so that errors quote what was typed. */
const KNOWN_FLAGS = {
	bind: 'string',
	peer: 'strings',
	id: 'string',
	ttl: 'string',
	hz: 'string',
	coupling: 'string',
	noise: 'string',
	omega: 'string',
	demo: 'string',
	headless: 'boolean',
	readonly: 'boolean',
	record: 'string',
	screenshotDir: 'string',
	// replay's own flags.
	speed: 'string',
	cast: 'string',
	color: 'boolean',
	noColor: 'boolean',
	reportMs: 'string',
	maxPeers: 'string',
	maxLamportJump: 'string',
	seed: 'string',
	scenario: 'string',
	legacyAdmission: 'boolean',
	curveSecretKeyFile: 'string',
	allow: 'string',
	maxMessageBytes: 'string',
	hwm: 'string',
	maxConnections: 'string',
	maxPeerRate: 'string',
	engine: 'string',
	metrics: 'string',
	metricsPeerLabels: 'boolean',
	join: 'strings',
	gossipInterval: 'string',
	reconnectTimeout: 'string',
	fanout: 'string',
	json: 'boolean',
	control: 'string',
	noControl: 'boolean',
	faultLease: 'string',
	observe: 'boolean',
	advertise: 'string',
	help: 'boolean',
	version: 'boolean',
} as const satisfies Record<string, FlagKind>;

type FlagKind = 'string' | 'strings' | 'boolean';

/** Whether a value parseArgs handed over is what a flag of that kind takes. */
const IS_KIND: Record<FlagKind, (value: unknown) => boolean> = {
	boolean: (value) => typeof value === 'boolean',
	string: (value) => typeof value === 'string',
	strings: (value) => Array.isArray(value) && value.every((item) => typeof item === 'string'),
};

export type CommandLineFlags = RawFlags & {
	speed?: string;
	cast?: string;
	json?: boolean;
	help?: boolean;
	version?: boolean;
};

export type CommandLine = {
	flags: CommandLineFlags;
	/** Words that are not flags: a subcommand and its arguments, or the positional ports. */
	input: string[];
	/**
	The first flag that is not one of ours, as typed (`--tll`, `-x`); undefined when there is none.
	Reported by the caller, after it knows the mode: `ctl` has flags of its own.
	*/
	unknownFlag: string | undefined;
	/** One line on the first of our flags given without the value it needs, or with one it does not take. */
	misuse: string | undefined;
};

const kebab = (name: string) => name.replaceAll(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
const camel = (name: string) => name.replaceAll(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

const PARSE_OPTIONS = Object.fromEntries(Object.entries(KNOWN_FLAGS).map(([name, kind]) => [
	kebab(name),
	kind === 'boolean' ? {type: 'boolean' as const} : {type: 'string' as const, multiple: kind === 'strings'},
]));

/**
Not strict: an unknown flag is kept so that it can be named, and a value that begins with '-' is
taken as the value of the flag before it (`--omega -1.5`), as meow did.
*/
export function parseCommandLine(argv: readonly string[]): CommandLine {
	const {values, positionals} = parseArgs({args: [...argv], options: PARSE_OPTIONS, strict: false, allowPositionals: true});
	const flags: Record<string, unknown> = {};
	let unknownFlag: string | undefined;
	let misuse: string | undefined;
	for (const [typed, value] of Object.entries(values)) {
		const name = camel(typed);
		const kind = (KNOWN_FLAGS as Record<string, FlagKind>)[name];
		if (kind === undefined) {
			unknownFlag ??= typed.length === 1 ? `-${typed}` : `--${typed}`;
			continue;
		}

		// Not strict, parseArgs hands over `--bind` without a value as true, and `--headless=x` as text.
		if (!IS_KIND[kind](value)) {
			misuse ??= `--${typed} ${kind === 'boolean' ? 'takes no value' : 'needs a value'}`;
			continue;
		}

		flags[name] = value;
	}

	// `--no-color` and `--no-control` turn off what is on by default.
	const {noColor, noControl, ...rest} = flags as CommandLineFlags & {noColor?: boolean; noControl?: boolean};
	const commandLine: CommandLineFlags = {...rest, color: noColor === true ? false : (rest.color ?? true)};
	if (noControl === true) {
		commandLine.control = false;
	}

	return {flags: commandLine, input: positionals, unknownFlag, misuse};
}
