/**
Bundles the command (source/cli.tsx) into dist/cli.js and dist/chunks/, over tsc's dist/cli.js.

Why: a headless node used to load 83 of our modules one by one, and Node 20 spent about a third of
its start-up resolving, opening, reading and linking them (bench/optimizations.md, "Start-up").
One entry and a few shared chunks load in a fraction of that. Code splitting keeps each mode's
modules apart: Ink and React load only with the terminal UI, as before (test/footprint.test.ts).

What is not bundled: every package of `dependencies` but our own workspace engine (zeromq is native,
Ink and React are large and only for the UI). The library (dist/index.js) stays tsc's output.

All of it goes to dist/chunks/, the entry too, and dist/cli.js only imports the entry: code sees its
chunk's `import.meta.url`, and the few places that find files from there (package.json for the
version, dist/cli.js for demo peers) then look from as deep a folder as the ones tsc writes
(dist/report/, dist/swarm/), wherever esbuild puts the code.
*/

import {chmodSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {build} from 'esbuild';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const external = Object.keys(manifest.dependencies).filter((name) => !name.startsWith('@chorus-tui/'));

// Chunks are named by their hash: last build's would stay beside this one's.
rmSync('dist/chunks', {recursive: true, force: true});
await build({
	entryPoints: {'chunks/cli': 'source/cli.tsx'},
	outdir: 'dist',
	chunkNames: 'chunks/[name]-[hash]',
	bundle: true,
	splitting: true,
	format: 'esm',
	platform: 'node',
	target: 'node20',
	// Subpaths too (react/jsx-runtime).
	external: external.flatMap((name) => [name, `${name}/*`]),
	sourcemap: true,
	allowOverwrite: true,
	logLevel: 'warning',
});

writeFileSync('dist/cli.js', '#!/usr/bin/env node\nimport \'./chunks/cli.js\';\n');
chmodSync('dist/cli.js', 0o755);
rmSync('dist/cli.js.map', {force: true});
