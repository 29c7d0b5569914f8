import {Box, Text} from 'ink';
import {MIN_COLUMNS, MIN_ROWS} from '../layout.js';
import {useTheme} from '../theme.js';

type Props = {columns: number; rows: number};

/** Shown instead of a broken layout; the mesh keeps running and q still quits. */
export function TooSmall({columns, rows}: Props) {
	const theme = useTheme();
	const lines = [
		`Terminal too small: ${columns}×${rows}.`,
		`chorus-tui needs at least ${MIN_COLUMNS}×${MIN_ROWS}.`,
		'Enlarge the window, or press q to quit.',
	];
	return (
		<Box flexDirection="column" width={columns} flexShrink={0}>
			{lines.slice(0, Math.max(1, rows - 1)).map((line, index) => (
				<Text key={line} wrap="truncate-end" {...theme.style(index === 0 ? 'warn' : 'label')}>
					{line}
				</Text>
			))}
		</Box>
	);
}
