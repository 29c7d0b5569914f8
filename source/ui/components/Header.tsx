import {useMemo} from 'react';
import {ALL_PEERS, type FaultsInForce} from '../../mesh/model/fault-types.js';
import {PEER_STATES, type PeerState} from '../../mesh/model/peer-table.js';
import {bucketize, escapeControl, formatInboundFault, formatOutboundFault, formatPhaseDiff, sparkline} from '../format.js';
import type {SessionSnapshot} from '../../session/controller.js';
import type {RSample} from '../mesh-store.js';
import {renderLine} from '../styled-line.js';
import {textWidth} from '../terminal/text-width.js';
import {STATE_LOOK, useTheme, type Theme} from '../theme.js';
import {Lines} from './Lines.js';

const idCollator = new Intl.Collator('en', {numeric: true});

/** The sparkline covers this much of r's history. */
export const SPARKLINE_WINDOW_MS = 60_000;

type Props = {
	snapshot: SessionSnapshot;
	rHistory: readonly RSample[];
	/** Wall-clock time of the snapshot: the right end of the sparkline. */
	wallMs: number;
	columns: number;
	frozen: boolean;
	readonly: boolean;
	/** A replay: the badge says so instead of LIVE. */
	replay?: boolean;
};

/** Four lines: who we are, how in step the mesh is, who is out there, and what is broken on purpose. */
export function Header({snapshot, rHistory, wallMs, columns, frozen, readonly, replay = false}: Props) {
	const theme = useTheme();
	const lines = useMemo(
		() => headerLines({snapshot, rHistory, wallMs, columns, frozen, readonly, replay}, theme),
		[snapshot, rHistory, wallMs, columns, frozen, readonly, replay, theme],
	);
	return <Lines lines={lines} width={columns} />;
}

function headerLines({snapshot, rHistory, wallMs, columns, frozen, readonly, replay}: Props, theme: Theme): string[] {
	const {style} = theme;
	const {node} = snapshot;
	const badge = replay ? ' ▶ REPLAY ' : frozen ? ' ❚❚ FROZEN · the mesh keeps running ' : readonly ? ' READ-ONLY ' : ' ● LIVE ';
	const sparkWidth = Math.max(10, Math.min(40, columns - 52));
	const spark = sparkline(bucketize(rHistory, sparkWidth, SPARKLINE_WINDOW_MS, wallMs));
	const counts = countStates(snapshot.peers.map((peer) => peer.state));
	// Every state when they fit (so the line does not jump about), else only the states in use.
	const countsText = (states: readonly PeerState[]) =>
		` peers ${snapshot.peers.length}` + states.map((state) => `  ${STATE_LOOK[state].symbol} ${counts[state]} ${state}`).join('');
	const shownStates =
		countsText(PEER_STATES).length <= columns ? PEER_STATES : PEER_STATES.filter((state) => state === 'alive' || counts[state] > 0);
	const faults = describeFaults(snapshot.faults);

	// The title bar: the title takes what the badge leaves, on a cyan bar.
	const badgeWidth = Math.min(columns, textWidth(badge));
	const bar = {backgroundColor: theme.style('title').backgroundColor};
	const title = renderLine([{text: ` chorus-tui  node ${escapeControl(node.id)}  ${escapeControl(node.endpoint)}`, style: style('title')}], columns - badgeWidth, {fill: bar});
	const badgeStyle = style(frozen ? 'frozen' : 'title');
	return [
		title + renderLine([{text: badge, style: badgeStyle}], badgeWidth),
		renderLine(
			[
				{text: ' Lamport ', style: style('muted')},
				{text: String(node.lamport), style: style('label')},
				{text: '   phase ', style: style('muted')},
				{text: formatPhaseDiff(node.phase), style: style('label')},
				{text: '   r ', style: style('muted')},
				{text: node.r.toFixed(2), style: style('label')},
				{text: ' '},
				{text: spark, style: style(node.r >= 0.9 ? 'good' : node.r >= 0.5 ? 'warn' : 'bad')},
				{text: ' last 60 s', style: style('muted')},
			],
			columns,
		),
		renderLine(
			[
				{text: ' peers ', style: style('muted')},
				{text: String(snapshot.peers.length), style: style('label')},
				...shownStates.map((state) => ({
					text: `  ${STATE_LOOK[state].symbol} ${counts[state]} ${state}`,
					style: style(counts[state] > 0 ? STATE_LOOK[state].tone : 'muted'),
				})),
			],
			columns,
		),
		renderLine(
			[
				{text: ' faults ', style: style('muted')},
				{text: faults, style: style(faults === 'none' ? 'muted' : 'fault')},
			],
			columns,
		),
	];
}

export function countStates(states: readonly PeerState[]): Record<PeerState, number> {
	const counts = Object.fromEntries(PEER_STATES.map((state) => [state, 0])) as Record<PeerState, number>;
	for (const state of states) {
		counts[state]++;
	}

	return counts;
}

/** Every fault in force on one line: `all: drop 30% · demo-2: +200ms · out: drop 5%`. */
export function describeFaults(faults: FaultsInForce): string {
	const parts: string[] = [];
	const all = formatInboundFault(faults.all);
	if (all) {
		parts.push(`${ALL_PEERS}: ${all}`);
	}

	for (const [peer, fault] of Object.entries(faults.peers).sort(([a], [b]) => idCollator.compare(a, b))) {
		const text = formatInboundFault(fault);
		if (text) {
			parts.push(`${escapeControl(peer)}: ${text}`);
		}
	}

	const outbound = formatOutboundFault(faults.outbound);
	if (outbound) {
		parts.push(`outbound: ${outbound}`);
	}

	return parts.length === 0 ? 'none' : parts.join(' · ');
}
