import {Box, Text, type DOMElement} from 'ink';
import {createContext, useContext, useInsertionEffect, useLayoutEffect, useRef} from 'react';
import type {PaintedRegion, Painter} from '../terminal/index.js';

/** The painter of the live terminal; absent, panes are plain Ink text. */
export const PainterContext = createContext<Painter | undefined>(undefined);

type Props = {
	/** Styled lines (styled-line.ts), each exactly `width` cells. */
	lines: readonly string[];
	width: number;
};

/**
A block of lines a pane rendered itself, `width` cells each, one per row.

Why: Ink turns every frame into cells anew — each character of each `<Text>` is measured
(string-width), tokenized and styled one by one (Output.get), then joined back into text — which
cost 15–20 ms of CPU per frame at 120×40, even for lines that did not change, and even when a pane
was one `<Text>` of pre-styled lines. So on the live terminal (a painter in context) Ink lays out an
empty box of the block's size, and the screen diff (terminal/screen-diff.ts) draws the lines into it
where Ink put it, parsing only the lines that changed. Ink stays in charge: it owns the tree, the
layout, the input, the frame and the terminal; the painter only fills boxes Ink placed. Without a
painter (component tests, ink-testing-library), the same lines are one Ink `<Text>`, so what tests
read is what the painter draws.
*/
export function Lines({lines, width}: Props) {
	const painter = useContext(PainterContext);
	const element = useRef<DOMElement>(null);
	const region = useRef<PaintedRegion | undefined>(undefined);
	// Insertion effects run in React's mutation phase, before Ink lays out and writes the frame of
	// this commit, so that frame already shows these lines.
	useInsertionEffect(() => {
		if (!painter) {
			return undefined;
		}

		const added = painter.add(element);
		region.current = added;
		return () => {
			// Its cells leave the screen with the next frame, as Ink's text would: not at once, so that
			// the last screen stays up when the whole app unmounts.
			painter.remove(added);
			region.current = undefined;
		};
	}, [painter]);
	useInsertionEffect(() => {
		region.current?.setLines(lines);
	}, [lines, painter]);
	// When Ink's own output did not change, Ink writes nothing: the painter brings the screen up to
	// date itself once the commit is done.
	useLayoutEffect(() => {
		painter?.schedule();
	}, [lines, painter]);

	if (painter) {
		return <Box ref={element} width={width} height={lines.length} flexShrink={0} />;
	}

	return (
		<Box width={width} height={lines.length} flexShrink={0}>
			<Text wrap="truncate-end">{lines.join('\n')}</Text>
		</Box>
	);
}
