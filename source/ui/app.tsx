/**
The root of the terminal UI: it reads the mesh through one store, keeps what the operator chose
(selection, sort, filter, target, freeze) and turns key presses into controller calls. It holds no
mesh logic.
*/

import {Box, useApp, useInput, type Key} from 'ink';
import {useCallback, useEffect, useMemo, useRef, useState} from 'react';
import {ALL_PEERS} from '../mesh/model/fault-types.js';
import type {MeshController} from '../session/controller.js';
import {EventLog} from './components/EventLog.js';
import {Footer} from './components/Footer.js';
import {Header} from './components/Header.js';
import {HelpOverlay} from './components/HelpOverlay.js';
import {PainterContext} from './components/Lines.js';
import {PeerTable} from './components/PeerTable.js';
import {TooSmall} from './components/TooSmall.js';
import {escapeControl, formatDelay, formatPercent} from './format.js';
import {useMeshView} from './hooks/use-snapshot.js';
import {useTerminalSize, type TerminalSize} from './hooks/use-terminal-size.js';
import {bindingFor, DELAY_STEPS_MS, DROP_STEPS, nextStep, type Action} from './keymap.js';
import {computeLayout} from './layout.js';
import {MeshStore, type MeshView} from './mesh-store.js';
import {
	buildRows,
	filterRows,
	resolveSelection,
	scrollFor,
	sortRows,
	SORT_KEYS,
	SORT_LABEL,
	type SortKey,
} from './peer-rows.js';
import type {Painter} from './terminal/screen-diff.js';
import {createTheme, ThemeContext, type Tone} from './theme.js';

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
};

type Message = {text: string; tone: Tone; untilWallMs: number};

/** How long an action's result stays on the status line. */
const MESSAGE_MS = 5000;

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

