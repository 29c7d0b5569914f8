/**
The UI's reducer without rendering: every key of the keymap, the prompts that take keys before it
(kill confirmation, filter, help), read-only mode, and the bookkeeping of what a render showed.
Each test asserts the state the key leaves and the controller calls it asks for, as data.
*/

import type {Key} from 'ink';
import {describe, expect, test} from 'vitest';
import {ALL_PEERS, NO_INBOUND_FAULT, type FaultsInForce} from '../../source/mesh/model/fault-types.js';
import {DELAY_STEPS_MS, DROP_STEPS, KEYMAP, type Action} from '../../source/ui/keymap.js';
import type {MeshView} from '../../source/ui/mesh-store.js';
import type {PeerRowData} from '../../source/ui/peer-rows.js';
import {
	initialUiState,
	keysOf,
	type MemberKind,
	type MeshCapabilities,
	MESSAGE_MS,
	placeMemberSelection,
	placeSelection,
	reduceUi,
	type Reduced,
	type ReplayCommand,
	type StatusMessage,
	type UiContext,
	type UiEffect,
	type UiState,
} from '../../source/ui/state.js';
import {statusLine} from '../../source/ui/status-line.js';
import type {Tone} from '../../source/ui/theme.js';
import {peer, snapshot} from './fixtures.js';

const NOW_MS = 1_764_130_000_000;

/** A key as Ink reports it: nothing held, no special key, unless `fields` says so. */
function keyOf(fields: Partial<Key> = {}): Key {
	return {
		upArrow: false,
		downArrow: false,
		leftArrow: false,
		rightArrow: false,
		pageDown: false,
		pageUp: false,
		home: false,
		end: false,
		return: false,
		escape: false,
		ctrl: false,
		shift: false,
		tab: false,
		backspace: false,
		delete: false,
		meta: false,
		super: false,
		hyper: false,
		capsLock: false,
		numLock: false,
		...fields,
	};
}

const rowsOf = (...ids: string[]): PeerRowData[] => ids.map((id) => ({id, state: 'alive', note: ''}));

const liveView: MeshView = {snapshot: snapshot([peer('demo-1')]), rHistory: [], log: [], wallMs: NOW_MS};

function contextOf(fields: Partial<UiContext> = {}): UiContext {
	return {
		rows: rowsOf('demo-1', 'demo-2', 'demo-3', 'demo-4', 'demo-5'),
		pageRows: 2,
		readonly: false,
		nowMs: NOW_MS,
		liveView,
		faultsInForce: () => ({peers: {}}),
		...fields,
	};
}

const ALL_CAPABILITIES: MeshCapabilities = {view: true, memberFaults: true, partition: true, clearAll: true, stopMember: true};

/** Who is who in the fixture mesh: this node, demo peers, members with a control plane, one without. */
const KINDS: Record<string, MemberKind> = {self: 'self', 'demo-1': 'demo', 'demo-2': 'demo', n1: 'remote', n2: 'remote', n3: 'remote', py: 'legacy'};

/** A context on the mesh view of a session with every whole-mesh method: members self, n1–n3, py (legacy), demo-1. */
function meshContext(fields: Partial<UiContext> = {}): UiContext {
	return contextOf({
		rows: rowsOf('self', 'n1', 'n2', 'n3', 'py', 'demo-1'),
		capabilities: ALL_CAPABILITIES,
		memberKind: (id) => KINDS[id],
		...fields,
	});
}

/** The state after the first render put the selection on the first row. */
const SHOWN: UiState = {...initialUiState, selectedId: 'demo-1'};

/** Press one key (input and Ink's key fields) in `state`. */
function press(state: UiState, input: string, key: Partial<Key> = {}, context = contextOf()): Reduced {
	return reduceUi(state, {type: 'key', input, key: keyOf(key)}, context);
}

/** Press keys one after another, each in the state the one before left; the effects of all. */
function pressAll(state: UiState, inputs: string[], context = contextOf()): Reduced {
	let current = state;
	const effects: UiEffect[] = [];
	for (const input of inputs) {
		const reduced = press(current, input, {}, context);
		current = reduced.state;
		effects.push(...reduced.effects);
	}

	return {state: current, effects};
}

const message = (text: string, tone: Tone): StatusMessage => ({text, tone, untilWallMs: NOW_MS + MESSAGE_MS});

type KeyCase = {
	/** The key that means the action. */
	press: [input: string, key?: Partial<Key>];
	/** Pressed in this state (default: the first row selected), with this context. */
	state?: UiState;
	context?: UiContext;
	check: (reduced: Reduced) => void;
};

