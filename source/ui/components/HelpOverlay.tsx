import {Box, Text} from 'ink';
import {bindingsOf, type KeyBinding} from '../keymap.js';
import {useTheme} from '../theme.js';

type Props = {
	columns: number;
	/** Lines the overlay may use: it never makes the frame taller than the screen. */
	lines: number;
	readonly: boolean;
	/** A replay's keys instead of the live screen's. */
	replay?: boolean;
};

/** The keys that only move the selection: one line of the help for all of them, so the rest fits 80×24. */
const MOVES: ReadonlySet<KeyBinding['action']> = new Set(['select-up', 'select-down', 'page-up', 'page-down', 'select-first', 'select-last']);

/** The help's entries: the keymap's bindings in table order, the selection moves as one. */
export function helpEntries(bindings: readonly KeyBinding[]): Array<Pick<KeyBinding, 'action' | 'keys' | 'description' | 'changesMesh'>> {
	const moves = bindings.filter((binding) => MOVES.has(binding.action));
	const entries: Array<Pick<KeyBinding, 'action' | 'keys' | 'description' | 'changesMesh'>> = [];
	for (const binding of bindings) {
		if (!MOVES.has(binding.action)) {
			entries.push(binding);
		} else if (binding === moves[0]) {
			entries.push({
				action: binding.action,
				keys: moves.map((move) => move.keys).join(' '),
				description: 'move the selection',
				changesMesh: false,
			});
		}
	}

	return entries;
}

/** Every key of the keymap with what it does; replaces the screen until a key is pressed. */
export function HelpOverlay({columns, lines, readonly, replay = false}: Props) {
	const theme = useTheme();
	const KEYMAP = helpEntries(bindingsOf(replay ? 'replay' : 'live'));
	// The moves' line is as long as it is; the other keys line up after the longest of them.
	const keyWidth = Math.max(...KEYMAP.filter((binding) => !MOVES.has(binding.action)).map((binding) => binding.keys.length)) + 2;
	const intro = replay
		? ['Keys of chorus-tui replay. Nothing here changes a mesh: keys marked ✕ are off.']
		: readonly
		? ['Keys of chorus-tui. Read-only (--readonly): keys marked ✕ are off.']
		: ['Keys of chorus-tui. d l o act on the selected member, or on all peers (a).'];
	const footer = 'Any key closes this help.';
	const available = Math.max(0, lines - intro.length - 3);
	const bindings = KEYMAP.slice(0, available);
	return (
		<Box flexDirection="column" width={columns} height={lines} borderStyle="round" paddingX={1} flexShrink={0}>
			{intro.map((line) => (
				<Text key={line} wrap="truncate-end" {...theme.style('label')}>
					{line}
				</Text>
			))}
			{bindings.map((binding) => {
				const off = readonly && binding.changesMesh;
				return (
					<Text key={binding.action} wrap="truncate-end">
						<Text {...theme.style(off ? 'muted' : 'key')}>{`${off ? '✕ ' : '  '}${binding.keys}`.padEnd(keyWidth + 2)}{MOVES.has(binding.action) ? ' ' : ''}</Text>
						<Text {...theme.style(off ? 'muted' : 'label')}>{binding.description}</Text>
					</Text>
				);
			})}
			{bindings.length < KEYMAP.length ? (
				<Text wrap="truncate-end" {...theme.style('muted')}>
					{`… ${KEYMAP.length - bindings.length} more: enlarge the terminal to see them`}
				</Text>
			) : null}
			<Text wrap="truncate-end" {...theme.style('muted')}>
				{footer}
			</Text>
		</Box>
	);
}
