import {Box, Text} from 'ink';
import {KEYMAP, type KeyBinding} from '../keymap.js';
import {useTheme, type Tone} from '../theme.js';

type Props = {
	columns: number;
	/** The status line: target, sort, filter, a prompt or the last action's result. */
	status: string;
	statusTone: Tone;
	readonly: boolean;
};

const READONLY_NOTE = ' READ-ONLY: fault keys off ';
/** Always shown, at the right end: the two keys nobody should have to look up. */
const ALWAYS: ReadonlyArray<KeyBinding['action']> = ['help', 'quit'];
/** Fault keys first: they are what the operator came for; navigation explains itself. */
const ORDER: ReadonlyArray<KeyBinding['action']> = [
	'cycle-drop',
	'cycle-delay',
	'kill',
	'pause',
	'revive',
	'toggle-target',
	'clear-faults',
	'freeze',
	'filter',
	'sort',
	'select-down',
];

const hintText = (binding: KeyBinding) => ` ${binding.hintKey ?? binding.keys.split(' ')[0]!} ${binding.hint!} `;

/** The key hints that fit in `columns`: as many as fit in order, then help and quit. */
export function footerHints(columns: number, readonly: boolean): KeyBinding[] {
	const usable = (action: KeyBinding['action']) => KEYMAP.find((binding) => binding.action === action && !(readonly && binding.changesMesh));
	const always = ALWAYS.map(usable).filter((binding) => binding !== undefined);
	let room = columns - (readonly ? READONLY_NOTE.length : 0) - always.reduce((sum, binding) => sum + hintText(binding).length, 0);
	const shown: KeyBinding[] = [];
	for (const binding of ORDER.map(usable)) {
		if (binding === undefined) {
			continue;
		}

		const width = hintText(binding).length;
		if (width > room) {
			break;
		}

		room -= width;
		shown.push(binding);
	}

	return [...shown, ...always];
}

/** Two lines: the status, and the keys that work now (fault keys are left out with --readonly). */
export function Footer({columns, status, statusTone, readonly}: Props) {
	const theme = useTheme();
	return (
		<Box flexDirection="column" width={columns} flexShrink={0}>
			<Text wrap="truncate-end" {...theme.style(statusTone)}>
				{` ${status}`}
			</Text>
			<Text wrap="truncate-end">
				{readonly ? <Text {...theme.style('frozen')}>{READONLY_NOTE}</Text> : null}
				{footerHints(columns, readonly).map((binding) => (
					<Text key={binding.action}>
						<Text {...theme.style('key')}>{` ${binding.hintKey ?? binding.keys.split(' ')[0]!}`}</Text>
						<Text {...theme.style('muted')}>{` ${binding.hint!} `}</Text>
					</Text>
				))}
			</Text>
		</Box>
	);
}