/** One case per action of the keymap: the type makes a missing one a compile error. */
const KEY_CASES: Record<Action, KeyCase> = {
	'select-up': {
		press: ['', {upArrow: true}],
		state: {...SHOWN, selectedId: 'demo-3'},
		check({state, effects}) {
			expect(state.selectedId).toBe('demo-2');
			expect(effects).toEqual([]);
		},
	},
	'select-down': {
		press: ['j'],
		check({state, effects}) {
			expect(state.selectedId).toBe('demo-2');
			expect(effects).toEqual([]);
		},
	},
	'page-up': {
		press: ['', {pageUp: true}],
		state: {...SHOWN, selectedId: 'demo-4'},
		check({state}) {
			expect(state.selectedId).toBe('demo-2');
		},
	},
	'page-down': {
		press: ['', {pageDown: true}],
		check({state}) {
			expect(state.selectedId).toBe('demo-3');
		},
	},
	'select-first': {
		press: ['g'],
		state: {...SHOWN, selectedId: 'demo-4'},
		check({state}) {
			expect(state.selectedId).toBe('demo-1');
		},
	},
	'select-last': {
		press: ['G'],
		check({state}) {
			expect(state.selectedId).toBe('demo-5');
		},
	},
	'cycle-drop': {
		press: ['d'],
		state: {...SHOWN, selectedId: 'demo-2'},
		check({state, effects}) {
			expect(state).toEqual({...SHOWN, selectedId: 'demo-2'});
			expect(effects).toEqual([{kind: 'set-inbound-fault', target: 'demo-2', patch: {drop: 0.1}, done: {text: 'inbound drop 10% on demo-2', tone: 'fault'}}]);
		},
	},
	'cycle-delay': {
		press: ['l'],
		state: {...SHOWN, targetAll: true},
		check({effects}) {
			expect(effects).toEqual([{kind: 'set-inbound-fault', target: ALL_PEERS, patch: {delayMs: 50}, done: {text: 'inbound delay +50ms on all peers', tone: 'fault'}}]);
		},
	},
	kill: {
		press: ['x'],
		state: {...SHOWN, selectedId: 'demo-3'},
		check({state, effects}) {
			expect(state.confirmKill).toBe('demo-3');
			expect(effects).toEqual([]);
		},
	},
	pause: {
		press: ['p'],
		check({state, effects}) {
			expect(state).toEqual(SHOWN);
			expect(effects).toEqual([{kind: 'toggle-pause-peer', id: 'demo-1'}]);
		},
	},
	revive: {
		press: ['r'],
		check({state, effects}) {
			expect(state).toEqual(SHOWN);
			expect(effects).toEqual([{kind: 'revive-peer', id: 'demo-1'}]);
		},
	},
	'toggle-target': {
		press: ['a'],
		check({state, effects}) {
			expect(state.targetAll).toBe(true);
			expect(state.message).toEqual(message('faults (d, l, o) now target all peers here', 'action'));
			expect(effects).toEqual([]);
		},
	},
	'clear-faults': {
		press: ['c'],
		check({state, effects}) {
			expect(state).toEqual(SHOWN);
			expect(effects).toEqual([{kind: 'clear-faults', done: {text: 'all faults cleared', tone: 'fault'}}]);
		},
	},
	freeze: {
		press: [' '],
		check({state, effects}) {
			expect(state.frozenView).toBe(liveView);
			expect(effects).toEqual([]);
		},
	},
	filter: {
		press: ['/'],
		check({state}) {
			expect(state.editingFilter).toBe(true);
			expect(state.filter).toBe('');
		},
	},
	sort: {
		press: ['s'],
		check({state}) {
			expect(state.sort).toBe('age');
		},
	},
	help: {
		press: ['?'],
		check({state}) {
			expect(state.helpOpen).toBe(true);
		},
	},
	quit: {
		press: ['q'],
		check({state, effects}) {
			expect(state.quitting).toBe(true);
			expect(effects).toEqual([{kind: 'quit'}]);
		},
	},
	screenshot: {
		press: ['S'],
		check({state, effects}) {
			expect(state).toEqual(SHOWN);
			expect(effects).toEqual([{kind: 'screenshot'}]);
		},
	},
	'cycle-outbound-drop': {
		press: ['o'],
		state: {...SHOWN, selectedId: 'n2'},
		context: meshContext(),
		check({state, effects}) {
			expect(state.memberFaults).toEqual({n2: {outboundDrop: 0.1}});
			expect(effects).toEqual([{kind: 'set-member-fault', member: 'n2', fault: {direction: 'outbound', fault: {drop: 0.1}}, done: {text: 'outbound drop 10% on n2', tone: 'fault'}}]);
		},
	},
	partition: {
		press: ['P'],
		state: {...SHOWN, selectedId: 'n2'},
		context: meshContext(),
		check({state, effects}) {
			expect(state.partitionStep).toBe('halves');
			expect(effects).toEqual([{kind: 'partition', shape: 'halves', selected: 'n2'}]);
		},
	},
	'toggle-mesh': {
		press: ['m'],
		context: meshContext(),
		check({state, effects}) {
			expect(state).toEqual({...SHOWN, meshOpen: true});
			expect(effects).toEqual([]);
		},
	},
	'replay-play': replayCase([' '], 'toggle-play'),
	'replay-faster': replayCase(['+'], 'faster'),
	'replay-slower': replayCase(['-'], 'slower'),
	'replay-back': replayCase(['', {leftArrow: true}], 'back'),
	'replay-forward': replayCase(['', {rightArrow: true}], 'forward'),
	'replay-previous-event': replayCase(['['], 'previous-event'),
	'replay-next-event': replayCase([']'], 'next-event'),
	'replay-start': replayCase(['g'], 'start'),
	'replay-end': replayCase(['G'], 'end'),
};

