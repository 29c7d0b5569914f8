/**
On the live terminal the panes' lines are drawn by the painter into the boxes Ink lays out (see
source/ui/components/Lines.tsx); without a painter they are plain Ink text. A terminal fed the
painted screen must show exactly what a terminal fed plain Ink shows, cell for cell, colours
included, after keys and new samples; and the painter must cost Ink little and write little.
Both terminals are real (headless xterm); Ink renders for real into a fake TTY stream.
*/

import {PassThrough, Writable} from 'node:stream';
import xterm from '@xterm/headless';
import chalk from 'chalk';
import {render} from 'ink';
import {afterEach, describe, expect, test} from 'vitest';
import {NO_INBOUND_FAULT} from '../../../source/mesh/model/fault-types.js';
import {App} from '../../../source/ui/app.js';
import {MeshStore} from '../../../source/ui/mesh-store.js';
import {createTerminalScreen} from '../../../source/ui/terminal/terminal-screen.js';
import {FixedController, meshMatrix, memberIds, MeshFixedController, peer, settle, snapshot} from '../fixtures.js';

const initialChalkLevel = chalk.level;
afterEach(() => {
	chalk.level = initialChalkLevel;
});

type Screen = {
	terminal: InstanceType<typeof xterm.Terminal>;
	press: (...keys: string[]) => Promise<void>;
	resample: () => Promise<void>;
	/** Unmount (Ink writes its last frame), wait for the terminal to take every write. */
	finish: () => Promise<void>;
	/** Bytes written to the terminal so far. */
	bytes: () => number;
};

const STATES = ['alive', 'suspect', 'restarted', 'quarantined', 'evicted'] as const;

function mesh(count: number): FixedController {
	const peers = Array.from({length: count}, (_, index) =>
		peer(`demo-${index + 1}`, {
			state: STATES[index % STATES.length],
			lastSeenMs: (index * 337) % 6000,
			ttlRemainingMs: 5000 - ((index * 337) % 6000),
			phaseDiff: Math.sin(index) * 3,
			lamport: 1000 + index * 7,
		}),
	);
	return new FixedController(
		snapshot(peers, {
			faults: {all: {...NO_INBOUND_FAULT, drop: 0.3}, peers: {'demo-2': {...NO_INBOUND_FAULT, delayMs: 200}}},
			demo: [
				{id: 'demo-1', state: 'paused', endpoint: 'tcp://127.0.0.1:5560', restarts: 0},
				{id: 'demo-99', state: 'killed', endpoint: 'tcp://127.0.0.1:5560', restarts: 0},
			],
		}),
		['demo-1', 'demo-2', 'demo-99'],
	);
}

/** The app in a terminal of `columns`×`rows`, drawn by the painter or by plain Ink. */
function open(controller: FixedController, painted: boolean, columns: number, rows: number): Screen {
	const terminal = new xterm.Terminal({cols: columns, rows, allowProposedApi: true, convertEol: true});
	let written = Promise.resolve();
	let bytes = 0;
	const out = new Writable({
		write(chunk: Buffer, _encoding, callback) {
			const data = chunk.toString();
			bytes += chunk.length;
			written = written.then(async () => {
				await new Promise<void>((resolve) => {
					terminal.write(data, resolve);
				});
			});
			callback();
		},
	});
	Object.assign(out, {isTTY: true, columns, rows});
	const stdin = Object.assign(new PassThrough(), {isTTY: true, setRawMode() {}, ref() {}, unref() {}});
	const screen = createTerminalScreen(out as unknown as NodeJS.WriteStream);
	const store = new MeshStore(controller, {sampleMs: 60_000, now: () => Date.UTC(2026, 0, 1, 12, 0, 0)});
	controller.emit({t: 1, kind: 'peer-joined', peer: 'demo-1'});
	controller.emit({t: 2, kind: 'peer-evicted', peer: 'demo-3', silentMs: 5100});
	const instance = render(
		<App color controller={controller} store={store} ttlMs={5000} painter={painted ? screen.painter : undefined} />,
		{
			stdout: painted ? screen.stdout : createTerminalScreen(out as unknown as NodeJS.WriteStream).stdout,
			stdin: stdin as unknown as NodeJS.ReadStream,
			exitOnCtrlC: false,
			patchConsole: false,
		},
	);
	return {
		terminal,
		async press(...keys) {
			for (const key of keys) {
				stdin.write(key);

				await settle(40);
			}
		},
		async resample() {
			store.sample();
			await settle(40);
		},
		async finish() {
			await settle(40);
			instance.unmount();
			await settle(20);
			await written;
		},
		bytes: () => bytes,
	};
}

