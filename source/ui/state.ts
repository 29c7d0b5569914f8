/**
What the operator chose on the terminal UI (view, selection, scroll, sort, filter, target, freeze,
help, a kill or stop waiting for y, the partition it set, the status message) and what each key
does to it: a pure reducer. The view
(app.tsx) keeps one UiState, hands each key press to `reduceUi` with what is on screen, and performs
the effects it returns on the MeshController. Controller calls are data here, so every key of the
keymap is tested without rendering.
*/

import type {Key} from 'ink';
import {ALL_PEERS, type FaultsInForce, type InboundFault, type OutboundFault} from '../mesh/model/fault-types.js';
import type {MemberFault, PartitionShape} from '../session/controller.js';
import {escapeControl, formatDelay, formatPercent} from './format.js';
import {bindingFor, DELAY_STEPS_MS, DROP_STEPS, nextStep, PARTITION_CYCLE, type Action} from './keymap.js';
import type {MeshView} from './mesh-store.js';
import {resolveSelection, scrollFor, SORT_KEYS, type SelectableRow, type SortKey} from './peer-rows.js';
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
	/** The remote member a stop waits on: y asks it to exit (its control plane's `stop`), any other key cancels. */
	confirmStop: string | undefined;
	/** The mesh view (`m`: who hears whom) is shown instead of the peer table. */
	meshOpen: boolean;
	/** Where P's cycle stands: the shape it last asked for ('none': lifted); undefined before the first P. */
	partitionStep: PartitionShape | 'none' | undefined;
	/**
	The partition this console set (or lifted: shape undefined) and the session confirmed, and when:
	the footer names it until a pull newer than that says what is in force.
	*/
	partitionSet: {shape: PartitionShape | undefined; atWallMs: number} | undefined;
	/**
	The faults this console set on members through their control planes, by member id: what d, l and
	o step from, since the mesh view's pull lags a key press by up to a second.
	*/
	memberFaults: Record<string, MemberFaultLevels>;
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
	confirmStop: undefined,
	meshOpen: false,
	partitionStep: undefined,
	partitionSet: undefined,
	memberFaults: {},
	frozenView: undefined,
	message: undefined,
	quitting: false,
};

/** The levels the fault keys step through, as set on one member. */
export type MemberFaultLevels = {drop?: number; delayMs?: number; outboundDrop?: number};

/** What a member is to this console: which door a key on it goes through. */
export type MemberKind =
	/** This node itself (a member in the mesh view). */
	| 'self'
	/** One of our local demo processes: faults act in its process, x kills it. */
	| 'demo'
	/** A member with a control plane: faults through it, x stops it. */
	| 'remote'
	/** A member with no control plane: faults act here, locally. */
	| 'legacy';

/** Which of the optional MeshController methods the session has (a replay has none). */
export type MeshCapabilities = {
	/** meshMatrix and watchMesh: the mesh view. */
	view: boolean;
	/** setMemberFault: d, l and o on any member. */
	memberFaults: boolean;
	partition: boolean;
	clearAll: boolean;
	stopMember: boolean;
};

export const NO_MESH_CAPABILITIES: MeshCapabilities = {view: false, memberFaults: false, partition: false, clearAll: false, stopMember: false};

/** What the status line says once the controller took a change. */
export type Done = {text: string; tone: Tone};

/** A call on the MeshController that a key asks for; the view performs it. */
export type UiEffect =
	| {kind: 'set-inbound-fault'; target: string; patch: Partial<InboundFault>; done: Done}
	/** This node's outbound fault (what it publishes). */
	| {kind: 'set-outbound-fault'; patch: Partial<OutboundFault>; done: Done}
	/** A fault on any member, through the session (its control plane, or here for a legacy member). */
	| {kind: 'set-member-fault'; member: string; fault: MemberFault; done: Done}
	| {kind: 'clear-faults'; done: Done}
	/** Every fault on every member, partitions included. */
	| {kind: 'clear-all'; done: Done}
	/** Set a partition of this shape on every member, or lift the one in force ('none'). */
	| {kind: 'partition'; shape: PartitionShape | 'none'; selected: string | undefined}
	| {kind: 'kill-peer' | 'toggle-pause-peer' | 'revive-peer' | 'stop-member'; id: string}
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
	/** The rows as last shown: the peer table's, sorted and filtered; or the mesh view's members. */
	rows: readonly SelectableRow[];
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
	/**
	The optional MeshController methods the session has.
	@default none (the keys that need them say so)
	*/
	capabilities?: MeshCapabilities;
	/**
	What a member is to this console; undefined for an id it does not know as a member.
	@default undefined for every id
	*/
	memberKind?: (id: string) => MemberKind | undefined;
	/** The faults on a member as its last pulled `view` says; undefined when not known. */
	memberFaults?: (id: string) => FaultsInForce | undefined;
	/** The partition in force as the last pull says (another console may have set it). */
	partitionInForce?: PartitionShape | undefined;
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
	| {type: 'report'; text: string; tone: Tone}
	/** Whether the partition P asked for is in force: a refused one is not named as in force. */
	| {type: 'partitioned'; shape: PartitionShape | 'none'; ok: boolean};

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

		case 'partitioned': {
			// Refused (isolate with nothing selected, say): the cycle goes on from it, and what was in force stays named.
			if (!action.ok) {
				return stateOnly(state);
			}

			return stateOnly({...state, partitionSet: {shape: action.shape === 'none' ? undefined : action.shape, atWallMs: context.nowMs}});
		}
	}
}

