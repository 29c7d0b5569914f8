/**
The root of the terminal UI, and its view: it reads the mesh through one store, draws the panes
from what the operator chose (the UI's state, state.ts), hands each key to the reducer and performs
the controller calls the reducer returns. It holds no mesh logic and no key logic.
*/

import {Box, useApp, useInput} from 'ink';
import {useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState} from 'react';
import type {MeshController, MeshMatrix, PartitionShape, PeerActionResult} from '../session/controller.js';
import {EventLog} from './components/EventLog.js';
import {Footer} from './components/Footer.js';
import {Header} from './components/Header.js';
import {HelpOverlay} from './components/HelpOverlay.js';
import {PainterContext} from './components/Lines.js';
import {meshLegendLines, MeshView} from './components/MeshView.js';
import {PeerTable} from './components/PeerTable.js';
import {TooSmall} from './components/TooSmall.js';
import {escapeControl} from './format.js';
import {useMeshView} from './hooks/use-snapshot.js';
import {useTerminalSize, type TerminalSize} from './hooks/use-terminal-size.js';
import {computeLayout, splitBody, splitMeshBody} from './layout.js';
import {meshSelection} from './mesh-rows.js';
import {MeshStore, type MeshView as StoreView} from './mesh-store.js';
import {buildRows, filterRows, sortRows} from './peer-rows.js';
import {writeScreenshot, type ScreenSource} from './screenshot.js';
import {
	initialUiState,
	keysOf,
	placeMemberSelection,
	placeSelection,
	reduceUi,
	type MemberKind,
	type MeshCapabilities,
	type ReplayCommand,
	type UiAction,
	type UiEffect,
} from './state.js';
import {statusLine, type StatusLine} from './status-line.js';
import type {Painter} from './terminal/index.js';
import {createTheme, ThemeContext, type Tone} from './theme.js';

/** Where a replay stands, and how to move it: the replay player (run/replay-player.ts) gives it. */
export type ReplayControl = {
	playing: boolean;
	speed: number;
	/** The recording's first and last record times (recorded wall clock). */
	startMs: number;
	endMs: number;
	/** Played to the end (paused there). */
	atEnd: boolean;
	command: (command: ReplayCommand) => void;
};

export type AppProps = {
	controller: MeshController;
	/** The peers' TTL: the full length of a TTL bar. */
	ttlMs: number;
	/**
	Turn every key that changes the mesh off, for watching a production mesh.
	@default false
	*/
	readonly?: boolean;
	/**
	Colours; false gives a screen with no escape sequences for styling at all.
	@default true
	*/
	color?: boolean;
	/** Terminal size; by default the real terminal's, following resizes. Tests pass one. */
	size?: TerminalSize;
	/** The store to read; by default one that samples `controller` 10 times a second. */
	store?: MeshStore;
	/**
	Draws the panes' lines straight into the boxes Ink lays out (see components/Lines.tsx); the live
	terminal passes the one of its screen diff. Without it the panes are plain Ink text.
	*/
	painter?: Painter;
	/**
	A replay (`chorus-tui replay`) instead of a live mesh: its keys work, the fault keys are off and the
	footer says REPLAY.
	*/
	replay?: ReplayControl;
	/** What `S` writes: the screen as painted. Without it, `S` says it cannot. */
	screen?: ScreenSource;
	/**
	Where `S` writes its SVG and text files.
	@default the current directory
	*/
	screenshotDir?: string;
};

export function App(props: AppProps) {
	const theme = useMemo(() => createTheme(props.color ?? true), [props.color]);
	return (
		<ThemeContext.Provider value={theme}>
			<PainterContext.Provider value={props.painter}>
				<Screen {...props} />
			</PainterContext.Provider>
		</ThemeContext.Provider>
	);
}

