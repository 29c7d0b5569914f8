/**
`npm run media`: run the real chorus-tui in a pseudo-terminal at 80×24, drive it with keys as an
operator would, and render what the terminal shows to SVG: a still of the live screen with 6 demo
peers, stills of a peer draining and evicted under a fault, and an animated recording of a short
drop → kill → revive session. The same session is recorded (`--record`) and turned into an
asciinema v2 cast (`chorus-tui replay --cast`). Then the mesh view (mesh-media.ts): a still during a
halves partition, and an animation and a cast of partition, evictions, clear and heal.
Nothing here is drawn by hand. `npm run media -- stills|recording|mesh` makes one part.
*/

import {execFileSync} from 'node:child_process';
import {mkdir, mkdtemp, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {freePort} from '../../test/helpers/ports.js';
import {sleep, Term} from '../../test/helpers/term.js';
import {animatedSvg, stillSvg, type TimedScreen} from '../../source/ui/terminal/svg.js';
import {captureScreen, recordScreens} from './xterm-screen.js';
import {meshMedia} from './mesh-media.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Compiled to dist-bench/bench/media; the pictures go to the repository's media/.
const mediaDirectory = path.resolve(here, '../../../media');
const cliPath = path.resolve(here, '../../../dist/cli.js');

const COLUMNS = 80;
const ROWS = 24;

async function startTui(demoPeers: number, extraArgs: string[] = []): Promise<Term> {
	const term = new Term(['--bind', String(await freePort()), '--demo', String(demoPeers), '--seed', '7', ...extraArgs], {
		cliPath,
		columns: COLUMNS,
		rows: ROWS,
		env: {FORCE_COLOR: '3', COLORTERM: 'truecolor'},
	});
	const aliveRows = new RegExp(String.raw`(?:alive[^\n]*\n[^\n]*){${demoPeers - 1}}alive`);
	await term.waitFor((screen) => aliveRows.test(screen), 30_000, `${demoPeers} alive peers`);
	return term;
}

async function save(name: string, svg: string): Promise<void> {
	await writeFile(path.join(mediaDirectory, name), svg);
	console.log(`media/${name}  ${(svg.length / 1024).toFixed(0)} KiB`);
}

function rowOf(term: Term, id: string): string {
	// A table row starts with the selection mark or a blank, then the id.
	return term.lineWith(new RegExp(String.raw`^[› ] ${id}\s`)) ?? '';
}

async function stills(): Promise<void> {
	const term = await startTui(6);
	try {
		// Let the r sparkline gather some history before the picture is taken.
		await sleep(8000);
		await save('live.svg', stillSvg(captureScreen(term.terminal), 'chorus-tui: a live mesh with 6 demo peers'));

		// Select demo-2 and drop everything it sends: its TTL bar drains, then it is evicted.
		term.write('j');
		for (let press = 0; press < 4; press++) {
			term.write('d');

			await sleep(150);
		}

		await term.waitFor(() => /100\s*%/.test(rowOf(term, 'demo-2')), 5000, 'demo-2 at 100 % drop');
		await sleep(2500);
		await save('fault-draining.svg', stillSvg(captureScreen(term.terminal), 'chorus-tui: demo-2 under 100 % inbound drop, its TTL draining'));
		await term.waitFor(() => rowOf(term, 'demo-2').includes('evicted'), 10_000, 'demo-2 evicted');
		await sleep(300);
		await save('fault-evicted.svg', stillSvg(captureScreen(term.terminal), 'chorus-tui: demo-2 evicted after its TTL'));
		term.write('q');
		await term.exited;
	} finally {
		await term.stop();
	}
}

async function recording(): Promise<void> {
	const scratch = await mkdtemp(path.join(tmpdir(), 'chorus-media-'));
	const recordFile = path.join(scratch, 'demo.ndjson.gz');
	const term = await startTui(4, ['--record', recordFile]);
	const recorder = recordScreens(term, 200);
	try {
		await sleep(2500);
		// Drop 30 % of demo-2's messages: it stays alive, its age jitters.
		term.write('j');
		await sleep(400);
		term.write('d');
		await sleep(300);
		term.write('d');
		await sleep(3500);
		// Kill demo-3 (with confirmation): the process dies, its TTL drains, it is evicted.
		term.write('j');
		await sleep(500);
		term.write('x');
		await sleep(900);
		term.write('y');
		await term.waitFor(() => rowOf(term, 'demo-3').includes('evicted'), 15_000, 'demo-3 evicted');
		await sleep(1500);
		// Revive it: a new process, a new incarnation, re-admitted at once.
		term.write('r');
		await term.waitFor(() => /restarted|alive/.test(rowOf(term, 'demo-3')), 15_000, 'demo-3 back');
		await sleep(2000);
		term.write('c');
		await sleep(2500);
	} finally {
		await recorder.stop();
		term.write('q');
		await Promise.race([term.exited, sleep(5000)]);
		await term.stop();
	}

	await save('recording.svg', animatedSvg(recorder.frames, 'chorus-tui: drop, kill and revive a demo peer'));
	// The same session as an asciinema v2 cast: the recording, replayed frame by frame by the real UI.
	const castFile = path.join(mediaDirectory, 'recording.cast');
	execFileSync(process.execPath, [cliPath, 'replay', recordFile, '--cast', castFile], {stdio: ['ignore', 'ignore', 'inherit'], env: {...process.env, FORCE_COLOR: '3'}});
	console.log(`media/recording.cast  ${((await stat(castFile)).size / 1024).toFixed(0)} KiB`);
	await rm(scratch, {recursive: true, force: true});
}

await mkdir(mediaDirectory, {recursive: true});
const only = process.argv[2];
if (only === undefined || only === 'stills') {
	await stills();
}

if (only === undefined || only === 'recording') {
	await recording();
}

if (only === undefined || only === 'mesh') {
	await meshMedia({cliPath, mediaDirectory, save});
}