/** A replay key: on a replay screen it asks the player for `command`, and changes nothing else. */
function replayCase(keys: KeyCase['press'], command: ReplayCommand): KeyCase {
	return {
		press: keys,
		context: contextOf({replay: true, readonly: true}),
		check({state, effects}) {
			expect(state).toEqual(SHOWN);
			expect(effects).toEqual([{kind: 'replay', command}]);
		},
	};
}

describe('every key of the keymap', () => {
	test('has a case here', () => {
		expect(Object.keys(KEY_CASES).sort()).toEqual(KEYMAP.map((binding) => binding.action).sort());
	});

	for (const [action, keyCase] of Object.entries(KEY_CASES) as Array<[Action, KeyCase]>) {
		test(`${KEYMAP.find((binding) => binding.action === action)!.keys}: ${action}`, () => {
			const [input, key] = keyCase.press;
			keyCase.check(press(keyCase.state ?? SHOWN, input, key, keyCase.context));
		});
	}

	test('a key clears the last message; a key the keymap does not know changes nothing', () => {
		const said = {...SHOWN, message: message('demo-1 paused', 'action')};
		expect(press(said, 'j').state.message).toBeUndefined();
		expect(press(said, 'z')).toEqual({state: said, effects: []});
	});
});

describe('selection', () => {
	test('moves stop at the first and the last row', () => {
		expect(pressAll(SHOWN, ['k', 'k']).state.selectedId).toBe('demo-1');
		expect(pressAll(SHOWN, ['G', 'j']).state.selectedId).toBe('demo-5');
		expect(press({...SHOWN, selectedId: 'demo-4'}, '', {pageDown: true}).state.selectedId).toBe('demo-5');
	});

	test('a selected peer that left hands the selection to the row now at its place', () => {
		const state = {...SHOWN, selectedId: 'gone', selectedIndex: 2};
		expect(press(state, 'j').state.selectedId).toBe('demo-4');
	});

	test('with no rows, moves and peer actions do nothing, and the fault keys say why', () => {
		const empty = contextOf({rows: []});
		expect(pressAll(initialUiState, ['j', 'G', 'p', 'r'], empty)).toEqual({state: initialUiState, effects: []});
		expect(press(initialUiState, 'd', {}, empty)).toEqual({state: {...initialUiState, message: message('no peer selected', 'warn')}, effects: []});
		expect(press(initialUiState, 'x', {}, empty).state.message).toEqual(message('no peer selected', 'warn'));
	});

	test('a render places the selection: on its id, else at its old place, scrolled into view', () => {
		const rows = rowsOf('demo-1', 'demo-2', 'demo-3', 'demo-4', 'demo-5');
		expect(placeSelection({...SHOWN, selectedId: 'demo-5'}, rows, 2)).toEqual({selectedIndex: 4, scrollTop: 3});
		expect(placeSelection({...SHOWN, selectedId: 'gone', selectedIndex: 3, scrollTop: 3}, rows, 2)).toEqual({selectedIndex: 3, scrollTop: 3});
		expect(placeSelection({...SHOWN, selectedId: 'demo-1', scrollTop: 3}, rows, 2)).toEqual({selectedIndex: 0, scrollTop: 0});
		expect(placeSelection(initialUiState, [], 2)).toEqual({selectedIndex: -1, scrollTop: 0});
	});

	test('what a render showed is kept; a key that moved the selection since wins', () => {
		const first = reduceUi(initialUiState, {type: 'shown', renderedId: undefined, selectedIndex: 0, selectedId: 'demo-1', scrollTop: 0}, contextOf());
		expect(first).toEqual({state: SHOWN, effects: []});
		expect(reduceUi(SHOWN, {type: 'shown', renderedId: 'demo-1', selectedIndex: 0, selectedId: 'demo-1', scrollTop: 0}, contextOf()).state).toBe(SHOWN);
		const moved = press(initialUiState, 'j').state;
		expect(moved.selectedId).toBe('demo-2');
		const late = reduceUi(moved, {type: 'shown', renderedId: undefined, selectedIndex: 0, selectedId: 'demo-1', scrollTop: 0}, contextOf());
		expect(late.state.selectedId).toBe('demo-2');
		const scrolled = reduceUi(SHOWN, {type: 'shown', renderedId: 'demo-1', selectedIndex: -1, selectedId: undefined, scrollTop: 4}, contextOf());
		expect(scrolled.state).toEqual({...SHOWN, selectedIndex: 0, scrollTop: 4});
	});
});