function Screen({controller, ttlMs, readonly: readonlyFlag = false, size: fixedSize, store: givenStore, painter, replay, screen, screenshotDir = '.'}: AppProps) {
	// Nothing in a replay changes a mesh.
	const readonly = readonlyFlag || replay !== undefined;
	const replayRef = useRef(replay);
	replayRef.current = replay;
	const {exit} = useApp();
	const terminalSize = useTerminalSize();
	const {columns, rows} = fixedSize ?? terminalSize;
	const layout = useMemo(() => computeLayout(columns, rows), [columns, rows]);

	const store = useMemo(() => givenStore ?? new MeshStore(controller), [givenStore, controller]);
	useEffect(() => {
		store.start();
		return () => {
			store.stop();
		};
	}, [store]);
	const liveView = useMeshView(store);

	const [state, setState] = useState(initialUiState);
	// Keys can arrive several in one read (a paste, or typing over a slow SSH link): the reducer
	// reads the state through this ref, so that the second key sees what the first one did.
	const stateRef = useRef(state);

	const capabilities = useMemo(() => capabilitiesOf(controller), [controller]);
	// The session pulls every member's view only while the mesh view is open: a large mesh costs nothing otherwise.
	const meshOpen = state.meshOpen && capabilities.view;
	useEffect(() => {
		if (!meshOpen) {
			return undefined;
		}

		controller.watchMesh?.(true);
		return () => {
			controller.watchMesh?.(false);
		};
	}, [controller, meshOpen]);

	const view = state.frozenView ?? liveView;
	// A store whose source does not carry the matrix (a recording's sampler) still shows a live one.
	const matrix = freshMatrix(view.mesh !== undefined || state.frozenView ? view : {...view, ...meshOf(controller)}, meshOpen);
	const allRows = useMemo(() => sortRows(buildRows(view.snapshot), state.sort), [view.snapshot, state.sort]);
	const shownRows = useMemo(() => filterRows(allRows, state.filter), [allRows, state.filter]);
	const members = useMemo(() => meshSelection(matrix), [matrix]);
	const {tableRows, logLines} = meshOpen ? splitMeshBody(layout, matrix?.rows.length ?? 0, meshLegendLines(matrix)) : splitBody(layout, shownRows.length);
	const selectable = meshOpen ? members : shownRows;
	const {selectedIndex, scrollTop} = meshOpen ? placeMemberSelection(state, members, matrix?.rows.length ?? 0, tableRows) : placeSelection(state, shownRows, tableRows);
	const selected = selectedIndex === -1 ? undefined : selectable[selectedIndex];
	const selectedRowId = selected?.id;
	// Keys act on the rows as the screen shows them: those of the last commit.
	const onScreen = useRef({rows: selectable, pageRows: tableRows});
	useLayoutEffect(() => {
		onScreen.current = {rows: selectable, pageRows: tableRows};
	}, [selectable, tableRows]);

	const dispatch = useCallback(
		function dispatch(action: UiAction) {
			const {state: next, effects} = reduceUi(stateRef.current, action, {
				...onScreen.current,
				readonly,
				replay: replayRef.current !== undefined,
				nowMs: Date.now(),
				liveView: store.getView(),
				faultsInForce: () => controller.snapshot().faults,
				capabilities,
				memberKind: (id) => memberKindOf(id, controller, store.getView()),
				memberFaults: (id) => store.getView().mesh?.rows.find((row) => row.id === id)?.faults,
				partitionInForce: store.getView().mesh?.partition?.shape,
			});
			if (next !== stateRef.current) {
				stateRef.current = next;
				setState(next);
			}

			for (const effect of effects) {
				perform(effect, {
					controller,
					store,
					exit,
					replay: replayRef.current,
					screen,
					screenshotDir,
					report(text, tone) {
						dispatch({type: 'report', text, tone});
					},
					partitioned(shape, ok) {
						dispatch({type: 'partitioned', shape, ok});
					},
				});
			}
		},
		[controller, store, readonly, exit, screen, screenshotDir, capabilities],
	);

	useEffect(() => {
		dispatch({type: 'shown', renderedId: state.selectedId, selectedIndex, selectedId: selectedRowId, scrollTop});
	}, [dispatch, state.selectedId, selectedIndex, selectedRowId, scrollTop]);

	useInput((input, key) => {
		for (const each of keysOf(stateRef.current, input, key)) {
			dispatch({type: 'key', input: each, key});
		}
	});

	if (layout.tooSmall) {
		return <TooSmall columns={columns} rows={rows} />;
	}

	if (state.helpOpen) {
		return <HelpOverlay columns={columns} lines={layout.frameLines} readonly={readonly} replay={replay !== undefined} />;
	}

	// A message's time is up at the first render after it: the store's samples render 10 times a second.
	// What this console set, until a pull newer than that says what is in force (another console may change it).
	const setHere = state.partitionSet;
	const partition = matrix !== undefined && (setHere === undefined || matrix.pulledAtWallMs > setHere.atWallMs) ? matrix.partition?.shape : setHere?.shape;
	const status = replay
		? replayStatus(state, replay, view.wallMs)
		: statusLine(state, {rows: selectable, selected, scrollTop, height: tableRows}, Date.now(), (id) => controller.isDemoPeer(id), {
				partition,
				mesh: meshOpen ? meshSummary(matrix, scrollTop, tableRows) : undefined,
			});
	// With a painter every pane below is painted, and Ink's own output would be a blank frame: Ink
	// still builds it cell by cell (about 7 MB of garbage a frame at 120×40, most of the garbage
	// collector's work). So the column gets no height of its own: Yoga lays the panes out just the
	// same (they keep their sizes and places, overflowing it), and Ink's frame is empty.
	return (
		<Box flexDirection="column" width={columns} height={painter ? 0 : layout.frameLines}>
			<Header
				snapshot={view.snapshot}
				rHistory={view.rHistory}
				wallMs={view.wallMs}
				columns={columns}
				frozen={state.frozenView !== undefined}
				readonly={readonly}
				replay={replay !== undefined}
				mesh={matrix}
				meshOpen={meshOpen}
			/>
			{meshOpen ? (
				<MeshView matrix={matrix} selectedId={selectedRowId} scrollTop={scrollTop} height={tableRows} columns={columns} />
			) : (
				<PeerTable
					rows={shownRows}
					selectedIndex={selectedIndex}
					scrollTop={scrollTop}
					height={tableRows}
					columns={layout.table}
					ttlMs={ttlMs}
					sort={state.sort}
					emptyText={state.filter === '' ? 'waiting for peers…' : `no peer id contains "${state.filter}" (Esc clears the filter)`}
				/>
			)}
			<EventLog entries={view.log} lines={logLines} columns={columns} />
			<Footer columns={columns} status={status.text} statusTone={status.tone} readonly={readonly} replay={replay !== undefined} />
		</Box>
	);
}

