/**
Colours and styles by meaning, with one switch for a monochrome screen (`--no-color`, NO_COLOR).

Every style a pane uses comes from here. With colour off a style is empty, so no escape sequence
reaches the terminal at all: the screen must read as well without colour, which is why every state
also has a word and a symbol.
*/

import {createContext, useContext} from 'react';
import type {PeerState} from '../mesh/model/peer-table.js';

/** Props a `<Text>` accepts for styling. */
export type Style = {
	color?: string;
	backgroundColor?: string;
	bold?: boolean;
	dimColor?: boolean;
	inverse?: boolean;
};

export type Tone =
	| 'title'
	| 'label'
	| 'muted'
	| 'good'
	| 'warn'
	| 'bad'
	| 'fault'
	| 'action'
	| 'key'
	| 'selected'
	| 'tableHeader'
	| 'frozen';

const TONES: Record<Tone, Style> = {
	title: {bold: true, color: 'black', backgroundColor: 'cyan'},
	label: {bold: true},
	muted: {dimColor: true},
	good: {color: 'green'},
	warn: {color: 'yellow'},
	bad: {color: 'red'},
	fault: {color: 'magenta'},
	action: {color: 'cyan'},
	key: {bold: true, color: 'cyan'},
	selected: {inverse: true},
	tableHeader: {bold: true, color: 'black', backgroundColor: 'white'},
	frozen: {bold: true, color: 'black', backgroundColor: 'yellow'},
};

/**
Display state of a row: the node's peer states, plus the process states of a local demo peer that
is not (or no longer) in the node's table: starting, unheard (running, but nothing of it reaches
us: evicted and gone after its grace, e.g. under 100 % drop), or killed and gone.
*/
export type RowState = PeerState | 'starting' | 'unheard' | 'paused' | 'killed' | 'exited' | 'stopped';

/** Symbol and word for each state, so a state reads without colour. */
export const STATE_LOOK: Record<RowState, {symbol: string; tone: Tone}> = {
	alive: {symbol: '●', tone: 'good'},
	suspect: {symbol: '◌', tone: 'warn'},
	restarted: {symbol: '↻', tone: 'action'},
	quarantined: {symbol: '⊘', tone: 'fault'},
	evicted: {symbol: '✕', tone: 'bad'},
	starting: {symbol: '…', tone: 'muted'},
	unheard: {symbol: '✕', tone: 'bad'},
	paused: {symbol: '❚', tone: 'warn'},
	killed: {symbol: '✕', tone: 'bad'},
	exited: {symbol: '✕', tone: 'bad'},
	stopped: {symbol: '·', tone: 'muted'},
};

export type Theme = {
	color: boolean;
	style: (tone: Tone) => Style;
};

export function createTheme(color: boolean): Theme {
	return {color, style: (tone) => (color ? TONES[tone] : {})};
}

export const ThemeContext = createContext<Theme>(createTheme(true));

/** The current theme: colour on or off. */
export function useTheme(): Theme {
	return useContext(ThemeContext);
}