describe('fault keys', () => {
	/** Faults a controller holds, changed by the effects as a session would. */
	function faultsHeld(): {context: UiContext; apply: (effects: UiEffect[]) => void} {
		let faults: FaultsInForce = {peers: {}};
		const context = contextOf({faultsInForce: () => faults});
		const apply = (effects: UiEffect[]) => {
			for (const effect of effects) {
				if (effect.kind === 'set-inbound-fault') {
					faults =
						effect.target === ALL_PEERS
							? {...faults, all: {...NO_INBOUND_FAULT, ...faults.all, ...effect.patch}}
							: {...faults, peers: {...faults.peers, [effect.target]: {...NO_INBOUND_FAULT, ...faults.peers[effect.target], ...effect.patch}}};
				}
			}
		};

		return {context, apply};
	}

	for (const [input, field, steps] of [
		['d', 'drop', DROP_STEPS],
		['l', 'delayMs', DELAY_STEPS_MS],
	] as const) {
		test(`${input} steps ${field} through ${steps.join(', ')} from the fault in force, and wraps`, () => {
			const {context, apply} = faultsHeld();
			const seen: unknown[] = [];
			for (const _step of steps) {
				const {effects} = press(SHOWN, input, {}, context);
				apply(effects);
				seen.push(effects[0]?.kind === 'set-inbound-fault' ? effects[0].patch : undefined);
			}

			expect(seen).toEqual([...steps.slice(1), steps[0]].map((value) => ({[field]: value})));
		});
	}

	test('a value between steps goes up to the next one; all peers read the fault on all', () => {
		const between = contextOf({faultsInForce: () => ({all: {...NO_INBOUND_FAULT, drop: 0.2}, peers: {'demo-1': {...NO_INBOUND_FAULT, delayMs: 1000}}})});
		expect(press({...SHOWN, targetAll: true}, 'd', {}, between).effects).toMatchObject([{target: ALL_PEERS, patch: {drop: 0.3}}]);
		expect(press(SHOWN, 'l', {}, between).effects).toMatchObject([{target: 'demo-1', patch: {delayMs: 0}, done: {text: 'inbound delay off on demo-1'}}]);
	});

	test('the target toggles back to the selected peer, and an id is escaped in the message', () => {
		const back = pressAll(SHOWN, ['a', 'a']).state;
		expect(back.targetAll).toBe(false);
		expect(back.message).toEqual(message('faults (d, l, o) now target the selected member', 'action'));
		const odd = contextOf({rows: rowsOf('evil\u001B]0;x\u0007')});
		expect(press(initialUiState, 'd', {}, odd).effects).toMatchObject([{target: 'evil\u001B]0;x\u0007', done: {text: String.raw`inbound drop 10% on evil\x1b]0;x\x07`}}]);
	});
});

describe('prompts', () => {
	test('x waits for y (or Y): y kills, any other key cancels and says so', () => {
		const asking = press(SHOWN, 'x').state;
		expect(press(asking, 'y')).toEqual({state: SHOWN, effects: [{kind: 'kill-peer', id: 'demo-1'}]});
		expect(press(asking, 'Y').effects).toEqual([{kind: 'kill-peer', id: 'demo-1'}]);
		expect(press(asking, 'd')).toEqual({state: {...SHOWN, message: message('kill cancelled', 'muted')}, effects: []});
	});

	test('the filter prompt takes printable keys, Backspace, Enter keeps, Esc clears', () => {
		const typed = pressAll(SHOWN, ['/', 'd', 'q', 'x']).state;
		expect(typed).toMatchObject({editingFilter: true, filter: 'dqx', quitting: false});
		const erased = press(typed, '', {backspace: true}).state;
		expect(erased.filter).toBe('dq');
		expect(press(erased, '', {delete: true}).state.filter).toBe('d');
		expect(press(typed, '\r', {return: true}).state).toMatchObject({editingFilter: false, filter: 'dqx'});
		expect(press(typed, '', {escape: true}).state).toMatchObject({editingFilter: false, filter: ''});
		expect(press(typed, 'a', {ctrl: true}).state).toBe(typed);
		expect(press(typed, 'a\u001B[31mb\u0007').state.filter).toBe('dqxa[31mb');
	});

	test('outside the prompt, Esc clears a kept filter', () => {
		const kept = {...SHOWN, filter: 'demo'};
		expect(press(kept, '', {escape: true}).state.filter).toBe('');
		expect(press(SHOWN, '', {escape: true}).state).toBe(SHOWN);
	});

	test('any key closes the help, and does nothing else', () => {
		const open = press(SHOWN, '?').state;
		expect(press(open, 'd')).toEqual({state: SHOWN, effects: []});
	});
});

