/**
Every key of the terminal UI, in one table. The reducer (state.ts), the footer's hints and the help
overlay all read this table, so a key cannot work without being documented, or the other way round.
*/

import type {Key} from 'ink';
import type {PartitionShape} from '../session/controller.js';

export type Action =
	| 'select-up'
	| 'select-down'
	| 'page-up'
	| 'page-down'
	| 'select-first'
	| 'select-last'
	| 'cycle-drop'
	| 'cycle-delay'
	| 'cycle-outbound-drop'
	| 'kill'
	| 'pause'
	| 'revive'
	| 'toggle-target'
	| 'clear-faults'
	| 'partition'
	| 'toggle-mesh'
	| 'freeze'
	| 'filter'
	| 'sort'
	| 'help'
	| 'screenshot'
	| 'replay-play'
	| 'replay-faster'
	| 'replay-slower'
	| 'replay-back'
	| 'replay-forward'
	| 'replay-previous-event'
	| 'replay-next-event'
	| 'replay-start'
	| 'replay-end'
	| 'quit';

/** Which screen a key works on: the live mesh, a replay (`chorus-tui replay`), or both when unset. */
export type KeyMode = 'live' | 'replay';

export type KeyBinding = {
	action: Action;
	/** The keys as the help overlay shows them. */
	keys: string;
	/** What the key does, for the help overlay. */
	description: string;
	/**
	A short label for the footer, which shows the hints in table order as far as they fit (help and
	quit always); bindings without one appear only in the help overlay.
	*/
	hint?: string;
	/** The key as the footer shows it, when not the first of `keys`. */
	hintKey?: string;
	/** The key changes the mesh (a fault or a process): off with `--readonly` and in a replay. */
	changesMesh: boolean;
	/** Only on this screen; a key of one mode takes precedence over a key of both (space, g, G in a replay). */
	mode?: KeyMode;
	matches: (input: string, key: Key) => boolean;
};

/** Inbound drop probabilities that `d` steps through. */
export const DROP_STEPS = [0, 0.1, 0.3, 0.5, 1] as const;
/** Added inbound delays in milliseconds that `l` steps through. */
export const DELAY_STEPS_MS = [0, 50, 200, 1000] as const;
/**
The partition shapes `P` steps through, in order, then none (every partition lifted). Isolate and
bridge are built around the selected member.
*/
export const PARTITION_CYCLE = ['halves', 'isolate', 'bridge', 'ring', 'none'] as const satisfies ReadonlyArray<PartitionShape | 'none'>;
/** Replay speeds that `+` and `-` step through. */
export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16] as const;
/** How far ← and → seek in a replay. */
export const REPLAY_SEEK_MS = 5000;

