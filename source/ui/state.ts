/**
What the operator chose on the terminal UI (selection, scroll, sort, filter, target, freeze, help,
a kill waiting for y, the status message) and what each key does to it: a pure reducer. The view
(app.tsx) keeps one UiState, hands each key press to `reduceUi` with what is on screen, and performs
the effects it returns on the MeshController. Controller calls are data here, so every key of the
keymap is tested without rendering.
*/

import type {Key} from 'ink';
import {ALL_PEERS, type FaultsInForce, type InboundFault} from '../mesh/model/fault-types.js';
import {escapeControl, formatDelay, formatPercent} from './format.js';
import {bindingFor, DELAY_STEPS_MS, DROP_STEPS, nextStep, type Action} from './keymap.js';
import type {MeshView} from './mesh-store.js';
import {resolveSelection, scrollFor, SORT_KEYS, type PeerRowData, type SortKey} from './peer-rows.js';
import type {Tone} from './theme.js';

/** How long an action's result stays on the status line. */
export const MESSAGE_MS = 5000;

export type StatusMessage = {text: string; tone: Tone; untilWallMs: number};

export type UiState = {
	/** The selected peer; it stays selected across re-sorting, filtering and new peers. */
	selectedId: string | undefined;
	/** Where the selection was last shown: it falls back there when its peer leaves the rows. */
	selectedIndex: number;
	/** The first row shown, as last shown: the table scrolls just enough to keep the selection in view. */
	scrollTop: number;
	sort: SortKey;
	/** Only ids containing this are shown; '' shows every row. */
	filter: string;
	/** The filter prompt is open: keys type into the filter. */
	editingFilter: boolean;
	/** The fault keys (d, l) act on every peer instead of the selected one. */
	targetAll: boolean;
	helpOpen: boolean;
	/** The peer a kill waits on: y kills it, any other key cancels. */
	confirmKill: string | undefined;
	/** The view the display is frozen on; undefined while it follows the mesh. */
	frozenView: MeshView | undefined;
	/** The last action's result, shown on the status line until its time is up. */
	message: StatusMessage | undefined;
	/** The node and the demo peers are stopping: keys do nothing any more. */
	quitting: boolean;
};

export const initialUiState: UiState = {
	selectedId: undefined,
	selectedIndex: 0,
	scrollTop: 0,
	sort: 'id',
	filter: '',
	editingFilter: false,
	targetAll: false,
	helpOpen: false,
	confirmKill: undefined,
	frozenView: undefined,
	message: undefined,
	quitting: false,
};

/** What the status line says once the controller took a change. */
export type Done = {text: string; tone: Tone};

/** A call on the MeshController that a key asks for; the view performs it. */
export type UiEffect =
	| {kind: 'set-inbound-fault'; target: string; patch: Partial<InboundFault>; done: Done}
	| {kind: 'clear-faults'; done: Done}
	| {kind: 'kill-peer' | 'toggle-pause-peer' | 'revive-peer'; id: string}
	/** Write the screen as it is now to the screenshot folder (SVG and text). */
	| {kind: 'screenshot'}
	/** Move a replay: play or pause, change speed, seek. */
	| {kind: 'replay'; command: ReplayCommand}
	| {kind: 'quit'};

/** What the replay keys ask of the player. */
export type ReplayCommand = 'toggle-play' | 'faster' | 'slower' | 'back' | 'forward' | 'previous-event' | 'next-event' | 'start' | 'end';

const REPLAY_COMMANDS: Partial<Record<Action, ReplayCommand>> = {
	'replay-play': 'toggle-play',
	'replay-faster': 'faster',
	'replay-slower': 'slower',
	'replay-back': 'back',
	'replay-forward': 'forward',
	'replay-previous-event': 'previous-event',
	'replay-next-event': 'next-event',
	'replay-start': 'start',
	'replay-end': 'end',
};

/** What is on the screen when a key is pressed: the reducer reads it, never changes it. */
export type UiContext = {
	/** The rows as last shown: sorted and filtered. */
	rows: readonly PeerRowData[];
	/** Rows the table shows at once: what PgUp and PgDn move by. */
	pageRows: number;
	/** Every key that changes the mesh is off (--readonly, and in a replay). */
	readonly: boolean;
	/**
	The screen is a replay (`chorus-tui replay`): its keys (space, + -, ← →, [ ], g G) work and the
	fault keys say they are off.
	@default false
	*/
	replay?: boolean;
	/** Wall-clock time now: when a status message is due to go. */
	nowMs: number;
	/** The mesh as the store holds it now: what space freezes on. */
	liveView: MeshView;
	/** The faults in force now, from the controller rather than the last sample: what d and l step from. */
	faultsInForce: () => FaultsInForce;
};