describe('modes', () => {
	test('--readonly turns every key that changes the mesh off, and says which', () => {
		const readonly = contextOf({readonly: true});
		for (const binding of KEYMAP.filter((each) => each.changesMesh)) {
			const input = binding.keys.split(' ')[0]!;
			expect(press(SHOWN, input, {}, readonly)).toEqual({state: {...SHOWN, message: message(`read-only (--readonly): ${binding.keys} is off`, 'warn')}, effects: []});
		}

		expect(press(SHOWN, 'j', {}, readonly).state.selectedId).toBe('demo-2');
	});

	test('space again follows the mesh again', () => {
		expect(pressAll(SHOWN, [' ', ' ']).state.frozenView).toBeUndefined();
	});

	test('s cycles id, age, phase, Lamport', () => {
		expect([1, 2, 3, 4].map((count) => pressAll(SHOWN, Array.from({length: count}, () => 's')).state.sort)).toEqual(['age', 'phase', 'lamport', 'id']);
	});

	test('Ctrl-C quits from any prompt; once quitting, keys do nothing', () => {
		const asking = press(SHOWN, 'x').state;
		const quitting = press(asking, 'c', {ctrl: true});
		expect(quitting.effects).toEqual([{kind: 'quit'}]);
		expect(quitting.state.quitting).toBe(true);
		for (const input of ['q', 'd', 'y']) {
			expect(press(quitting.state, input)).toEqual({state: quitting.state, effects: []});
		}

		expect(press(quitting.state, 'c', {ctrl: true}).effects).toEqual([]);
	});

	test('an effect reports its result on the status line for a while', () => {
		const reported = reduceUi(SHOWN, {type: 'report', text: 'demo-1 killed', tone: 'action'}, contextOf());
		expect(reported).toEqual({state: {...SHOWN, message: message('demo-1 killed', 'action')}, effects: []});
	});

	test('several characters in one read are keys one at a time, except in the filter prompt or with Ctrl or Meta', () => {
		expect(keysOf(SHOWN, 'jdd', keyOf())).toEqual(['j', 'd', 'd']);
		expect(keysOf(SHOWN, 'j', keyOf())).toEqual(['j']);
		expect(keysOf({...SHOWN, editingFilter: true}, 'demo', keyOf())).toEqual(['demo']);
		expect(keysOf(SHOWN, 'ab', keyOf({meta: true}))).toEqual(['ab']);
	});
});

describe('status line', () => {
	const table = {rows: rowsOf('demo-1', 'demo-2', 'demo-3'), selected: rowsOf('demo-1')[0], scrollTop: 0, height: 2};
	const isDemoPeer = (id: string) => id.startsWith('demo-');

	test('says where the operator stands: target, sort, rows shown and the filter', () => {
		expect(statusLine(SHOWN, table, NOW_MS, isDemoPeer)).toEqual({text: 'target demo-1 · sort id · rows 1–2 of 3', tone: 'muted'});
		expect(statusLine({...SHOWN, targetAll: true, sort: 'age', filter: 'de'}, {...table, scrollTop: 1}, NOW_MS, isDemoPeer).text).toBe(
			'target ALL peers · sort age, oldest first · rows 2–3 of 3 · filter "de"',
		);
		expect(statusLine(initialUiState, {rows: [], selected: undefined, scrollTop: 0, height: 2}, NOW_MS, isDemoPeer).text).toBe('target – · sort id · rows 0–0 of 0');
	});

	test('a prompt or a fresh message takes its place', () => {
		expect(statusLine({...SHOWN, confirmKill: 'demo-2'}, table, NOW_MS, isDemoPeer)).toEqual({text: 'kill demo peer demo-2 (SIGKILL)? y kills, any other key cancels', tone: 'bad'});
		expect(statusLine({...SHOWN, confirmKill: 'far'}, table, NOW_MS, isDemoPeer).text).toMatch(/^far is remote: blackhole it here/);
		expect(statusLine({...SHOWN, editingFilter: true, filter: 'de'}, table, NOW_MS, isDemoPeer)).toEqual({text: 'filter ids: de▏ (Enter keeps, Esc clears)', tone: 'label'});
		const said = {...SHOWN, message: message('all faults cleared', 'fault')};
		expect(statusLine(said, table, NOW_MS + MESSAGE_MS - 1, isDemoPeer)).toEqual({text: 'all faults cleared', tone: 'fault'});
		expect(statusLine(said, table, NOW_MS + MESSAGE_MS, isDemoPeer).tone).toBe('muted');
		expect(statusLine({...said, quitting: true}, table, NOW_MS, isDemoPeer)).toEqual({text: 'stopping the demo peers and the node…', tone: 'warn'});
	});
});