/** How old a pull may be for the header's global r when the mesh view is closed (the session stops pulling then). */
const MATRIX_FRESH_MS = 5000;

/** The matrix to show: always with the mesh view open (its rows say how old they are), else only while recent. */
function freshMatrix(view: StoreView, meshOpen: boolean): MeshMatrix | undefined {
	const {mesh} = view;
	if (mesh === undefined) {
		return undefined;
	}

	return meshOpen || view.wallMs - mesh.pulledAtWallMs < MATRIX_FRESH_MS ? mesh : undefined;
}

function meshOf(controller: MeshController): {mesh?: MeshMatrix} {
	const mesh = controller.meshMatrix?.();
	return mesh === undefined ? {} : {mesh};
}

function capabilitiesOf(controller: MeshController): MeshCapabilities {
	return {
		view: typeof controller.meshMatrix === 'function' && typeof controller.watchMesh === 'function',
		memberFaults: typeof controller.setMemberFault === 'function',
		partition: typeof controller.partition === 'function',
		clearAll: typeof controller.clearAll === 'function',
		stopMember: typeof controller.stopMember === 'function',
	};
}

/** What a member is to this console: this node, a demo peer of ours, a member with or without a control plane. */
function memberKindOf(id: string, controller: MeshController, view: StoreView): MemberKind | undefined {
	if (id === view.snapshot.node.id) {
		return 'self';
	}

	if (controller.isDemoPeer(id)) {
		return 'demo';
	}

	const member = view.snapshot.members?.find((each) => each.id === id);
	if (member !== undefined) {
		return member.control === undefined ? 'legacy' : 'remote';
	}

	const column = view.mesh?.columns.find((each) => each.id === id);
	return column === undefined ? undefined : column.legacy ? 'legacy' : 'remote';
}

/** The status line's words for the mesh view: rows shown, members, and how old the pull is. */
function meshSummary(matrix: MeshMatrix | undefined, scrollTop: number, height: number): string {
	if (matrix === undefined) {
		return 'pulling every member’s view…';
	}

	const rows = matrix.rows.length;
	const first = rows === 0 ? 0 : scrollTop + 1;
	return `rows ${first}–${Math.min(rows, scrollTop + height)} of ${rows} · ${matrix.columns.length} members`;
}

/** Session time as m:ss.mmm. */
function formatSessionTime(ms: number): string {
	const clamped = Math.max(0, ms);
	const minutes = Math.floor(clamped / 60_000);
	return `${minutes}:${((clamped % 60_000) / 1000).toFixed(3).padStart(6, '0')}`;
}

/**
A replay's status line: playing or paused, the speed, and the session time of the view on screen
(the recorded clock of its snapshot, to the millisecond), unless an action's result is fresh.
*/
function replayStatus(state: Parameters<typeof statusLine>[0], replay: ReplayControl, viewWallMs: number): StatusLine {
	if (state.quitting) {
		return {text: 'leaving the replay…', tone: 'warn'};
	}

	if (state.message && state.message.untilWallMs > Date.now()) {
		return {text: state.message.text, tone: state.message.tone};
	}

	const speed = replay.speed < 1 ? `${replay.speed === 0.25 ? '¼' : '½'}×` : `${replay.speed}×`;
	const where = `${formatSessionTime(viewWallMs - replay.startMs)} / ${formatSessionTime(replay.endMs - replay.startMs)}`;
	return {text: `${replay.playing ? '▶ playing' : replay.atEnd ? '■ end' : '❚❚ paused'} ${speed}  at ${where}`, tone: replay.playing ? 'action' : 'muted'};
}

