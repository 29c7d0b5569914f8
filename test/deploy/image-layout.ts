/**
The container image, without a container runtime: a directory laid out as the Dockerfile's runtime
stage lays out /app (dist, packages/zmtp/dist and its package.json, package.json, and node_modules
installed the way the `deps` stage installs them: `npm ci --omit=dev --ignore-scripts`), and the
image's command line, environment and user read from the Dockerfile itself.

`containerCommand` runs that command line as a plain process in a network namespace: a private
mount namespace binds the staged directory over /app (so the absolute paths in ENTRYPOINT are the
image's), the working directory is WORKDIR, the environment is exactly ENV plus what Docker adds
(PATH, HOSTNAME, HOME), and the user is USER's numbers through setpriv, with no supplementary
groups and no capabilities.
*/

import {execFile} from 'node:child_process';
import {chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {promisify} from 'node:util';
import {lastInstruction, ROOT, runtimeStage} from './manifests.js';

const run = promisify(execFile);

/** Where the image keeps the app (the Dockerfile's WORKDIR and the ENTRYPOINT's path). */
export const APP_DIRECTORY = '/app';

/** PATH as the node:20 images set it. */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export type Image = {
	/** The staged /app. */
	directory: string;
	user: {uid: number; gid: number};
	workdir: string;
	entrypoint: string[];
	command: string[];
	/** The HEALTHCHECK's command (exec form). */
	healthcheck: string[];
	environment: Record<string, string>;
	remove(): void;
};

/** Build the staged /app from this checkout's build (dist must be current: `npm run build`). */
export async function stageImage(): Promise<Image> {
	const root = mkdtempSync(path.join(tmpdir(), 'chorus-image-'));
	const directory = path.join(root, 'app');
	mkdirSync(path.join(directory, 'packages/zmtp'), {recursive: true});
	for (const file of ['package.json', 'package-lock.json']) {
		cpSync(path.join(ROOT, file), path.join(directory, file));
	}

	cpSync(path.join(ROOT, 'packages/zmtp/package.json'), path.join(directory, 'packages/zmtp/package.json'));
	// The `deps` stage's own command, from npm's cache where it can.
	await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {cwd: directory, maxBuffer: 16 * 1024 * 1024});
	// The runtime stage has no lock file: only what it copies.
	rmSync(path.join(directory, 'package-lock.json'));
	cpSync(path.join(ROOT, 'dist'), path.join(directory, 'dist'), {recursive: true});
	cpSync(path.join(ROOT, 'packages/zmtp/dist'), path.join(directory, 'packages/zmtp/dist'), {recursive: true});
	// Files in an image are root's and world-readable; the node's user only reads them.
	chmodSync(root, 0o755);
	await run('chmod', ['-R', 'a+rX,go-w', directory]);

	const [uid, gid] = lastInstruction('USER')!.args.split(':').map(Number);
	const environment: Record<string, string> = {};
	for (const instruction of runtimeStage().instructions.filter((entry) => entry.keyword === 'ENV')) {
		const [name, ...value] = instruction.args.split('=');
		environment[name!] = value.join('=');
	}

	return {
		directory,
		user: {uid: uid!, gid: gid!},
		workdir: lastInstruction('WORKDIR')!.args,
		entrypoint: lastInstruction('ENTRYPOINT')!.json!,
		command: lastInstruction('CMD')!.json!,
		healthcheck: lastInstruction('HEALTHCHECK')!.json!,
		environment,
		remove() {
			rmSync(root, {recursive: true, force: true});
		},
	};
}

/**
/app must exist as a mount point; a private mount namespace then binds the staged directory over
it, seen by that process only. Returns a function that removes /app again if it was made here.
*/
export function ensureMountPoint(): () => void {
	if (existsSync(APP_DIRECTORY)) {
		return () => {};
	}

	mkdirSync(APP_DIRECTORY, {mode: 0o755});
	return () => {
		if (readdirSync(APP_DIRECTORY).length === 0) {
			rmdirSync(APP_DIRECTORY);
		}
	};
}

/**
The argv that runs `argv` as the container would: in `namespace`, with /app bound, in WORKDIR, as
the image's user, with the image's environment only. `timeout` bounds its life (seconds).
*/
export function containerCommand(image: Image, namespace: string, argv: readonly string[], lifetimeS = 300): string[] {
	const environment = {PATH: IMAGE_PATH, HOSTNAME: 'chorus', HOME: '/nonexistent', ...image.environment};
	return [
		'ip', 'netns', 'exec', namespace,
		'unshare', '--mount', '--propagation', 'private', '--',
		'sh', '-c', 'mount --bind "$0" "$1" && cd "$2" && shift 2 && exec "$@"', image.directory, APP_DIRECTORY, image.workdir,
		'setpriv', `--reuid=${image.user.uid}`, `--regid=${image.user.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--',
		'env', '-i', ...Object.entries(environment).map(([name, value]) => `${name}=${value}`),
		'timeout', '--kill-after=2', String(lifetimeS),
		// The image runs `node` from its PATH; here, the node running the tests.
		...argv.map((word, index) => (index === 0 && word === 'node' ? process.execPath : word)),
	];
}
