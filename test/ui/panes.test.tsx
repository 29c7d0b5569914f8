import {render, cleanup} from 'ink-testing-library';
import type {ReactElement} from 'react';
import {afterEach, describe, expect, test} from 'vitest';
import {NO_INBOUND_FAULT} from '../../source/mesh/model/fault-types.js';
import {EventLog} from '../../source/ui/components/EventLog.js';
import {Header} from '../../source/ui/components/Header.js';
import {PeerTable} from '../../source/ui/components/PeerTable.js';
import {describeEvent} from '../../source/ui/describe-event.js';
import {tableColumns} from '../../source/ui/layout.js';
import {MeshStore, Ring} from '../../source/ui/mesh-store.js';
import {buildRows, sortRows, type PeerRowData} from '../../source/ui/peer-rows.js';
import {createTheme, ThemeContext} from '../../source/ui/theme.js';
import {FixedController, peer, snapshot} from './fixtures.js';

afterEach(() => {
	cleanup();
});

function mono(element: ReactElement): string {
	const {lastFrame} = render(<ThemeContext.Provider value={createTheme(false)}>{element}</ThemeContext.Provider>);
	return lastFrame() ?? '';
}

const TTL_MS = 5000;

function table(rows: PeerRowData[], columns = 80): string[] {
	return mono(
		<PeerTable
			rows={rows}
			selectedIndex={0}
			scrollTop={0}
			height={rows.length}
			columns={tableColumns(columns)}
			ttlMs={TTL_MS}
			sort="id"
			emptyText="waiting for peers…"
		/>,
	).split('\n');
}

function row(id: string, fields: Partial<PeerRowData> = {}): PeerRowData {
	return {id, state: 'alive', lastSeenMs: 40, ttlRemainingMs: 4960, lamport: 811, phaseDiff: -0.04, note: '', ...fields};
}

describe('peer table', () => {
	test('the TTL bar drains with the age', () => {
		const ages = [0, 1000, 2500, 4000, 5000];
		const lines = table(ages.map((age, index) => row(`p${index}`, {lastSeenMs: age, ttlRemainingMs: TTL_MS - age})));
		const filled = lines.slice(1).map((line) => (line.match(/█/g) ?? []).length);
		expect(filled).toEqual([10, 8, 5, 2, 0]);
		const empty = lines.slice(1).map((line) => (line.match(/░/g) ?? []).length);
		expect(empty).toEqual([0, 2, 5, 8, 10]);
	});

	test('ages, Lamport time and wrapped Δphase are shown', () => {
		const lines = table([row('demo-1', {lastSeenMs: 40, phaseDiff: 3.5, lamport: 811}), row('demo-2', {lastSeenMs: 184_000, phaseDiff: -0.04})]);
		expect(lines[0]).toMatch(/ID▼ +STATE +AGE TTL +LAMPORT +Δφ +FAULTS/);
		expect(lines[1]).toMatch(/› demo-1 +● alive +40ms .* 811 +-2\.78/);
		expect(lines[2]).toMatch(/ {2}demo-2 +● alive +3m04s .* -0\.04/);
	});

	test('each state reads by symbol and word, without colour', () => {
		const states = ['alive', 'suspect', 'restarted', 'quarantined', 'evicted', 'killed'] as const;
		const lines = table(states.map((state) => row(`p-${state}`, {state})));
		expect(lines.slice(1).map((line) => /[●◌↻⊘✕] \w+/.exec(line)?.[0])).toEqual(['● alive', '◌ suspect', '↻ restarted', '⊘ quarantined', '✕ evicted', '✕ killed']);
	});

	test('a hostile id is shown escaped and cannot write an escape sequence', () => {
		const hostile = 'x\u001B]0;pwned\u0007\u001B[2J';
		const frame = table([row(hostile)], 120).join('\n');
		expect(frame).not.toContain('\u001B');
		expect(frame).not.toContain('\u0007');
		expect(frame).toContain(String.raw`x\x1b]0;pwned\x07`);
	});

	test('faults on a peer and its process state are on its row', () => {
		const rows = buildRows(
			snapshot([peer('demo-1'), peer('demo-2')], {
				faults: {peers: {'demo-2': {...NO_INBOUND_FAULT, drop: 0.3, delayMs: 200}}},
				demo: [
					{id: 'demo-1', state: 'paused', endpoint: 'tcp://127.0.0.1:5560', restarts: 0},
					{id: 'demo-2', state: 'running', endpoint: 'tcp://127.0.0.1:5560', restarts: 0},
					{id: 'demo-3', state: 'killed', endpoint: 'tcp://127.0.0.1:5560', restarts: 0},
				],
			}),
		);
		const lines = table(rows, 100);
		expect(lines[1]).toMatch(/demo-1 .*paused$/);
		expect(lines[2]).toMatch(/demo-2 .*drop 30% \+200ms$/);
		// Killed and gone from the node's table, but still listed so that it can be revived.
		expect(lines[3]).toMatch(/demo-3 +✕ killed +– +– +–/);
	});

	test('sorting: by id numerically, by age oldest first, by |Δφ|, by Lamport', () => {
		const rows = [
			row('demo-10', {lastSeenMs: 10, phaseDiff: 0.1, lamport: 30}),
			row('demo-2', {lastSeenMs: 900, phaseDiff: -2, lamport: 10}),
			row('demo-1', {lastSeenMs: 50, phaseDiff: 1, lamport: 20}),
		];
		const ids = (key: Parameters<typeof sortRows>[1]) => sortRows(rows, key).map((each) => each.id);
		expect(ids('id')).toEqual(['demo-1', 'demo-2', 'demo-10']);
		expect(ids('age')).toEqual(['demo-2', 'demo-1', 'demo-10']);
		expect(ids('phase')).toEqual(['demo-2', 'demo-1', 'demo-10']);
		expect(ids('lamport')).toEqual(['demo-2', 'demo-1', 'demo-10']);
	});

	test('no peers yet says so', () => {
		expect(table([]).join('\n')).toContain('waiting for peers…');
	});
});

