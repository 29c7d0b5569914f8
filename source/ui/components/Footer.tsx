import {useMemo} from 'react';
import {bindingsOf, type KeyBinding} from '../keymap.js';
import {renderLine, type Segment} from '../styled-line.js';
import {useTheme, type Tone} from '../theme.js';
import {Lines} from './Lines.js';

type Props = {
	columns: number;
	/** The status line: target, sort, filter, a prompt or the last action's result. */
	status: string;
	statusTone: Tone;
	readonly: boolean;
	/** A replay: its keys, and the note says REPLAY. */
	replay?: boolean;
};

const READONLY_NOTE = ' READ-ONLY: fault keys off ';
const REPLAY_NOTE = ' REPLAY ';
/** A replay's keys, in the order the footer shows them. */
const REPLAY_ORDER: ReadonlyArray<KeyBinding['action']> = ['replay-play', 'replay-faster', 'replay-back', 'replay-previous-event', 'replay-start', 'screenshot'];
/** Always shown, at the right end: the two keys nobody should have to look up. */
const ALWAYS: ReadonlyArray<KeyBinding['action']> = ['help', 'quit'];
/** Fault keys first: they are what the operator came for; navigation explains itself. */
const ORDER: ReadonlyArray<KeyBinding['action']> = [
	'cycle-drop',
	'cycle-delay',
	'cycle-outbound-drop',
	'kill',
	'partition',
	'clear-faults',
	'toggle-mesh',
	'pause',
	'revive',
	'toggle-target',
	'freeze',
	'filter',
	'sort',
	'select-down',
	'screenshot',
];

const hintText = (binding: KeyBinding) => ` ${binding.hintKey ?? binding.keys.split(' ')[0]!} ${binding.hint!} `;

/** The key hints that fit in `columns`: as many as fit in order, then help and quit. */
export function footerHints(columns: number, readonly: boolean, replay = false): KeyBinding[] {
	const keymap = bindingsOf(replay ? 'replay' : 'live');
	const usable = (action: KeyBinding['action']) => keymap.find((binding) => binding.action === action && !(readonly && binding.changesMesh));
	const always = ALWAYS.map(usable).filter((binding) => binding !== undefined);
	let room = columns - (replay ? REPLAY_NOTE.length : readonly ? READONLY_NOTE.length : 0) - always.reduce((sum, binding) => sum + hintText(binding).length, 0);
	const shown: KeyBinding[] = [];
	for (const binding of (replay ? REPLAY_ORDER : ORDER).map(usable)) {
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
export function Footer({columns, status, statusTone, readonly, replay = false}: Props) {
	const theme = useTheme();
	const lines = useMemo(() => {
		const statusStyle = theme.style(statusTone);
		const note = replay ? REPLAY_NOTE : readonly ? READONLY_NOTE : undefined;
		const hints: Segment[] = note ? [{text: note, style: theme.style('frozen')}] : [];
		for (const binding of footerHints(columns, readonly, replay)) {
			hints.push({text: ` ${binding.hintKey ?? binding.keys.split(' ')[0]!}`, style: theme.style('key')}, {text: ` ${binding.hint!} `, style: theme.style('muted')});
		}

		return [renderLine([{text: ` ${status}`, style: statusStyle}], columns), renderLine(hints, columns)];
	}, [columns, status, statusTone, readonly, replay, theme]);
	return <Lines lines={lines} width={columns} />;
}