describe('replay', () => {
	const replay = contextOf({replay: true, readonly: true});

	test('space, g and G move the replay there, and keep their live meaning on a live screen', () => {
		expect(press(SHOWN, ' ', {}, replay).effects).toEqual([{kind: 'replay', command: 'toggle-play'}]);
		expect(press(SHOWN, ' ').state.frozenView).toBe(liveView);
		expect(press(SHOWN, 'G').state.selectedId).toBe('demo-5');
		expect(press(SHOWN, 'G', {}, replay).effects).toEqual([{kind: 'replay', command: 'end'}]);
		// Home and End still select in a replay.
		expect(press(SHOWN, '', {end: true}, replay).state.selectedId).toBe('demo-5');
	});

	test('the replay keys do nothing on a live screen', () => {
		for (const input of ['+', '-', '[', ']']) {
			expect(press(SHOWN, input)).toEqual({state: SHOWN, effects: []});
		}

		expect(press(SHOWN, '', {leftArrow: true})).toEqual({state: SHOWN, effects: []});
	});

	test('every key that changes a mesh is off and says REPLAY-wise why; selection, sort and S still work', () => {
		for (const input of ['d', 'l', 'x', 'p', 'r', 'a', 'c']) {
			const {state, effects} = press(SHOWN, input, {}, replay);
			expect(effects).toEqual([]);
			expect(state.message?.text).toMatch(/^replay: \S+ is off \(nothing here changes a mesh\)$/);
			expect(state.confirmKill).toBeUndefined();
		}

		expect(press(SHOWN, 'j', {}, replay).state.selectedId).toBe('demo-2');
		expect(press(SHOWN, 's', {}, replay).state.sort).toBe('age');
		expect(press(SHOWN, 'S', {}, replay).effects).toEqual([{kind: 'screenshot'}]);
	});
});

