#!/usr/bin/env node
/**
The command line: parse flags, validate them in config.ts, then run the node headless or with the
terminal UI. Nothing else lives here.
*/

import {readFileSync} from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {ConfigError, DEFAULTS, resolveConfig} from './config.js';
import {parseCommandLine} from './flags.js';
import {runKeygen} from './run/keygen.js';
import {exposureWarning} from './mesh/security/screening.js';
import {metricsExposureWarning} from './report/metrics-exposure.js';
import {runHeadless} from './run/headless.js';

const HELP = `
	Usage
	  $ chorus-tui [options]
	  $ chorus-tui <bind-port> [peer-ports]      the original script's form: chorus-tui 5555 5556,5557
	  $ chorus-tui keygen <path>                 write a CURVE key pair: <path> (secret) and <path>.pub
	  $ chorus-tui replay <file> [--headless] [--speed x] [--cast out.cast]   play a --record file back
	  $ chorus-tui members --join <endpoint> [--json]   print the mesh's members and exit
	  $ chorus-tui ctl <control-endpoint> <op> [args]   send one control request, print the reply (ctl --help)

	Options
	  --bind <endpoint|port>    Where this node publishes (default ${DEFAULTS.bind})
	  --peer <endpoint|port>    A peer to subscribe to; repeat it or separate with commas
	  --id <name>               This node's id (default: 8 random hex digits)
	  --ttl <seconds>           Evict a peer silent this long (default ${DEFAULTS.ttlS})
	  --hz <rate>               Ticks and publishes per second (default ${DEFAULTS.hz})
	  --coupling <K>            Kuramoto coupling strength (default ${DEFAULTS.coupling})
	  --noise <sigma>           Phase noise (default ${DEFAULTS.noiseSigma})
	  --omega <rad/s>           Natural frequency (default 2π·0.5 plus a random offset)
	  --demo <n>                Local demo peers (default ${DEFAULTS.demoPeers} when no --peer is given)
	  --headless                No UI: NDJSON snapshots and events on stdout
	  --readonly                Terminal UI that only watches: every fault key is off
	  --no-color                A monochrome terminal UI (NO_COLOR is honoured too)
	  --record <file>           Record the session (snapshots, events, actions); gzip if it ends in .gz
	  --screenshot-dir <dir>    Where S writes screenshots (SVG and text; default the current directory)
	  --report-ms <ms>          Headless snapshot interval (default ${DEFAULTS.reportMs})
	  --max-peers <n>           Peer table bound (default ${DEFAULTS.maxPeers})
	  --max-lamport-jump <n>    Refuse Lamport leaps larger than this (default ${DEFAULTS.maxLamportJump})
	  --seed <n>                Seed the randomness, to reproduce a run
	  --scenario <file>         Play a timeline of faults and peer actions (.json, .yaml)
	  --legacy-admission        Behave like the original Python node (no TTL, last message wins)
	  --engine <name>           builtin (default): ZMTP in TypeScript for tcp://; libzmq: zeromq.js

	Security (see README, "Running across machines safely")
	  --curve-secret-key-file <file>  Encrypt and authenticate every connection with CURVE
	  --allow <file>            Keys allowed in, one a line: <public-key> [node-id|*] [endpoint]
	  --max-message-bytes <n>   Larger frames are refused (default ${DEFAULTS.maxMessageBytes})
	  --hwm <n>                 Messages queued per socket (default ${DEFAULTS.hwm})
	  --max-connections <n>     Connections our publisher holds at once (default ${DEFAULTS.maxConnections}: half the descriptors)
	  --max-peer-rate <n/s>     Rate of a peer that announces none; 10×hz if it does (default ${DEFAULTS.peerRatePerS})

	Membership (see README, "Joining a mesh across machines")
	  --join <endpoint|dns:NAME:PORT>  Join a running mesh through any member's data endpoint; repeatable
	  --gossip-interval <s>     Pull the member list from one random member this often (default ${DEFAULTS.gossipIntervalS}; up to 8 times less often while the mesh does not change)
	  --reconnect-timeout <s>   Redial a dead member this long, then forget it (default ${DEFAULTS.reconnectTimeoutS})
	  --fanout <k|all>          Subscribe to k members picked at random, and replace any that dies
	                            (default: a full mesh up to ${DEFAULTS.fanout.fullMeshUpTo} members, ${DEFAULTS.fanout.k} beyond; all: always full)
	  --observe                 Watch without publishing: listed as an observer, in no member's coupling
	                            sum (the way to watch a production mesh; with --join, --peer or --demo)
	  --advertise <host>        The host to announce in place of --bind's (data and control endpoints,
	                            join): a pod's DNS name, the name the allow file lists
	  --json                    members: print JSON instead of a table

	Control plane (see README, "The control protocol")
	  --control <endpoint|port> Where the control endpoint listens (default: the --bind host, port + 1;
	                            loopback only without CURVE)
	  --no-control              No control endpoint
	  --fault-lease <s>         A fault set through the control plane expires after this (default ${DEFAULTS.faultLeaseS}; 0: never)

	Metrics (see README, "Deploying")
	  --metrics <port|host:port>  Serve /metrics (Prometheus) and /healthz over HTTP; a port means 127.0.0.1
	  --metrics-peer-labels     Per-peer series too (first 64 peers by id; for small meshes)

	Examples
	  $ npx chorus-tui                               a live mesh with ${DEFAULTS.demoPeers} local demo peers
	  $ chorus-tui --bind 5555 --peer 5556,5557 --headless
`;