export const KEYMAP: readonly KeyBinding[] = [
	{
		action: 'select-up',
		keys: '↑ k',
		description: 'select the previous peer',
		changesMesh: false,
		matches: (input, key) => key.upArrow || input === 'k',
	},
	{
		action: 'select-down',
		keys: '↓ j',
		hint: 'select',
		hintKey: '↑↓',
		description: 'select the next peer',
		changesMesh: false,
		matches: (input, key) => key.downArrow || input === 'j',
	},
	{
		action: 'page-up',
		keys: 'PgUp',
		description: 'one screen of peers up',
		changesMesh: false,
		matches: (_input, key) => key.pageUp,
	},
	{
		action: 'page-down',
		keys: 'PgDn',
		description: 'one screen of peers down',
		changesMesh: false,
		matches: (_input, key) => key.pageDown,
	},
	{
		action: 'select-first',
		keys: 'Home g',
		description: 'first peer',
		changesMesh: false,
		matches: (input, key) => key.home || input === 'g',
	},
	{
		action: 'select-last',
		keys: 'End G',
		description: 'last peer',
		changesMesh: false,
		matches: (input, key) => key.end || input === 'G',
	},
	{
		action: 'cycle-drop',
		keys: 'd',
		hint: 'drop',
		description: `drop what the target receives: ${DROP_STEPS.map((step) => `${step * 100}`).join(', ')} %`,
		changesMesh: true,
		matches: (input) => input === 'd',
	},
	{
		action: 'cycle-delay',
		keys: 'l',
		hint: 'delay',
		description: `delay what the target receives: ${DELAY_STEPS_MS.join(', ')} ms`,
		changesMesh: true,
		matches: (input) => input === 'l',
	},
	{
		action: 'cycle-outbound-drop',
		keys: 'o',
		hint: 'out',
		description: `drop what the target publishes: ${DROP_STEPS.map((step) => `${step * 100}`).join(', ')} %`,
		changesMesh: true,
		matches: (input) => input === 'o',
	},
	{
		action: 'kill',
		keys: 'x',
		hint: 'kill',
		description: 'kill a demo peer, stop a remote member, once y confirms',
		changesMesh: true,
		matches: (input) => input === 'x',
	},
	{
		action: 'pause',
		keys: 'p',
		hint: 'pause',
		description: 'pause or resume the selected demo peer (SIGSTOP / SIGCONT)',
		changesMesh: true,
		matches: (input) => input === 'p',
	},
	{
		action: 'revive',
		keys: 'r',
		hint: 'revive',
		description: 'revive a killed peer (a new process, same id, new incarnation)',
		changesMesh: true,
		matches: (input) => input === 'r',
	},
	{
		action: 'toggle-target',
		keys: 'a',
		hint: 'all',
		description: 'faults (d, l, o) target the selected member or all peers here',
		changesMesh: true,
		matches: (input) => input === 'a',
	},
	{
		action: 'clear-faults',
		keys: 'c',
		hint: 'clear',
		description: 'clear every fault on every member, partitions too',
		changesMesh: true,
		matches: (input) => input === 'c',
	},
	{
		action: 'partition',
		keys: 'P',
		hint: 'partition',
		description: `partition the mesh: ${PARTITION_CYCLE.join(' → ')}`,
		changesMesh: true,
		matches: (input) => input === 'P',
	},
	{
		action: 'toggle-mesh',
		keys: 'm',
		hint: 'mesh',
		description: 'mesh view (who hears whom) or the peer table',
		changesMesh: false,
		matches: (input) => input === 'm',
	},
	{
		action: 'freeze',
		keys: 'space',
		hint: 'freeze',
		description: 'freeze the display (the mesh keeps running); again to resume',
		changesMesh: false,
		matches: (input) => input === ' ',
	},
	{
		action: 'filter',
		keys: '/',
		hint: 'filter',
		description: 'filter peers by id (Enter keeps it, Esc clears it)',
		changesMesh: false,
		matches: (input) => input === '/',
	},
	{
		action: 'sort',
		keys: 's',
		hint: 'sort',
		description: 'sort by id, age, |Δphase|, Lamport',
		changesMesh: false,
		matches: (input) => input === 's',
	},
	{
		action: 'help',
		keys: '?',
		hint: 'help',
		description: 'this help; any key closes it',
		changesMesh: false,
		matches: (input) => input === '?',
	},
	{
		action: 'screenshot',
		keys: 'S',
		hint: 'shot',
		description: 'screenshot: the screen as SVG and as text, in --screenshot-dir',
		changesMesh: false,
		matches: (input) => input === 'S',
	},
	{
		action: 'replay-play',
		keys: 'space',
		hint: 'play',
		description: 'play or pause the replay',
		changesMesh: false,
		mode: 'replay',
		matches: (input) => input === ' ',
	},
	{
		action: 'replay-faster',
		keys: '+',
		hint: 'speed',
		hintKey: '+-',
		description: `replay faster (up to ${REPLAY_SPEEDS.at(-1)}×)`,
		changesMesh: false,
		mode: 'replay',
		matches: (input) => input === '+' || input === '=',
	},
	{
		action: 'replay-slower',
		keys: '-',
		description: 'replay slower (down to ¼×)',
		changesMesh: false,
		mode: 'replay',
		matches: (input) => input === '-' || input === '_',
	},
	{
		action: 'replay-back',
		keys: '←',
		hint: 'seek',
		hintKey: '←→',
		description: `back ${REPLAY_SEEK_MS / 1000} s`,
		changesMesh: false,
		mode: 'replay',
		matches: (_input, key) => key.leftArrow,
	},
	{
		action: 'replay-forward',
		keys: '→',
		description: `forward ${REPLAY_SEEK_MS / 1000} s`,
		changesMesh: false,
		mode: 'replay',
		matches: (_input, key) => key.rightArrow,
	},
	{
		action: 'replay-previous-event',
		keys: '[',
		hint: 'event',
		hintKey: '[]',
		description: 'to the previous event',
		changesMesh: false,
		mode: 'replay',
		matches: (input) => input === '[',
	},
	{
		action: 'replay-next-event',
		keys: ']',
		description: 'to the next event',
		changesMesh: false,
		mode: 'replay',
		matches: (input) => input === ']',
	},
	{
		action: 'replay-start',
		keys: 'g',
		hint: 'start/end',
		hintKey: 'gG',
		description: 'to the start of the recording',
		changesMesh: false,
		mode: 'replay',
		matches: (input) => input === 'g',
	},
	{
		action: 'replay-end',
		keys: 'G',
		description: 'to the end of the recording',
		changesMesh: false,
		mode: 'replay',
		matches: (input) => input === 'G',
	},
	{
		action: 'quit',
		keys: 'q Ctrl-C',
		hint: 'quit',
		description: 'quit: stop the demo peers and restore the terminal',
		changesMesh: false,
		matches: (input, key) => input === 'q' || (key.ctrl && input === 'c'),
	},
];

/** The binding a key press means on a screen, if any. Ctrl-C is checked before `c` (clear faults). */
export function bindingFor(input: string, key: Key, mode: KeyMode = 'live'): KeyBinding | undefined {
	if (key.ctrl && input === 'c') {
		return KEYMAP.find((binding) => binding.action === 'quit');
	}

	if (key.ctrl || key.meta) {
		return undefined;
	}

	return (
		KEYMAP.find((binding) => binding.mode === mode && binding.matches(input, key))
		?? KEYMAP.find((binding) => binding.mode === undefined && binding.matches(input, key))
	);
}

/** The bindings that work on a screen (the help overlay and the footer list these). */
export function bindingsOf(mode: KeyMode): KeyBinding[] {
	return KEYMAP.filter((binding) => binding.mode === undefined || binding.mode === mode);
}

/** The step after `current` in `steps`, wrapping to the first; a value between steps goes up. */
export function nextStep(steps: readonly number[], current: number): number {
	return steps.find((step) => step > current + 1e-9) ?? steps[0]!;
}
