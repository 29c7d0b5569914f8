/** Where things are, whether this runs from bench/ (type-check) or from dist-bench/bench/ (compiled). */

import {existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

function findRepoRoot(start: string): string {
	let directory = start;
	while (!existsSync(path.join(directory, 'package.json'))) {
		const parent = path.dirname(directory);
		if (parent === directory) {
			throw new Error(`no package.json above ${start}`);
		}

		directory = parent;
	}

	return directory;
}

export const REPO_ROOT = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
export const CLI_PATH = path.join(REPO_ROOT, 'dist', 'cli.js');
export const BENCH_SOURCE_DIR = path.join(REPO_ROOT, 'bench');
export const PYTHON_DIR = path.join(BENCH_SOURCE_DIR, 'python');
/** Compiled bench scripts (workers run as child processes from here). */
export const BENCH_DIST_DIR = path.join(REPO_ROOT, 'dist-bench', 'bench');
/** Debian's python3 with python3-zmq: the original node's stack. */
export const PYTHON = process.env['CHORUS_BENCH_PYTHON'] ?? '/usr/bin/python3';