export type UiAction =
	/** A key press, as Ink reports it. */
	| {type: 'key'; input: string; key: Key}
	/**
	A render of the state whose selection was `renderedId` showed the selection at `selectedIndex`
	(the row `selectedId`; none when no row is shown) and the rows from `scrollTop`.
	*/
	| {type: 'shown'; renderedId: string | undefined; selectedIndex: number; selectedId: string | undefined; scrollTop: number}
	/** The result of an effect, for the status line. */
	| {type: 'report'; text: string; tone: Tone};

export type Reduced = {state: UiState; effects: UiEffect[]};

export function reduceUi(state: UiState, action: UiAction, context: UiContext): Reduced {
	switch (action.type) {
		case 'key': {
			return reduceKey(state, action.input, action.key, context);
		}

		case 'shown': {
			const selectedIndex = Math.max(0, action.selectedIndex);
			// The selection moves to where the render found it (the first row at first, or a neighbour
			// of a peer that left), unless a key moved it since: React reports a render a little later.
			const selectedId = action.selectedId !== undefined && state.selectedId === action.renderedId ? action.selectedId : state.selectedId;
			if (selectedIndex === state.selectedIndex && selectedId === state.selectedId && action.scrollTop === state.scrollTop) {
				return stateOnly(state);
			}

			return stateOnly({...state, selectedIndex, selectedId, scrollTop: action.scrollTop});
		}

		case 'report': {
			return stateOnly(say(state, context, action.text, action.tone));
		}
	}
}

/**
Where the selection and the scroll are when `rows` are shown `height` at a time: on the selected id
if it is still shown, else at the same position; scrolled just enough to keep it in view.
*/
export function placeSelection(state: UiState, rows: readonly PeerRowData[], height: number): {selectedIndex: number; scrollTop: number} {
	const selectedIndex = resolveSelection(rows, state.selectedId, state.selectedIndex);
	return {selectedIndex, scrollTop: scrollFor(Math.max(0, selectedIndex), state.scrollTop, height, rows.length)};
}

/**
The keys of one input. Ink hands several characters read at once over as one input (it takes them
for a paste); but outside the filter prompt they are keys typed quickly, over a slow link perhaps:
one at a time.
*/
export function keysOf(state: UiState, input: string, key: Key): string[] {
	return input.length > 1 && !state.editingFilter && !key.ctrl && !key.meta ? [...input] : [input];
}

function reduceKey(state: UiState, input: string, key: Key, context: UiContext): Reduced {
	if (state.quitting) {
		return stateOnly(state);
	}

	if (key.ctrl && input === 'c') {
		return quit(state);
	}

	if (state.confirmKill !== undefined) {
		const id = state.confirmKill;
		const next = {...state, confirmKill: undefined};
		return input === 'y' || input === 'Y' ? {state: next, effects: [{kind: 'kill-peer', id}]} : stateOnly(say(next, context, 'kill cancelled', 'muted'));
	}

	if (state.editingFilter) {
		return stateOnly(editFilter(state, input, key));
	}

	if (state.helpOpen) {
		return stateOnly({...state, helpOpen: false});
	}

	const binding = bindingFor(input, key, context.replay ? 'replay' : 'live');
	if (!binding) {
		return stateOnly(key.escape && state.filter !== '' ? {...state, filter: ''} : state);
	}

	const cleared = state.message === undefined ? state : {...state, message: undefined};
	if (context.replay && binding.changesMesh) {
		return stateOnly(say(cleared, context, `replay: ${binding.keys} is off (nothing here changes a mesh)`, 'warn'));
	}

	if (context.readonly && binding.changesMesh) {
		return stateOnly(say(cleared, context, `read-only (--readonly): ${binding.keys} is off`, 'warn'));
	}

	return runAction(cleared, binding.action, context);
}

/** A key in the filter prompt: Enter keeps the filter, Esc clears it, the rest edits it. */
function editFilter(state: UiState, input: string, key: Key): UiState {
	if (key.return) {
		return {...state, editingFilter: false};
	}

	if (key.escape) {
		return {...state, editingFilter: false, filter: ''};
	}

	if (key.backspace || key.delete) {
		return {...state, filter: state.filter.slice(0, -1)};
	}

	if (input && !key.ctrl && !key.meta) {
		// The filter is typed by the operator, but a paste can carry anything: keep printables.
		return {...state, filter: (state.filter + input).replaceAll(/[\u0000-\u001F\u007F-\u009F]/gu, '')};
	}

	return state;
}

