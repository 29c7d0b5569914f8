/**
The painter: a small terminal library under the UI. Ink renders into `createTerminalScreen`'s
stdout, and only the cells that changed reach the terminal; panes draw their own lines into boxes
Ink lays out (painted regions). Nothing here knows the mesh or the UI above it.
*/

export {parseLine, type Cell} from './cells.js';
export {PaintedRegion, type Painter} from './painted-region.js';
export {ScreenDiff} from './screen-diff.js';
export {createTerminalScreen, type TerminalScreen, type TerminalScreenOptions} from './terminal-screen.js';
export {charWidth, textWidth} from './text-width.js';
