import {useMemo} from 'react';
import {formatClock} from '../format.js';
import type {LogEntry} from '../mesh-store.js';
import {renderLine} from '../styled-line.js';
import {useTheme} from '../theme.js';
import {Lines} from './Lines.js';

type Props = {
	/** Oldest first; the pane shows the newest `lines`, newest at the bottom. */
	entries: readonly LogEntry[];
	lines: number;
	columns: number;
};

/** The event log: a title rule and the most recent events, one line each. */
export function EventLog({entries, lines, columns}: Props) {
	const theme = useTheme();
	const rendered = useMemo(() => {
		if (lines <= 0) {
			return [];
		}

		const muted = theme.style('muted');
		const title = ` events (${entries.length}) `;
		const out = [renderLine([{text: `──${title}${'─'.repeat(Math.max(0, columns - title.length - 2))}`, style: muted}], columns)];
		for (const entry of entries.slice(-lines)) {
			out.push(
				renderLine(
					[
						{text: ` ${formatClock(entry.wallMs)} `, style: muted},
						{text: entry.text, style: theme.style(entry.tone)},
					],
					columns,
				),
			);
		}

		while (out.length < lines + 1) {
			out.push('');
		}

		return out;
	}, [entries, lines, columns, theme]);
	if (lines <= 0) {
		return null;
	}

	return <Lines lines={rendered} width={columns} />;
}