/** What a key of the keymap does. */
function runAction(state: UiState, action: Action, context: UiContext): Reduced {
	switch (action) {
		case 'select-up': {
			return stateOnly(moveBy(state, context, -1));
		}

		case 'select-down': {
			return stateOnly(moveBy(state, context, 1));
		}

		case 'page-up': {
			return stateOnly(moveBy(state, context, -context.pageRows));
		}

		case 'page-down': {
			return stateOnly(moveBy(state, context, context.pageRows));
		}

		case 'select-first': {
			return stateOnly(moveBy(state, context, -context.rows.length));
		}

		case 'select-last': {
			return stateOnly(moveBy(state, context, context.rows.length));
		}

		case 'cycle-drop':
		case 'cycle-delay': {
			return cycleFault(state, FAULT_CYCLES[action], context);
		}

		case 'kill': {
			const selected = selectedRow(state, context);
			return stateOnly(selected ? {...state, confirmKill: selected.id} : say(state, context, 'no peer selected', 'warn'));
		}

		case 'pause': {
			return onSelected(state, context, 'toggle-pause-peer');
		}

		case 'revive': {
			return onSelected(state, context, 'revive-peer');
		}

		case 'toggle-target': {
			const targetAll = !state.targetAll;
			return stateOnly(say({...state, targetAll}, context, `faults (d, l) now target ${targetAll ? 'all peers' : 'the selected peer'}`));
		}

		case 'clear-faults': {
			return {state, effects: [{kind: 'clear-faults', done: {text: 'all faults cleared', tone: 'fault'}}]};
		}

		case 'freeze': {
			return stateOnly({...state, frozenView: state.frozenView ? undefined : context.liveView});
		}

		case 'filter': {
			return stateOnly({...state, editingFilter: true});
		}

		case 'sort': {
			return stateOnly({...state, sort: SORT_KEYS[(SORT_KEYS.indexOf(state.sort) + 1) % SORT_KEYS.length]!});
		}

		case 'help': {
			return stateOnly({...state, helpOpen: true});
		}

		case 'screenshot': {
			return {state, effects: [{kind: 'screenshot'}]};
		}

		case 'quit': {
			return quit(state);
		}

		default: {
			const command = REPLAY_COMMANDS[action];
			return command === undefined ? stateOnly(state) : {state, effects: [{kind: 'replay', command}]};
		}
	}
}

/** A fault key: one field of the inbound fault, the steps it goes through, and how a step reads. */
type FaultCycle = {
	field: 'drop' | 'delayMs';
	steps: readonly number[];
	describe: (value: number) => string;
};

const FAULT_CYCLES: Record<'cycle-drop' | 'cycle-delay', FaultCycle> = {
	'cycle-drop': {field: 'drop', steps: DROP_STEPS, describe: (drop) => `inbound drop ${formatPercent(drop)}`},
	'cycle-delay': {
		field: 'delayMs',
		steps: DELAY_STEPS_MS,
		describe: (delayMs) => `inbound delay ${delayMs === 0 ? 'off' : formatDelay(delayMs)}`,
	},
};

/** Set the target's fault to the step after the one in force now (wrapping to the first). */
function cycleFault(state: UiState, cycle: FaultCycle, context: UiContext): Reduced {
	const target = faultTarget(state, context);
	if (!target) {
		return stateOnly(say(state, context, 'no peer selected', 'warn'));
	}

	const faults = context.faultsInForce();
	const inForce = target.id === ALL_PEERS ? faults.all : faults.peers[target.id];
	const value = nextStep(cycle.steps, inForce?.[cycle.field] ?? 0);
	return {
		state,
		effects: [
			{kind: 'set-inbound-fault', target: target.id, patch: {[cycle.field]: value}, done: {text: `${cycle.describe(value)} on ${target.label}`, tone: 'fault'}},
		],
	};
}

/** Whom the fault keys act on: every peer, or the selected one; undefined when none is selected. */
function faultTarget(state: UiState, context: UiContext): {id: string; label: string} | undefined {
	if (state.targetAll) {
		return {id: ALL_PEERS, label: 'all peers'};
	}

	const row = selectedRow(state, context);
	return row ? {id: row.id, label: escapeControl(row.id)} : undefined;
}

/** A process action on the selected peer; none without a selection. */
function onSelected(state: UiState, context: UiContext, kind: 'toggle-pause-peer' | 'revive-peer'): Reduced {
	const selected = selectedRow(state, context);
	return {state, effects: selected ? [{kind, id: selected.id}] : []};
}

function quit(state: UiState): Reduced {
	return state.quitting ? stateOnly(state) : {state: {...state, quitting: true}, effects: [{kind: 'quit'}]};
}

/** The selected row, as the key sees it (after keys earlier in the same read). */
function selectedRow(state: UiState, context: UiContext): PeerRowData | undefined {
	return context.rows[resolveSelection(context.rows, state.selectedId, state.selectedIndex)];
}

function moveBy(state: UiState, context: UiContext, delta: number): UiState {
	const {rows} = context;
	const index = resolveSelection(rows, state.selectedId, state.selectedIndex);
	const row = rows[Math.min(Math.max(0, index + delta), rows.length - 1)];
	return row ? {...state, selectedId: row.id} : state;
}

function say(state: UiState, context: UiContext, text: string, tone: Tone = 'action'): UiState {
	return {...state, message: {text, tone, untilWallMs: context.nowMs + MESSAGE_MS}};
}

/** A new state and nothing for the controller to do. */
function stateOnly(state: UiState): Reduced {
	return {state, effects: []};
}