type EffectTools = {
	controller: MeshController;
	store: MeshStore;
	exit: () => void;
	replay: ReplayControl | undefined;
	screen: ScreenSource | undefined;
	screenshotDir: string;
	/** Show an effect's result on the status line. */
	report: (text: string, tone: Tone) => void;
	/** Tell the reducer whether the partition P asked for is in force. */
	partitioned: (shape: PartitionShape | 'none', ok: boolean) => void;
};

/**
Do on the controller what a key asked for, and show the result on the status line. The controller
records what it did as an event, which reaches the log; a refusal is not an event, so it is logged
here.
*/
function perform(effect: UiEffect, {controller, store, exit, replay, screen, screenshotDir, report, partitioned}: EffectTools): void {
	/** A change the controller makes at once or refuses by throwing one line. */
	const attempt = (change: () => void, done: {text: string; tone: Tone}) => {
		try {
			change();
		} catch (error) {
			const text = escapeControl((error as Error).message ?? String(error));
			store.log(text, 'warn');
			report(text, 'warn');
			return;
		}

		report(done.text, done.tone);
	};

	/** A peer action: its result comes later. */
	const act = (what: Promise<{ok: boolean; message: string}>, then?: (ok: boolean) => void) => {
		what.then(
			(result) => {
				then?.(result.ok);
				const text = escapeControl(result.message);
				if (!result.ok) {
					store.log(text, 'warn');
				}

				report(text, result.ok ? 'action' : 'warn');
			},
			(error: unknown) => {
				then?.(false);
				const text = `failed: ${escapeControl((error as Error).message ?? String(error))}`;
				store.log(text, 'bad');
				report(text, 'bad');
			},
		);
	};

	/** A mesh action: the session's one line says what it did (on how many members, or locally). */
	const meshAct = (method: ((...args: never[]) => Promise<PeerActionResult>) | undefined, call: () => Promise<PeerActionResult>, name: string, then?: (ok: boolean) => void) => {
		if (method === undefined) {
			report(`${name}: not in this session`, 'warn');
			then?.(false);
			return;
		}

		act(call(), then);
	};

	switch (effect.kind) {
		case 'set-outbound-fault': {
			attempt(() => {
				controller.setOutboundFault(effect.patch);
			}, effect.done);
			break;
		}

		case 'set-member-fault': {
			meshAct(
				controller.setMemberFault,
				async () => {
					const result = await controller.setMemberFault!(effect.member, effect.fault);
					return result.message === '' ? {...result, message: effect.done.text} : result;
				},
				'faults on members',
			);
			break;
		}

		case 'partition': {
			const {shape} = effect;
			const then = (ok: boolean) => {
				partitioned(shape, ok);
			};

			if (shape === 'none') {
				// Lifting a partition is clearing every member: its blackholes are faults like the others.
				meshAct(controller.clearAll, async () => controller.clearAll!(), 'lifting the partition', then);
			} else {
				meshAct(controller.partition, async () => controller.partition!(shape, effect.selected), 'partitions', then);
			}

			break;
		}

		case 'clear-all': {
			meshAct(controller.clearAll, async () => controller.clearAll!(), 'clearing every member');
			break;
		}

		case 'stop-member': {
			meshAct(controller.stopMember, async () => controller.stopMember!(effect.id), 'stopping members');
			break;
		}

		case 'set-inbound-fault': {
			attempt(() => {
				controller.setInboundFault(effect.target, effect.patch);
			}, effect.done);
			break;
		}

		case 'clear-faults': {
			attempt(() => {
				controller.clearFaults();
			}, effect.done);
			break;
		}

		case 'kill-peer': {
			act(controller.killPeer(effect.id));
			break;
		}

		case 'toggle-pause-peer': {
			act(controller.togglePausePeer(effect.id));
			break;
		}

		case 'revive-peer': {
			act(controller.revivePeer(effect.id));
			break;
		}

		case 'replay': {
			replay?.command(effect.command);
			break;
		}

		case 'screenshot': {
			if (!screen) {
				report('screenshot: this screen has no painter to read', 'warn');
				break;
			}

			writeScreenshot(screen, screenshotDir).then(
				({svgPath}) => {
					report(`screenshot ${escapeControl(svgPath)} (+ .txt)`, 'action');
				},
				(error: unknown) => {
					const text = `screenshot failed: ${escapeControl((error as NodeJS.ErrnoException).code ?? (error as Error).message)}`;
					store.log(text, 'bad');
					report(text, 'bad');
				},
			);
			break;
		}

		case 'quit': {
			controller
				.stop()
				.catch(() => undefined)
				.finally(() => {
					exit();
				});
			break;
		}
	}
}