describe('the whole mesh', () => {
	const on = (id: string): UiState => ({...SHOWN, selectedId: id});

	test('m opens and closes the mesh view; without the session methods (a replay) it says why and stays', () => {
		const open = press(SHOWN, 'm', {}, meshContext()).state;
		expect(open.meshOpen).toBe(true);
		expect(press(open, 'm', {}, meshContext()).state.meshOpen).toBe(false);
		expect(press(SHOWN, 'm')).toEqual({state: {...SHOWN, message: message('m: the mesh view needs a live session with a control plane', 'warn')}, effects: []});
		// Not a key that changes the mesh: it works read-only and in a replay.
		expect(press(SHOWN, 'm', {}, meshContext({readonly: true})).state.meshOpen).toBe(true);
	});

	test('d, l and o on a member with a control plane go through setMemberFault, stepping from what this console set', () => {
		const {state, effects} = pressAll(on('n1'), ['d', 'd', 'l', 'o', 'o'], meshContext());
		expect(effects.map((effect) => (effect.kind === 'set-member-fault' ? [effect.member, effect.fault] : effect.kind))).toEqual([
			['n1', {direction: 'inbound', target: ALL_PEERS, fault: {drop: 0.1}}],
			['n1', {direction: 'inbound', target: ALL_PEERS, fault: {drop: 0.3}}],
			['n1', {direction: 'inbound', target: ALL_PEERS, fault: {delayMs: 50}}],
			['n1', {direction: 'outbound', fault: {drop: 0.1}}],
			['n1', {direction: 'outbound', fault: {drop: 0.3}}],
		]);
		expect(state.memberFaults).toEqual({n1: {drop: 0.3, delayMs: 50, outboundDrop: 0.3}});
		expect(effects[0]).toMatchObject({done: {text: 'inbound drop 10% on n1', tone: 'fault'}});
	});

	test('with nothing set by this console, a member steps from the faults its last view reports', () => {
		const context = meshContext({memberFaults: (id) => (id === 'n2' ? {all: {...NO_INBOUND_FAULT, drop: 0.5}, peers: {}, outbound: {drop: 1, delayMs: 0, jitterMs: 0}} : undefined)});
		expect(press(on('n2'), 'd', {}, context).effects).toMatchObject([{member: 'n2', fault: {fault: {drop: 1}}}]);
		expect(press(on('n2'), 'o', {}, context).effects).toMatchObject([{member: 'n2', fault: {direction: 'outbound', fault: {drop: 0}}}]);
	});

	test('a member with no control plane goes to setMemberFault too (the session acts locally and says so)', () => {
		expect(press(on('py'), 'd', {}, meshContext()).effects).toMatchObject([{kind: 'set-member-fault', member: 'py', fault: {direction: 'inbound'}}]);
	});

	test('this node: d and l through setMemberFault from its own faults, o on its own outbound', () => {
		const context = meshContext({faultsInForce: () => ({all: {...NO_INBOUND_FAULT, drop: 0.1}, peers: {}, outbound: {drop: 0.3, delayMs: 0, jitterMs: 0}})});
		expect(press(on('self'), 'd', {}, context).effects).toEqual([
			{kind: 'set-member-fault', member: 'self', fault: {direction: 'inbound', target: ALL_PEERS, fault: {drop: 0.3}}, done: {text: 'inbound drop 30% on this node', tone: 'fault'}},
		]);
		expect(press(on('self'), 'o', {}, context).effects).toEqual([{kind: 'set-outbound-fault', patch: {drop: 0.5}, done: {text: 'outbound drop 50% on this node', tone: 'fault'}}]);
	});

	test('a demo peer keeps its faults in its own process; o says why it does not apply there', () => {
		expect(press(on('demo-1'), 'd', {}, meshContext()).effects).toMatchObject([{kind: 'set-inbound-fault', target: 'demo-1', patch: {drop: 0.1}}]);
		const {state, effects} = press(on('demo-1'), 'o', {}, meshContext());
		expect(effects).toEqual([]);
		expect(state.message?.text).toBe('o: no outbound fault on demo-1 (a demo peer’s d and l act both ways in its process)');
	});

	test('with the target on all peers (a), d and o act on this node: what it hears from all, what it publishes', () => {
		const all = {...SHOWN, targetAll: true};
		expect(press(all, 'd', {}, meshContext()).effects).toMatchObject([{kind: 'set-inbound-fault', target: ALL_PEERS, patch: {drop: 0.1}}]);
		expect(press(all, 'o', {}, meshContext()).effects).toMatchObject([{kind: 'set-outbound-fault', patch: {drop: 0.1}}]);
	});

	test('without setMemberFault, d on a remote peer is a fault here, as before', () => {
		const context = meshContext({capabilities: {...ALL_CAPABILITIES, memberFaults: false}});
		expect(press(on('n1'), 'd', {}, context).effects).toMatchObject([{kind: 'set-inbound-fault', target: 'n1', patch: {drop: 0.1}}]);
		expect(press(on('n1'), 'o', {}, context).state.message?.text).toBe('o: no outbound fault on n1 (the session cannot reach members)');
	});

	test('x on a remote member asks to stop it: y calls stopMember, any other key cancels', () => {
		const asking = press(on('n3'), 'x', {}, meshContext());
		expect(asking).toEqual({state: {...on('n3'), confirmStop: 'n3'}, effects: []});
		expect(press(asking.state, 'y', {}, meshContext())).toEqual({state: on('n3'), effects: [{kind: 'stop-member', id: 'n3'}]});
		expect(press(asking.state, 'n', {}, meshContext())).toEqual({state: {...on('n3'), message: message('stop cancelled', 'muted')}, effects: []});
		expect(press(asking.state, 'c', {ctrl: true}, meshContext()).effects).toEqual([{kind: 'quit'}]);
	});

	test('x on a demo peer kills it as before; on a legacy member it blackholes here; on this node it says q quits', () => {
		expect(press(on('demo-1'), 'x', {}, meshContext()).state.confirmKill).toBe('demo-1');
		expect(press(on('py'), 'x', {}, meshContext()).state).toMatchObject({confirmKill: 'py', confirmStop: undefined});
		expect(press(on('self'), 'x', {}, meshContext())).toEqual({state: {...on('self'), message: message('x: that is this node; q quits it', 'warn')}, effects: []});
		// Without stopMember a remote member is blackholed here, as before.
		expect(press(on('n1'), 'x', {}, meshContext({capabilities: {...ALL_CAPABILITIES, stopMember: false}})).state.confirmKill).toBe('n1');
	});

	test('P cycles halves → isolate → bridge → ring → none → halves, around the selected member', () => {
		const {effects} = pressAll(on('n2'), ['P', 'P', 'P', 'P', 'P', 'P'], meshContext());
		expect(effects).toEqual(
			['halves', 'isolate', 'bridge', 'ring', 'none', 'halves'].map((shape) => ({kind: 'partition', shape, selected: 'n2'})),
		);
	});

	test('P goes on from the partition in force (set by another console) when this one set none', () => {
		expect(press(on('n2'), 'P', {}, meshContext({partitionInForce: 'bridge'})).effects).toEqual([{kind: 'partition', shape: 'ring', selected: 'n2'}]);
	});

	test('the session confirming a partition names it; a refusal names nothing new, and the cycle goes on', () => {
		const asked = press(on('n2'), 'P', {}, meshContext()).state;
		const set = reduceUi(asked, {type: 'partitioned', shape: 'halves', ok: true}, meshContext()).state;
		expect(set).toMatchObject({partitionStep: 'halves', partitionSet: {shape: 'halves', atWallMs: NOW_MS}});
		const refused = reduceUi(press(set, 'P', {}, meshContext()).state, {type: 'partitioned', shape: 'isolate', ok: false}, meshContext()).state;
		expect(refused).toMatchObject({partitionStep: 'isolate', partitionSet: {shape: 'halves'}});
		expect(press(refused, 'P', {}, meshContext()).effects).toMatchObject([{shape: 'bridge'}]);
		const lifted = reduceUi(set, {type: 'partitioned', shape: 'none', ok: true}, meshContext()).state;
		expect(lifted.partitionSet).toEqual({shape: undefined, atWallMs: NOW_MS});
	});

	test('the mesh view scrolls its rows to the selected member; one with no row keeps the rows at their end', () => {
		const members = rowsOf('self', 'n1', 'n2', 'n3', 'py');
		expect(placeMemberSelection(on('n3'), members, 4, 2)).toEqual({selectedIndex: 3, scrollTop: 2});
		expect(placeMemberSelection({...on('py'), scrollTop: 0}, members, 4, 2)).toEqual({selectedIndex: 4, scrollTop: 2});
		expect(placeMemberSelection({...on('gone'), selectedIndex: 1, scrollTop: 3}, members, 4, 2)).toEqual({selectedIndex: 1, scrollTop: 1});
	});

	test('P without the session method says so', () => {
		expect(press(on('n2'), 'P').state.message).toEqual(message('P: partitions need a live session with a control plane', 'warn'));
	});

	test('c clears every member (clearAll) and forgets what this console set; without clearAll, today’s clear', () => {
		const dirty = {...on('n1'), memberFaults: {n1: {drop: 0.3}}, partitionStep: 'ring' as const, partitionSet: {shape: 'ring' as const, atWallMs: 0}};
		expect(press(dirty, 'c', {}, meshContext())).toEqual({
			state: {...dirty, memberFaults: {}, partitionStep: 'none', partitionSet: {shape: undefined, atWallMs: NOW_MS}},
			effects: [{kind: 'clear-all', done: {text: 'every fault on every member cleared', tone: 'fault'}}],
		});
		expect(press(dirty, 'c', {}, meshContext({capabilities: {...ALL_CAPABILITIES, clearAll: false}})).effects).toEqual([
			{kind: 'clear-faults', done: {text: 'all faults cleared', tone: 'fault'}},
		]);
	});

	test('--readonly turns P, o and c off in the mesh view too; a replay says so its own way', () => {
		for (const input of ['P', 'o', 'c', 'd', 'x']) {
			expect(press(on('n1'), input, {}, meshContext({readonly: true})).effects).toEqual([]);
			expect(press(on('n1'), input, {}, meshContext({readonly: true, replay: true})).state.message?.text).toMatch(/^replay: /);
		}
	});

	test('the status line: the stop prompt says remote, exit and supervisor; the mesh view and the partition are named', () => {
		const members = {rows: rowsOf('self', 'n1'), selected: rowsOf('n1')[0], scrollTop: 0, height: 9};
		expect(statusLine({...SHOWN, confirmStop: 'n1'}, members, NOW_MS, () => false)).toEqual({
			text: 'stop remote n1? It will exit; its supervisor may restart it. y stops it, other keys cancel',
			tone: 'bad',
		});
		expect(statusLine(SHOWN, members, NOW_MS, () => false, {mesh: 'rows 1–2 of 2 · 3 members', partition: 'halves'})).toEqual({
			text: 'MESH · partition halves · target n1 · rows 1–2 of 2 · 3 members',
			tone: 'fault',
		});
		expect(statusLine(SHOWN, members, NOW_MS, () => false, {partition: 'ring'}).text).toBe('partition ring · target n1 · sort id · rows 1–2 of 2');
	});
});
