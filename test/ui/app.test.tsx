import chalk from 'chalk';
import {cleanup} from 'ink-testing-library';
import {afterEach, describe, expect, test} from 'vitest';
import {ALL_PEERS} from '../../source/mesh/model/fault-types.js';
import {helpEntries} from '../../source/ui/components/HelpOverlay.js';
import {bindingsOf} from '../../source/ui/keymap.js';
import {MIN_COLUMNS, MIN_ROWS} from '../../source/ui/layout.js';
import {FixedController, peer, settle, snapshot, until} from './fixtures.js';
import {renderApp} from './render-app.js';

const initialChalkLevel = chalk.level;
afterEach(() => {
	cleanup();
	chalk.level = initialChalkLevel;
});

type Options = {columns?: number; rows?: number; color?: boolean; readonly?: boolean};

/** The app on a fixed controller; the store samples only when a test says so. */
function start(controller: FixedController, options: Options = {}) {
	const {app, store, frame, press} = renderApp(controller, options);
	const resample = async () => {
		store.sample();
		await settle();
	};

	return {app, store, frame, press, resample};
}

const demoPeers = () => new FixedController(snapshot([peer('demo-1'), peer('demo-2'), peer('demo-3')]), ['demo-1', 'demo-2', 'demo-3']);
const selectedLine = (frame: string) => frame.split('\n').find((line) => line.startsWith('›'));

describe('screen', () => {
	test('fits 80×24 in at most 23 lines', async () => {
		const {frame} = start(demoPeers());
		await until(() => expect(frame()).toContain('q quit'));
		const lines = frame().split('\n');
		expect(lines.length).toBeLessThanOrEqual(23);
		expect(lines.every((line) => line.length <= 80)).toBe(true);
		await until(() => expect(frame()).toContain('demo-3'));
		await until(() => expect(frame()).toMatch(/d drop .*q quit/));
	});

	test('with colour off no escape sequence is written, with it on colours are', async () => {
		chalk.level = 3;
		const plain = start(demoPeers(), {color: false});
		await settle();
		await until(() => expect(plain.frame()).toContain('demo-1'));
		await until(() => expect(plain.frame()).not.toContain('\u001B'));
		cleanup();
		const coloured = start(demoPeers(), {color: true});
		await settle();
		await until(() => expect(coloured.frame()).toContain('\u001B['));
	});

	test('a terminal too small gets a clear message, and q still quits', async () => {
		const controller = demoPeers();
		const {frame, press} = start(controller, {columns: 40, rows: 10});
		await settle();
		await until(() => expect(frame()).toContain('Terminal too small: 40×10.'));
		await until(() => expect(frame()).toContain(`needs at least ${MIN_COLUMNS}×${MIN_ROWS}`));
		await until(() => expect(frame().split('\n').length).toBeLessThanOrEqual(9));
		await press('q');
		await until(() => expect(controller.stopped).toBe(true));
	});

	test('the help overlay lists every key of the keymap, and any key closes it', async () => {
		const {frame, press} = start(demoPeers(), {columns: 100, rows: 30});
		await press('?');
		for (const binding of bindingsOf('live')) {
			await until(() => expect(frame()).toContain(binding.keys));
		}

		// The keys that only move the selection share one line.
		for (const entry of helpEntries(bindingsOf('live'))) {
			await until(() => expect(frame()).toContain(entry.description.slice(0, 40)));
		}

		await until(() => expect(frame().split('\n').length).toBeLessThanOrEqual(29));
		await press('z');
		await until(() => expect(frame()).toContain('demo-1'));
	});

	test('at 80×24 the help overlay shows every key, none left for a larger terminal', async () => {
		const {frame, press} = start(demoPeers());
		await press('?');
		await until(() => expect(frame()).toContain('Any key closes this help.'));
		expect(frame()).not.toContain('more: enlarge the terminal');
		for (const binding of bindingsOf('live')) {
			expect(frame()).toContain(binding.keys);
		}

		expect(frame().split('\n').length).toBeLessThanOrEqual(23);
	});

	test('a thousand peers render only the visible slice, and scrolling follows the selection', async () => {
		const peers = Array.from({length: 1000}, (_, index) => peer(`p-${index + 1}`));
		const {frame, press} = start(new FixedController(snapshot(peers)));
		await until(() => expect(frame()).toContain('p-1 '));
		const rows = frame().split('\n').filter((line) => /p-\d+/.test(line));
		expect(rows.length).toBeLessThan(20);
		await until(() => expect(frame()).toContain('rows 1–11 of 1000'));
		await press('G');
		await until(() => expect(selectedLine(frame())).toMatch(/p-1000 /));
		await until(() => expect(frame()).toContain('rows 990–1000 of 1000'));
	});
});