// What ps, top and pkill show, whichever path node was given.
process.title = 'chorus-tui';

function fail(message: string, exitCode: number): never {
	process.stderr.write(`chorus-tui: ${message}\n`);
	process.exit(exitCode);
}

/** The package's manifest, for --help and --version: found upwards from here (source/, dist/ or dist/chunks/). */
function packageManifest(): {version?: string; description?: string} {
	let directory = path.dirname(fileURLToPath(import.meta.url));
	for (;;) {
		try {
			const manifest = JSON.parse(readFileSync(path.join(directory, 'package.json'), 'utf8')) as {name?: string; version?: string; description?: string};
			if (manifest.name === 'chorus-tui') {
				return manifest;
			}
		} catch {
			// Not here; go up.
		}

		const parent = path.dirname(directory);
		if (parent === directory) {
			return {};
		}

		directory = parent;
	}
}

/** The help text's tab indentation becomes two spaces, under the package's description. */
function helpText(): string {
	const body = HELP.replaceAll(/^\t/gm, '  ').trim();
	return `\n  ${packageManifest().description ?? 'chorus-tui'}\n\n  ${body}\n\n`;
}

const cli = parseCommandLine(process.argv.slice(2));

try {
	if (cli.input[0] === 'ctl') {
		// Before the unknown-flag check: ctl has flags of its own (--target, --drop, --lease, …).
		const {runCtl} = await import('./run/ctl.js');
		process.exit(await runCtl(process.argv.slice(process.argv.indexOf('ctl') + 1)));
	}

	// Refuse typos instead of ignoring them: a mistyped --ttl would silently run with the default.
	if (cli.unknownFlag !== undefined) {
		fail(`unknown flag ${cli.unknownFlag}; see chorus-tui --help`, 2);
	}

	if (cli.misuse !== undefined) {
		fail(cli.misuse, 2);
	}

	if (cli.flags.help === true) {
		process.stdout.write(helpText());
		process.exit(0);
	}

	if (cli.flags.version === true) {
		process.stdout.write(`${packageManifest().version ?? 'unknown'}\n`);
		process.exit(0);
	}

	if (cli.input[0] === 'members') {
		// Loaded only here: a node never needs it.
		const {runMembers} = await import('./run/members.js');
		process.exit(await runMembers(cli.input.slice(1), cli.flags));
	}

	if (cli.input[0] === 'keygen') {
		// At once: the addon that made the keys has nothing left to do.
		process.exit(runKeygen(cli.input.slice(1)));
	}

	if (cli.input[0] === 'replay') {
		const {resolveReplayOptions, runReplay} = await import('./run/replay.js');
		const exitCode = await runReplay(resolveReplayOptions(cli.input.slice(1), cli.flags));
		// Whatever was streamed reaches the reader before the exit.
		await new Promise((resolve) => {
			process.stdout.write('', resolve);
		});
		process.exit(exitCode);
	}

	if (cli.flags.speed !== undefined || cli.flags.cast !== undefined) {
		fail(`${cli.flags.speed === undefined ? '--cast' : '--speed'} is a flag of chorus-tui replay <file>`, 2);
	}

	const config = resolveConfig(cli.flags, cli.input);
	const warning = exposureWarning(config.bindEndpoint, config.curve !== undefined);
	if (warning !== undefined) {
		process.stderr.write(`chorus-tui: warning: ${warning}\n`);
	}

	const metricsWarning = config.metrics === undefined ? undefined : metricsExposureWarning(config.metrics);
	if (metricsWarning !== undefined) {
		process.stderr.write(`chorus-tui: warning: ${metricsWarning}\n`);
	}

	if (config.headless) {
		process.exitCode = await runHeadless(config);
	} else {
		// Loaded only here, so that headless runs never load React. React's development build costs
		// several times the CPU per frame; it is chosen when React is first loaded, so say so before.
		process.env['NODE_ENV'] ??= 'production';
		const {runTui} = await import('./run/tui.js');
		process.exitCode = await runTui(config);
	}
} catch (error) {
	if (error instanceof ConfigError) {
		fail(error.message, 2);
	}

	fail((error as Error).message ?? String(error), 1);
}