/** Every cell: its characters, colours and attributes. */
function cells(terminal: InstanceType<typeof xterm.Terminal>): string[] {
	const buffer = terminal.buffer.active;
	const out: string[] = [];
	for (let row = 0; row < terminal.rows; row++) {
		const line = buffer.getLine(row)!;
		for (let column = 0; column < terminal.cols; column++) {
			const cell = line.getCell(column)!;
			out.push(`${row}:${column}:${cell.getChars() || ' '}:${cell.getFgColorMode()}/${cell.getFgColor()}:${cell.getBgColorMode()}/${cell.getBgColor()}:${cell.isBold()}${cell.isDim()}${cell.isInverse()}`);
		}
	}

	return out;
}

function text(terminal: InstanceType<typeof xterm.Terminal>): string {
	const buffer = terminal.buffer.active;
	return Array.from({length: terminal.rows}, (_, row) => buffer.getLine(row)!.translateToString(true)).join('\n');
}

describe('painter', () => {
	for (const [columns, rows] of [
		[80, 24],
		[120, 40],
		[56, 14],
	] as const) {
		test(`at ${columns}×${rows} the painted screen is plain Ink's, cell for cell, through keys, samples and the help overlay`, async () => {
			chalk.level = 3;
			const screens = [open(mesh(40), true, columns, rows), open(mesh(40), false, columns, rows)];
			try {
				for (const screen of screens) {
					await screen.press('j', 'j', 's', 'd');

					await screen.resample();

					await screen.press('?', 'z', 'G', ' ');

					await screen.finish();
				}

				const [painted, plain] = screens.map((screen) => screen.terminal);
				expect(text(painted!)).toContain('FROZEN');
				expect(text(painted!)).toMatch(/demo-\d+ .*[●◌↻⊘✕]/);
				expect(cells(painted!)).toEqual(cells(plain!));
			} finally {
				for (const screen of screens) {
					screen.terminal.dispose();
				}
			}
		});
	}

	for (const [count, columns, rows] of [
		[8, 80, 24],
		[199, 80, 24],
	] as const) {
		test(`the mesh view of ${count + 1} members at ${columns}×${rows}, painted, is plain Ink's, cell for cell`, async () => {
			chalk.level = 3;
			const meshOf = () => {
				const ids = memberIds(count);
				const matrix = meshMatrix(ids, {legacy: ['n5'], errors: {n3: 'timeout'}, cell: (row, column) => (column === 'n2' && row !== 'n2' ? 'evicted' : undefined)});
				return new MeshFixedController(snapshot(ids.map((id) => peer(id))), matrix);
			};

			const screens = [open(meshOf(), true, columns, rows), open(meshOf(), false, columns, rows)];
			try {
				for (const screen of screens) {
					await screen.press('m');

					await screen.resample();

					await screen.press('j', 'j', 'j');

					await screen.finish();
				}

				const [painted, plain] = screens.map((screen) => screen.terminal);
				expect(text(painted!)).toContain('OBSERVER');
				expect(text(painted!)).toContain('no control plane');
				expect(cells(painted!)).toEqual(cells(plain!));
			} finally {
				for (const screen of screens) {
					screen.terminal.dispose();
				}
			}
		});
	}

	test('a new pull of 200 members writes a few hundred bytes: the rows on screen that changed', async () => {
		chalk.level = 3;
		const ids = memberIds(199);
		const controller = new MeshFixedController(snapshot(ids.map((id) => peer(id))), meshMatrix(ids));
		const screen = open(controller, true, 120, 40);
		try {
			await screen.press('m');
			await screen.resample();
			await settle(40);
			const before = screen.bytes();
			// The next pull: every row a little older, one member no longer heard by the first rows.
			const last = controller.matrix!;
			controller.matrix = {
				...last,
				pulledAtWallMs: last.pulledAtWallMs + 1000,
				rows: last.rows.map((row, index) => ({...row, ageMs: row.ageMs + 40, cells: index < 3 ? {...row.cells, n7: 'evicted' as const} : row.cells})),
			};
			await screen.resample();
			const written = screen.bytes() - before;
			expect(written).toBeGreaterThan(0);
			expect(written).toBeLessThan(3000);
			await screen.finish();
			expect(text(screen.terminal)).toMatch(/NOT ALIVE/);
		} finally {
			screen.terminal.dispose();
		}
	});

	test('a sample that changes a few numbers writes a few hundred bytes', async () => {
		chalk.level = 3;
		const controller = mesh(200);
		const screen = open(controller, true, 120, 40);
		try {
			await screen.resample();
			await settle(40);
			const before = screen.bytes();
			controller.current = {
				...controller.current,
				peers: controller.current.peers.map((each, index) => (index % 3 === 0 ? {...each, lastSeenMs: each.lastSeenMs + 100} : each)),
			};
			await screen.resample();
			const written = screen.bytes() - before;
			expect(written).toBeGreaterThan(0);
			expect(written).toBeLessThan(2000);
			await screen.finish();
			expect(text(screen.terminal)).toContain('peers 200');
		} finally {
			screen.terminal.dispose();
		}
	});
});