describe('header', () => {
	test('node, Lamport, phase, r with its sparkline, counts by state, faults in force', () => {
		const wallMs = 1_000_000;
		const rHistory = Array.from({length: 600}, (_, index) => ({atMs: wallMs - 60_000 + index * 100, value: index < 300 ? 0.2 : 1}));
		const frame = mono(
			<Header
				snapshot={snapshot([peer('demo-1'), peer('demo-2', {state: 'suspect'}), peer('demo-3', {state: 'evicted'})], {
					faults: {all: {...NO_INBOUND_FAULT, drop: 0.1}, peers: {'demo-2': {...NO_INBOUND_FAULT, delayMs: 200}}},
				})}
				rHistory={rHistory}
				wallMs={wallMs}
				columns={80}
				frozen={false}
				readonly={false}
			/>,
		);
		const lines = frame.split('\n');
		expect(lines[0]).toMatch(/chorus-tui +node a1b2c3d4 +tcp:\/\/127\.0\.0\.1:5555 .*● LIVE/);
		expect(lines[1]).toMatch(/Lamport 812 +phase \+3\.02 +r 0\.97 ▂+█+ last 60 s/);
		expect(lines[2]).toContain('peers 3  ● 1 alive  ◌ 1 suspect  ↻ 0 restarted  ⊘ 0 quarantined  ✕ 1 evicted');
		expect(lines[3]).toContain('faults all: drop 10% · demo-2: +200ms');
		expect(lines).toHaveLength(4);
	});

	test('frozen and read-only say so', () => {
		const common = {snapshot: snapshot([]), rHistory: [], wallMs: 0, columns: 80};
		expect(mono(<Header {...common} frozen readonly={false} />)).toContain('FROZEN · the mesh keeps running');
		expect(mono(<Header {...common} readonly frozen={false} />)).toContain('READ-ONLY');
	});

	test('an observer says it watches only; a member does not', () => {
		const self = snapshot([]);
		const common = {rHistory: [], wallMs: 0, columns: 80, frozen: false, readonly: false};
		expect(mono(<Header {...common} snapshot={{...self, node: {...self.node, observer: true}}} />).split('\n')[0]).toMatch(/● LIVE · OBSERVER *$/);
		expect(mono(<Header {...common} snapshot={self} />)).not.toContain('OBSERVER');
	});
});

describe('event log', () => {
	test('the ring buffer keeps the newest entries only', () => {
		const ring = new Ring<number>(3);
		for (let index = 1; index <= 5; index++) {
			ring.push(index);
		}

		expect(ring.toArray()).toEqual([3, 4, 5]);
		expect(ring.size).toBe(3);
	});

	test('the store bounds the log and shows the newest at the bottom', () => {
		const controller = new FixedController(snapshot([]));
		const store = new MeshStore(controller, {logCapacity: 5, now: () => Date.UTC(2026, 0, 1, 12, 0, 0)});
		store.start();
		try {
			for (let index = 1; index <= 8; index++) {
				controller.emit({t: index, kind: 'peer-joined', peer: `demo-${index}`});
			}

			store.sample();
			const {log} = store.getView();
			expect(log.map((entry) => entry.text)).toEqual(['demo-4 joined', 'demo-5 joined', 'demo-6 joined', 'demo-7 joined', 'demo-8 joined']);
			const lines = mono(<EventLog entries={log} lines={3} columns={60} />).split('\n');
			expect(lines[0]).toMatch(/^── events \(5\) ─+$/);
			expect(lines.slice(1).map((line) => line.replace(/^ \d\d:\d\d:\d\d /, ''))).toEqual(['demo-6 joined', 'demo-7 joined', 'demo-8 joined']);
		} finally {
			store.stop();
		}
	});

	test('every string of an event is escaped', () => {
		const line = describeEvent({t: 1, kind: 'peer-quarantined', peer: 'bad\u001B[31m', reason: 'lamport-jump\u0007'});
		expect(line.text).toBe(String.raw`bad\x1b[31m quarantined: lamport-jump\x07`);
		const other = describeEvent({t: 1, kind: 'auth-refused', endpoint: 'tcp://1.2.3.4:1', key: 'k\u001Bz'} as any);
		expect(other.text).not.toContain('\u001B');
		expect(describeEvent({t: 1, kind: 'fault-set', target: 'demo-2', direction: 'inbound', fault: {drop: 0.5}} as any).text).toBe('fault on demo-2: drop 50%');
		expect(describeEvent({t: 1, kind: 'peer-evicted', peer: 'demo-2', silentMs: 5100}).text).toBe('demo-2 evicted after 5.1s of silence');
	});
});
