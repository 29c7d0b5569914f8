import {Box, Text} from 'ink';
import {formatClock} from '../format.js';
import type {LogEntry} from '../mesh-store.js';
import {useTheme} from '../theme.js';

type Props = {
	/** Oldest first; the pane shows the newest `lines`, newest at the bottom. */
	entries: readonly LogEntry[];
	lines: number;
	columns: number;
};

/** The event log: a title rule and the most recent events, one line each. */
export function EventLog({entries, lines, columns}: Props) {
	const theme = useTheme();
	if (lines <= 0) {
		return null;
	}

	const shown = entries.slice(-lines);
	const title = ` events (${entries.length}) `;
	return (
		<Box flexDirection="column" height={lines + 1} flexShrink={0}>
			<Text wrap="truncate-end" {...theme.style('muted')}>
				{`──${title}${'─'.repeat(Math.max(0, columns - title.length - 2))}`}
			</Text>
			{shown.map((entry) => (
				<Text key={entry.seq} wrap="truncate-end">
					<Text {...theme.style('muted')}>{` ${formatClock(entry.wallMs)} `}</Text>
					<Text {...theme.style(entry.tone)}>{entry.text}</Text>
				</Text>
			))}
		</Box>
	);
}
