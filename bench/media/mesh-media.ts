/**
The mesh view's media, for `npm run media` (make-media.ts): one real session of chorus-tui with 7
demo peers (each with a control plane, so the mesh view is an 8×8 matrix) in an 80×24 pseudo-terminal,
driven with the keys an operator uses: `m` opens the mesh view, `P` partitions the mesh in halves
(per-link blackholes set on every member through its control plane), the cross-half cells turn
suspect then evicted row by row, `c` clears every fault on every member, and the mesh heals.

From that one session:
- mesh-halves.svg: a still once the evictions have spread to every observer row;
- mesh-partition.svg: the whole sequence, animated (screen captures every 250 ms);
- mesh-partition.cast: the same session as an asciinema v2 cast, made of the bytes the program wrote
  to the pseudo-terminal as they came (the start-up's idle time capped by `idle_time_limit`).
  `chorus-tui replay --cast` cannot make this one: a replay types no keys, so it shows the table.
*/

import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {freePort} from '../../test/helpers/ports.js';
import {sleep, Term} from '../../test/helpers/term.js';
import {animatedSvg, stillSvg, type TimedScreen} from '../../source/ui/terminal/svg.js';
import {captureScreen, recordScreens} from './xterm-screen.js';

const COLUMNS = 80;
const ROWS = 24;
const MEMBERS = 8;
/** The console's node id: a readable name on the matrix's first row. */
const CONSOLE_ID = 'console';

/** A matrix row: ` 1 console  ╲ ● ● ...` (`›` marks the selected one), its cells. */
const MATRIX_ROW = new RegExp(String.raw`^[› ]\d+ \S+\s+((?:[●◌✕·╲] ){${MEMBERS - 1}}[●◌✕·╲])`);

function matrixCells(screen: string): string[] {
	return screen.split('\n').flatMap((line) => {
		const match = MATRIX_ROW.exec(line);
		return match === null ? [] : [match[1]!.replaceAll(' ', '')];
	});
}

/** Every row on screen, every cell but its own alive. */
function allAlive(screen: string): boolean {
	const rows = matrixCells(screen);
	return rows.length === MEMBERS && rows.every((cells) => [...cells].filter((cell) => cell === '●').length === MEMBERS - 1);
}

/** Every row shows the halves: its own half alive, the other half evicted. */
function halvesSpread(screen: string): boolean {
	const half = MEMBERS / 2;
	const rows = matrixCells(screen);
	return (
		rows.length === MEMBERS
		&& rows.every((cells, row) =>
			[...cells].every((cell, column) => column === row || (Math.floor(column / half) === Math.floor(row / half) ? cell === '●' : cell === '✕')),
		)
	);
}

type CastEvent = [number, 'o', string];

/** What the program writes to the pty, cut into timed events as it comes (every 20 ms at most). */
function castRecorder(term: Term, startedMs: number): {events: CastEvent[]; stop: () => Promise<void>} {
	const events: CastEvent[] = [];
	let taken = 0;
	let recording = true;
	const take = () => {
		if (term.output.length > taken) {
			events.push([Math.round(performance.now() - startedMs) / 1000, 'o', term.output.slice(taken)]);
			taken = term.output.length;
		}
	};

	const loop = (async () => {
		while (recording) {
			take();
			await sleep(20);
		}

		take();
	})();
	return {
		events,
		async stop() {
			recording = false;
			await loop;
		},
	};
}

export async function meshMedia(options: {cliPath: string; mediaDirectory: string; save: (name: string, svg: string) => Promise<void>}): Promise<void> {
	const startedMs = performance.now();
	const term = new Term(['--bind', String(await freePort()), '--demo', String(MEMBERS - 1), '--seed', '7', '--id', CONSOLE_ID], {
		cliPath: options.cliPath,
		columns: COLUMNS,
		rows: ROWS,
		env: {FORCE_COLOR: '3', COLORTERM: 'truecolor'},
	});
	const cast = castRecorder(term, startedMs);
	let screens: ReturnType<typeof recordScreens> | undefined;
	try {
		const aliveRows = new RegExp(String.raw`(?:alive[^\n]*\n[^\n]*){${MEMBERS - 2}}alive`);
		await term.waitFor((screen) => aliveRows.test(screen), 30_000, `${MEMBERS - 1} alive demo peers`);
		await sleep(1500);
		screens = recordScreens(term, 250);
		term.write('m');
		await term.waitFor((screen) => allAlive(screen), 15_000, `the ${MEMBERS}×${MEMBERS} matrix, all alive`);
		await sleep(2500);
		term.write('P');
		await term.waitFor((screen) => screen.includes('partition halves'), 10_000, 'the halves partition in force');
		// Suspect, then evicted after the TTL, row by row as each member's next pull comes in.
		await term.waitFor((screen) => halvesSpread(screen), 20_000, 'evictions across the halves on every row');
		await sleep(1200);
		await term.settled();
		await options.save('mesh-halves.svg', stillSvg(captureScreen(term.terminal), 'chorus-tui: the mesh view during a halves partition, 8 members'));
		await sleep(1500);
		term.write('c');
		await term.waitFor((screen) => allAlive(screen) && screen.includes('no partition'), 15_000, 'every cell alive again');
		// Healed: the halves pull back into one synchronized mesh.
		await sleep(3500);
	} finally {
		await screens?.stop();
		term.write('q');
		await Promise.race([term.exited, sleep(5000)]);
		await cast.stop();
		await term.stop();
	}

	await options.save('mesh-partition.svg', animatedSvg(screens?.frames ?? [], 'chorus-tui: a halves partition set on every member, evictions spreading, then cleared and healed'));
	const header = {
		version: 2,
		width: COLUMNS,
		height: ROWS,
		timestamp: Math.round(Date.now() / 1000),
		// The start-up (demo peers joining) is mostly waiting: played back at most 1.5 s a pause.
		idle_time_limit: 1.5,
		title: 'chorus-tui: mesh view (m), halves partition (P), clear (c), heal',
		env: {TERM: 'xterm-256color', SHELL: '/bin/sh'},
	};
	const castFile = path.join(options.mediaDirectory, 'mesh-partition.cast');
	const text = [JSON.stringify(header), ...cast.events.map((event) => JSON.stringify(event))].join('\n') + '\n';
	await writeFile(castFile, text);
	console.log(`media/mesh-partition.cast  ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB, ${cast.events.length} events`);
}