describe('keys', () => {
	test('d cycles the inbound drop of the selected peer; a switches the target to all', async () => {
		const controller = demoPeers();
		const {frame, press, resample} = start(controller);
		await press('j', 'd', 'd', 'd', 'd');
		await until(() => expect(controller.callsOf('setInboundFault')).toHaveLength(4));
		expect(controller.callsOf('setInboundFault')).toEqual([
			['demo-2', {drop: 0.1}],
			['demo-2', {drop: 0.3}],
			['demo-2', {drop: 0.5}],
			['demo-2', {drop: 1}],
		]);
		await resample();
		await until(() => expect(frame()).toContain('faults demo-2: drop 100%'));
		await until(() => expect(selectedLine(frame())).toMatch(/demo-2 .*drop 100%/));
		await press('d');
		await until(() => expect(controller.callsOf('setInboundFault').at(-1)).toEqual(['demo-2', {drop: 0}]));
		await press('a', 'l');
		await until(() => expect(controller.callsOf('setInboundFault').at(-1)).toEqual([ALL_PEERS, {delayMs: 50}]));
		await until(() => expect(frame()).toContain('inbound delay +50ms on all peers'));
	});

	test('keys sent in one read act in order (a paste, or a slow SSH link)', async () => {
		const controller = demoPeers();
		const {press} = start(controller);
		await press('jdd');
		await until(() => expect(controller.callsOf('setInboundFault')).toHaveLength(2));
		expect(controller.callsOf('setInboundFault')).toEqual([
			['demo-2', {drop: 0.1}],
			['demo-2', {drop: 0.3}],
		]);
		await press('xy');
		await until(() => expect(controller.callsOf('killPeer')).toEqual([['demo-2']]));
	});

	test('x asks first: y kills, any other key cancels', async () => {
		const controller = demoPeers();
		const {frame, press} = start(controller);
		await press('x');
		await until(() => expect(frame()).toContain('kill demo peer demo-1 (SIGKILL)? y kills, any other key cancels'));
		await press('n');
		await until(() => expect(controller.callsOf('killPeer')).toEqual([]));
		await until(() => expect(frame()).toContain('kill cancelled'));
		await press('x', 'y');
		await until(() => expect(controller.callsOf('killPeer')).toEqual([['demo-1']]));
		await until(() => expect(frame()).toContain('demo-1 killed (SIGKILL, pid 4242)'));
	});

	test('a remote peer is blackholed, and the prompt says so', async () => {
		const controller = new FixedController(snapshot([peer('far-away')]));
		const {frame, press} = start(controller, {columns: 100});
		await press('x');
		await until(() => expect(frame()).toContain('far-away is remote: blackhole it here'));
	});

	test('p, r and c reach the controller; a refusal is shown', async () => {
		const controller = demoPeers();
		const {frame, press} = start(controller);
		await press('p', 'r', 'c');
		await until(() => expect(controller.callsOf('togglePausePeer')).toEqual([['demo-1']]));
		await until(() => expect(controller.callsOf('revivePeer')).toEqual([['demo-1']]));
		await until(() => expect(controller.callsOf('clearFaults')).toEqual([[]]));
		await press('k');
		await until(() => expect(frame()).not.toContain('already running'));
	});

	test('--readonly turns every key that changes the mesh off, and says so', async () => {
		const controller = demoPeers();
		const {frame, press} = start(controller, {readonly: true});
		await settle();
		await until(() => expect(frame()).toContain('READ-ONLY: fault keys off'));
		await until(() => expect(frame()).not.toMatch(/d drop/));
		await press('d', 'l', 'x', 'y', 'p', 'r', 'c', 'a');
		await until(() => expect(controller.calls.filter((call) => call.method !== 'stop')).toEqual([]));
		await until(() => expect(frame()).toContain('read-only (--readonly)'));
	});

	test('the selection stays on its peer across re-sorting and new peers', async () => {
		const controller = new FixedController(snapshot([peer('demo-1', {lastSeenMs: 10}), peer('demo-2', {lastSeenMs: 900}), peer('demo-3', {lastSeenMs: 50})]));
		const {frame, press, resample} = start(controller);
		await press('j', 'j');
		await until(() => expect(selectedLine(frame())).toMatch(/demo-3/));
		await press('s');
		await until(() => expect(frame()).toContain('AGE▼'));
		await until(() => expect(selectedLine(frame())).toMatch(/demo-3/));
		controller.current = snapshot([peer('demo-0'), ...controller.current.peers]);
		await resample();
		await until(() => expect(selectedLine(frame())).toMatch(/demo-3/));
	});

	test('space freezes the display while the mesh goes on, and says so', async () => {
		const controller = demoPeers();
		const {frame, press, resample} = start(controller);
		await press(' ');
		await until(() => expect(frame()).toContain('FROZEN · the mesh keeps running'));
		controller.current = snapshot([...controller.current.peers, peer('demo-4')]);
		await resample();
		await until(() => expect(frame()).not.toContain('demo-4'));
		await press(' ');
		await until(() => expect(frame()).toContain('demo-4'));
		await until(() => expect(frame()).not.toContain('FROZEN'));
	});

	test('/ filters by id; Esc clears the filter', async () => {
		const controller = new FixedController(snapshot([peer('alpha'), peer('beta'), peer('alphabet')]));
		const {frame, press} = start(controller);
		await press('/', 'a', 'l', 'p');
		await until(() => expect(frame()).toContain('filter ids: alp'));
		await press('\r');
		await until(() => expect(frame()).toContain('alphabet'));
		await until(() => expect(frame()).not.toMatch(/ beta /));
		await until(() => expect(frame()).toContain('filter "alp"'));
		await press('/', '\u001B');
		await until(() => expect(frame()).toMatch(/ beta /));
	});

	test('q and Ctrl-C stop the controller and quit', async () => {
		for (const key of ['q', '\u0003']) {
			const controller = demoPeers();
			const {press, app} = start(controller);
			await press(key);
			await until(() => expect(controller.stopped).toBe(true));
			app.unmount();
		}
	});
});