/**
Where the selection and the scroll are when `rows` are shown `height` at a time: on the selected id
if it is still shown, else at the same position; scrolled just enough to keep it in view.
*/
export function placeSelection(state: UiState, rows: readonly SelectableRow[], height: number): {selectedIndex: number; scrollTop: number} {
	const selectedIndex = resolveSelection(rows, state.selectedId, state.selectedIndex);
	return {selectedIndex, scrollTop: scrollFor(Math.max(0, selectedIndex), state.scrollTop, height, rows.length)};
}

/**
Where the selection and the scroll are in the mesh view: `members` are its rows (`rowCount` of
them, shown `height` at a time) then the members with no row, listed under the matrix. The rows
scroll to keep the selection in view; with a member that has no row selected, they stay at the end.
*/
export function placeMemberSelection(state: UiState, members: readonly SelectableRow[], rowCount: number, height: number): {selectedIndex: number; scrollTop: number} {
	const selectedIndex = resolveSelection(members, state.selectedId, state.selectedIndex);
	return {selectedIndex, scrollTop: scrollFor(Math.max(0, Math.min(selectedIndex, rowCount - 1)), state.scrollTop, height, rowCount)};
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

	if (state.confirmStop !== undefined) {
		const id = state.confirmStop;
		const next = {...state, confirmStop: undefined};
		return input === 'y' || input === 'Y' ? {state: next, effects: [{kind: 'stop-member', id}]} : stateOnly(say(next, context, 'stop cancelled', 'muted'));
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

		case 'cycle-outbound-drop': {
			return cycleOutboundDrop(state, context);
		}

		case 'kill': {
			return askToKill(state, context);
		}

		case 'partition': {
			return nextPartition(state, context);
		}

		case 'toggle-mesh': {
			if (!capabilitiesOf(context).view) {
				return stateOnly(say(state, context, 'm: the mesh view needs a live session with a control plane', 'warn'));
			}

			return stateOnly({...state, meshOpen: !state.meshOpen});
		}

		case 'pause': {
			return onSelected(state, context, 'toggle-pause-peer');
		}

		case 'revive': {
			return onSelected(state, context, 'revive-peer');
		}

		case 'toggle-target': {
			const targetAll = !state.targetAll;
			return stateOnly(say({...state, targetAll}, context, `faults (d, l, o) now target ${targetAll ? 'all peers here' : 'the selected member'}`));
		}

		case 'clear-faults': {
			if (capabilitiesOf(context).clearAll) {
				return {
					state: {...state, memberFaults: {}, partitionStep: 'none', partitionSet: {shape: undefined, atWallMs: context.nowMs}},
					effects: [{kind: 'clear-all', done: {text: 'every fault on every member cleared', tone: 'fault'}}],
				};
			}

			return {state: {...state, memberFaults: {}}, effects: [{kind: 'clear-faults', done: {text: 'all faults cleared', tone: 'fault'}}]};
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

/**
Whom a fault key acts on:
- `here-all`: every peer, on this node (the `a` target);
- `here-peer`: one peer, as before members had control planes: a demo peer in its own process, or
  a peer here on this node when the session cannot reach members;
- `member`: any member through the session's setMemberFault (its control plane; this node itself;
  or here, locally, for a member with no control plane, as the result then says).
*/
type FaultTargetChoice = {kind: 'here-all'} | {kind: 'here-peer'; id: string} | {kind: 'member'; id: string; self: boolean};

function faultTarget(state: UiState, context: UiContext): FaultTargetChoice | undefined {
	if (state.targetAll) {
		return {kind: 'here-all'};
	}

	const row = selectedRow(state, context);
	if (!row) {
		return undefined;
	}

	const kind = context.memberKind?.(row.id);
	if (kind === 'demo') {
		return {kind: 'here-peer', id: row.id};
	}

	if (!capabilitiesOf(context).memberFaults) {
		return kind === 'self' ? {kind: 'here-all'} : {kind: 'here-peer', id: row.id};
	}

	return {kind: 'member', id: row.id, self: kind === 'self'};
}

function targetLabel(target: FaultTargetChoice): string {
	switch (target.kind) {
		case 'here-all': {
			return 'all peers';
		}

		case 'here-peer': {
			return escapeControl(target.id);
		}

		case 'member': {
			return target.self ? 'this node' : escapeControl(target.id);
		}
	}
}

/** Set the target's fault to the step after the one in force now (wrapping to the first). */
function cycleFault(state: UiState, cycle: FaultCycle, context: UiContext): Reduced {
	const target = faultTarget(state, context);
	if (!target) {
		return stateOnly(say(state, context, 'no peer selected', 'warn'));
	}

	const done = (value: number): Done => ({text: `${cycle.describe(value)} on ${targetLabel(target)}`, tone: 'fault'});
	if (target.kind !== 'member') {
		const id = target.kind === 'here-all' ? ALL_PEERS : target.id;
		const faults = context.faultsInForce();
		const inForce = id === ALL_PEERS ? faults.all : faults.peers[id];
		const value = nextStep(cycle.steps, inForce?.[cycle.field] ?? 0);
		return {state, effects: [{kind: 'set-inbound-fault', target: id, patch: {[cycle.field]: value}, done: done(value)}]};
	}

	// A member's fault is on what it receives from every peer: that member hears less, or later.
	const inForce = target.self ? (context.faultsInForce().all?.[cycle.field] ?? 0) : memberLevel(state, context, target.id, cycle.field);
	const value = nextStep(cycle.steps, inForce);
	return {
		state: rememberLevel(state, target.id, cycle.field, value),
		effects: [{kind: 'set-member-fault', member: target.id, fault: {direction: 'inbound', target: ALL_PEERS, fault: {[cycle.field]: value}}, done: done(value)}],
	};
}

/** `o`: the target's outbound drop (what it publishes) to the next step. */
function cycleOutboundDrop(state: UiState, context: UiContext): Reduced {
	const target = faultTarget(state, context);
	if (!target) {
		return stateOnly(say(state, context, 'no peer selected', 'warn'));
	}

	const describe = (value: number): Done => ({text: `outbound drop ${formatPercent(value)} on ${target.kind === 'here-all' ? 'this node' : targetLabel(target)}`, tone: 'fault'});
	if (target.kind === 'here-all' || (target.kind === 'member' && target.self)) {
		const value = nextStep(DROP_STEPS, context.faultsInForce().outbound?.drop ?? 0);
		return {state, effects: [{kind: 'set-outbound-fault', patch: {drop: value}, done: describe(value)}]};
	}

	if (target.kind === 'here-peer') {
		const why = context.memberKind?.(target.id) === 'demo' ? 'a demo peer’s d and l act both ways in its process' : 'the session cannot reach members';
		return stateOnly(say(state, context, `o: no outbound fault on ${escapeControl(target.id)} (${why})`, 'warn'));
	}

	const value = nextStep(DROP_STEPS, memberLevel(state, context, target.id, 'outboundDrop'));
	return {
		state: rememberLevel(state, target.id, 'outboundDrop', value),
		effects: [{kind: 'set-member-fault', member: target.id, fault: {direction: 'outbound', fault: {drop: value}}, done: describe(value)}],
	};
}

/** The level a member's fault is at: what this console set, else what its last view says, else none. */
function memberLevel(state: UiState, context: UiContext, id: string, field: keyof MemberFaultLevels): number {
	const set = state.memberFaults[id]?.[field];
	if (set !== undefined) {
		return set;
	}

	const faults = context.memberFaults?.(id);
	return (field === 'outboundDrop' ? faults?.outbound?.drop : faults?.all?.[field]) ?? 0;
}

function rememberLevel(state: UiState, id: string, field: keyof MemberFaultLevels, value: number): UiState {
	return {...state, memberFaults: {...state.memberFaults, [id]: {...state.memberFaults[id], [field]: value}}};
}

/**
`x`: a demo peer is killed (SIGKILL), a remote member asked to exit (its supervisor may restart
it), a member with no control plane blackholed here; each once y confirms. Not this node: q quits.
*/
function askToKill(state: UiState, context: UiContext): Reduced {
	const selected = selectedRow(state, context);
	if (!selected) {
		return stateOnly(say(state, context, 'no peer selected', 'warn'));
	}

	const kind = context.memberKind?.(selected.id);
	if (kind === 'self') {
		return stateOnly(say(state, context, 'x: that is this node; q quits it', 'warn'));
	}

	if (kind === 'remote' && capabilitiesOf(context).stopMember) {
		return stateOnly({...state, confirmStop: selected.id});
	}

	return stateOnly({...state, confirmKill: selected.id});
}

/** `P`: the next shape of the cycle, from the one this console set (else the one in force). */
function nextPartition(state: UiState, context: UiContext): Reduced {
	if (!capabilitiesOf(context).partition) {
		return stateOnly(say(state, context, 'P: partitions need a live session with a control plane', 'warn'));
	}

	const current = state.partitionStep ?? context.partitionInForce ?? 'none';
	const shape = PARTITION_CYCLE[(PARTITION_CYCLE.indexOf(current) + 1) % PARTITION_CYCLE.length]!;
	return {state: {...state, partitionStep: shape}, effects: [{kind: 'partition', shape, selected: selectedRow(state, context)?.id}]};
}

function capabilitiesOf(context: UiContext): MeshCapabilities {
	return context.capabilities ?? NO_MESH_CAPABILITIES;
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
function selectedRow(state: UiState, context: UiContext): SelectableRow | undefined {
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