function Screen({controller, ttlMs, readonly = false, size: fixedSize, store: givenStore, painter}: AppProps) {
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

	const [frozenView, setFrozenView] = useState<MeshView | undefined>();
	// Keys can arrive several in one read (a paste, or typing over a slow SSH link): state the key
	// handler reads is kept in refs too, so the second key sees what the first one did.
	const [selectedId, setSelectedId, selectedIdRef] = useRefState<string | undefined>(undefined);
	const [sort, setSort] = useState<SortKey>('id');
	const [filter, setFilter, filterRef] = useRefState('');
	const [editingFilter, setEditingFilter, editingFilterRef] = useRefState(false);
	const [targetAll, setTargetAll, targetAllRef] = useRefState(false);
	const [helpOpen, setHelpOpen, helpOpenRef] = useRefState(false);
	const [confirmKill, setConfirmKill, confirmKillRef] = useRefState<string | undefined>(undefined);
	const [message, setMessage] = useState<Message | undefined>();
	const [quitting, setQuitting] = useState(false);
	const previousIndex = useRef(0);
	const scrollTop = useRef(0);

	const view = frozenView ?? liveView;
	const allRows = useMemo(() => sortRows(buildRows(view.snapshot), sort), [view.snapshot, sort]);
	const shownRows = useMemo(() => filterRows(allRows, filter), [allRows, filter]);
	const selectedIndex = resolveSelection(shownRows, selectedId, previousIndex.current);
	const selected = selectedIndex === -1 ? undefined : shownRows[selectedIndex];
	// Lines the table does not need (few peers) go to the event log; the frame keeps its height.
	const tableRows = layout.tooSmall ? 1 : layout.logLines > 0 ? Math.min(layout.tableRows, Math.max(3, shownRows.length)) : layout.tableRows;
	const logLines = layout.tooSmall || layout.logLines === 0 ? 0 : layout.logLines + layout.tableRows - tableRows;
	scrollTop.current = scrollFor(Math.max(0, selectedIndex), scrollTop.current, tableRows, shownRows.length);

	useEffect(() => {
		previousIndex.current = Math.max(0, selectedIndex);
		if (selected && selected.id !== selectedId) {
			setSelectedId(selected.id);
		}
	}, [selected, selectedId, selectedIndex]);

	const say = useCallback(
		(text: string, tone: Tone = 'action') => {
			setMessage({text, tone, untilWallMs: Date.now() + MESSAGE_MS});
		},
		[],
	);

	/**
	Run a peer action and show its result on the status line. The controller records what it did
	as an event, which reaches the log; a refusal is not an event, so it is logged here.
	*/
	const act = useCallback(
		(what: Promise<{ok: boolean; message: string}>) => {
			what.then(
				(result) => {
					const text = escapeControl(result.message);
					if (!result.ok) {
						store.log(text, 'warn');
					}

					say(text, result.ok ? 'action' : 'warn');
				},
				(error: unknown) => {
					const text = `failed: ${escapeControl((error as Error).message ?? String(error))}`;
					store.log(text, 'bad');
					say(text, 'bad');
				},
			);
		},
		[store, say],
	);

	const quit = useCallback(() => {
		if (quitting) {
			return;
		}

		setQuitting(true);
		controller
			.stop()
			.catch(() => undefined)
			.finally(() => {
				exit();
			});
	}, [quitting, controller, exit]);

	/** Index of the selection as the key handler sees it (after keys earlier in the same read). */
	const currentIndex = () => resolveSelection(shownRows, selectedIdRef.current, selectedIndex);
	const moveBy = (delta: number) => {
		const row = shownRows[Math.min(Math.max(0, currentIndex() + delta), shownRows.length - 1)];
		if (row) {
			setSelectedId(row.id);
		}
	};

	const currentSelected = () => shownRows[currentIndex()];

	const faultTarget = (): {target: string; label: string} | undefined => {
		if (targetAllRef.current) {
			return {target: ALL_PEERS, label: 'all peers'};
		}

		const row = currentSelected();
		if (!row) {
			say('no peer selected', 'warn');
			return undefined;
		}

		return {target: row.id, label: escapeControl(row.id)};
	};

	/** The fault in force now on a target, read from the controller (not the last sample). */
	const currentFault = (target: string) => {
		const {faults} = controller.snapshot();
		return target === ALL_PEERS ? faults.all : faults.peers[target];
	};

	/** Call the controller; a refusal (it throws one line) goes to the status line and the log. */
	const attempt = (change: () => void): boolean => {
		try {
			change();
			return true;
		} catch (error) {
			const text = escapeControl((error as Error).message ?? String(error));
			store.log(text, 'warn');
			say(text, 'warn');
			return false;
		}
	};

	const run = (action: Action) => {
		const selected = currentSelected();
		switch (action) {
			case 'select-up': {
				moveBy(-1);
				break;
			}

			case 'select-down': {
				moveBy(1);
				break;
			}

			case 'page-up': {
				moveBy(-tableRows);
				break;
			}

			case 'page-down': {
				moveBy(tableRows);
				break;
			}

			case 'select-first': {
				moveBy(-shownRows.length);
				break;
			}

			case 'select-last': {
				moveBy(shownRows.length);
				break;
			}

			case 'cycle-drop': {
				const target = faultTarget();
				if (target) {
					const current = currentFault(target.target)?.drop ?? 0;
					const drop = nextStep(DROP_STEPS, current);
					if (!attempt(() => {
						controller.setInboundFault(target.target, {drop});
					})) {
						break;
					}

					const text = `inbound drop ${formatPercent(drop)} on ${target.label}`;
					say(text, 'fault');
				}

				break;
			}

			case 'cycle-delay': {
				const target = faultTarget();
				if (target) {
					const current = currentFault(target.target)?.delayMs ?? 0;
					const delayMs = nextStep(DELAY_STEPS_MS, current);
					if (!attempt(() => {
						controller.setInboundFault(target.target, {delayMs});
					})) {
						break;
					}

					const text = `inbound delay ${delayMs === 0 ? 'off' : formatDelay(delayMs)} on ${target.label}`;
					say(text, 'fault');
				}

				break;
			}

			case 'kill': {
				if (selected) {
					setConfirmKill(selected.id);
				} else {
					say('no peer selected', 'warn');
				}

				break;
			}

			case 'pause': {
				if (selected) {
					const {id} = selected;
					act(controller.togglePausePeer(id));
				}

				break;
			}

			case 'revive': {
				if (selected) {
					const {id} = selected;
					act(controller.revivePeer(id));
				}

				break;
			}

			case 'toggle-target': {
				const all = !targetAllRef.current;
				setTargetAll(all);
				say(`faults (d, l) now target ${all ? 'all peers' : 'the selected peer'}`);
				break;
			}

			case 'clear-faults': {
				if (!attempt(() => {
					controller.clearFaults();
				})) {
					break;
				}

				say('all faults cleared', 'fault');
				break;
			}

			case 'freeze': {
				setFrozenView((current) => (current ? undefined : store.getView()));
				break;
			}

			case 'filter': {
				setEditingFilter(true);
				break;
			}

			case 'sort': {
				setSort((current) => SORT_KEYS[(SORT_KEYS.indexOf(current) + 1) % SORT_KEYS.length]!);
				break;
			}

			case 'help': {
				setHelpOpen(true);
				break;
			}

			case 'quit': {
				quit();
				break;
			}
		}
	};

	// Ink hands several characters read at once over as one input (it takes them for a paste); but
	// outside the filter prompt they are keys typed quickly, over a slow link perhaps: one at a time.
	useInput((input: string, key: Key) => {
		if (input.length > 1 && !editingFilterRef.current && !key.ctrl && !key.meta) {
			for (const character of input) {
				onKey(character, key);
			}

			return;
		}

		onKey(input, key);
	});

	function onKey(input: string, key: Key): void {
		if (quitting) {
			return;
		}

		if (key.ctrl && input === 'c') {
			quit();
			return;
		}

		if (confirmKillRef.current !== undefined) {
			const id = confirmKillRef.current;
			setConfirmKill(undefined);
			if (input === 'y' || input === 'Y') {
				act(controller.killPeer(id));
			} else {
				say('kill cancelled', 'muted');
			}

			return;
		}

		if (editingFilterRef.current) {
			if (key.return) {
				setEditingFilter(false);
			} else if (key.escape) {
				setEditingFilter(false);
				setFilter('');
			} else if (key.backspace || key.delete) {
				setFilter(filterRef.current.slice(0, -1));
			} else if (input && !key.ctrl && !key.meta) {
				// The filter is typed by the operator, but a paste can carry anything: keep printables.
				setFilter((filterRef.current + input).replaceAll(/[\u0000-\u001F\u007F-\u009F]/gu, ''));
			}

			return;
		}

		if (helpOpenRef.current) {
			setHelpOpen(false);
			return;
		}

		const binding = bindingFor(input, key);
		if (!binding) {
			if (key.escape && filterRef.current !== '') {
				setFilter('');
			}

			return;
		}

		setMessage(undefined);
		if (readonly && binding.changesMesh) {
			say(`read-only (--readonly): ${binding.keys} is off`, 'warn');
			return;
		}

		run(binding.action);
	}

	if (layout.tooSmall) {
		return <TooSmall columns={columns} rows={rows} />;
	}

	if (helpOpen) {
		return <HelpOverlay columns={columns} lines={layout.frameLines} readonly={readonly} />;
	}

	const status = statusLine();
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
				frozen={frozenView !== undefined}
				readonly={readonly}
			/>
			<PeerTable
				rows={shownRows}
				selectedIndex={selectedIndex}
				scrollTop={scrollTop.current}
				height={tableRows}
				columns={layout.table}
				ttlMs={ttlMs}
				sort={sort}
				emptyText={
					filter === '' ? 'waiting for peers…' : `no peer id contains "${filter}" (Esc clears the filter)`
				}
			/>
			<EventLog entries={view.log} lines={logLines} columns={columns} />
			<Footer columns={columns} status={status.text} statusTone={status.tone} readonly={readonly} />
		</Box>
	);

	function statusLine(): {text: string; tone: Tone} {
		if (quitting) {
			return {text: 'stopping the demo peers and the node…', tone: 'warn'};
		}

		if (confirmKill !== undefined) {
			const id = escapeControl(confirmKill);
			return controller.isDemoPeer(confirmKill)
				? {text: `kill demo peer ${id} (SIGKILL)? y kills, any other key cancels`, tone: 'bad'}
				: {text: `${id} is remote: blackhole it here (drop all it sends)? y confirms, any other key cancels`, tone: 'bad'};
		}

		if (editingFilterRef.current) {
			return {text: `filter ids: ${filter}▏ (Enter keeps, Esc clears)`, tone: 'label'};
		}

		if (message && message.untilWallMs > Date.now()) {
			return {text: message.text, tone: message.tone};
		}

		const first = shownRows.length === 0 ? 0 : scrollTop.current + 1;
		const last = Math.min(shownRows.length, scrollTop.current + tableRows);
		const parts = [
			`target ${targetAll ? 'ALL peers' : selected ? escapeControl(selected.id) : '–'}`,
			`sort ${SORT_LABEL[sort]}`,
			`rows ${first}–${last} of ${shownRows.length}`,
		];
		if (filter !== '') {
			parts.push(`filter "${filter}"`);
		}

		return {text: parts.join(' · '), tone: 'muted'};
	}
}

/** useState whose latest value is also readable at once through a ref. */
function useRefState<T>(initial: T): [T, (value: T) => void, {readonly current: T}] {
	const [value, setValue] = useState(initial);
	const ref = useRef(initial);
	const set = useCallback((next: T) => {
		ref.current = next;
		setValue(next);
	}, []);
	return [value, set, ref];
}
