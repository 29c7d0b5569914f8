import {Box, Text} from 'ink';
import {bindingsOf} from '../keymap.js';
import {useTheme} from '../theme.js';

type Props = {
	columns: number;
	/** Lines the overlay may use: it never makes the frame taller than the screen. */
	lines: number;
	readonly: boolean;
	/** A replay's keys instead of the live screen's. */
	replay?: boolean;
};

/** Every key of the keymap with what it does; replaces the screen until a key is pressed. */
export function HelpOverlay({columns, lines, readonly, replay = false}: Props) {
	const theme = useTheme();
	const KEYMAP = bindingsOf(replay ? 'replay' : 'live');
	const keyWidth = Math.max(...KEYMAP.map((binding) => binding.keys.length)) + 2;
	const intro = replay
		? ['Keys of chorus-tui replay. Nothing here changes a mesh: keys marked ✕ are off.']
		: readonly
		? ['Keys of chorus-tui. Read-only (--readonly): keys marked ✕ are off.']
		: ['Keys of chorus-tui. d and l act on the target: the selected peer, or all (a).'];
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
						<Text {...theme.style(off ? 'muted' : 'key')}>{`${off ? '✕ ' : '  '}${binding.keys}`.padEnd(keyWidth + 2)}</Text>
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
