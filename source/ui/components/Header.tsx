import {useMemo} from 'react';
import {ALL_PEERS, type FaultsInForce} from '../../mesh/model/fault-types.js';
import {PEER_STATES, type PeerState} from '../../mesh/model/peer-table.js';
import {bucketize, escapeControl, formatInboundFault, formatOutboundFault, formatPhaseDiff, sparkline} from '../format.js';
import type {MeshMatrix, SessionSnapshot} from '../../session/controller.js';
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
	/**
	The mesh as every member hears it, when a recent pull is at hand: r gains the global r (every
	member's phase) beside this node's local r.
	*/
	mesh?: MeshMatrix | undefined;
	/**
	The mesh view is open: the third line counts members and gives each partition group's r instead of peers.
	@default false
	*/
	meshOpen?: boolean;
};

/** Four lines: who we are, how in step the mesh is, who is out there, and what is broken on purpose. */
export function Header({snapshot, rHistory, wallMs, columns, frozen, readonly, replay = false, mesh, meshOpen = false}: Props) {
	const theme = useTheme();
	const lines = useMemo(
		() => headerLines({snapshot, rHistory, wallMs, columns, frozen, readonly, replay, mesh, meshOpen}, theme),
		[snapshot, rHistory, wallMs, columns, frozen, readonly, replay, mesh, meshOpen, theme],
	);
	return <Lines lines={lines} width={columns} />;
}

function headerLines({snapshot, rHistory, wallMs, columns, frozen, readonly, replay, mesh, meshOpen}: Props, theme: Theme): string[] {
	const {style} = theme;
	const {node} = snapshot;
	// An observer (`--observe`) publishes nothing and is in no member's sum: the badge says it watches only.
	const live = node.observer === true ? ' ● LIVE · OBSERVER ' : ' ● LIVE ';
	const badge = replay ? ' ▶ REPLAY ' : frozen ? ' ❚❚ FROZEN · the mesh keeps running ' : readonly ? ' READ-ONLY ' : live;
	const globalR = mesh?.globalR;
	// " local · 0.95 global" takes its room from the sparkline.
	const sparkWidth = Math.max(10, Math.min(40, columns - 52 - (mesh === undefined ? 0 : 20)));
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
				...(mesh === undefined
					? []
					: [
							{text: ' local · ', style: style('muted')},
							{text: globalR === undefined ? '–' : globalR.toFixed(2), style: style('label')},
							{text: ' global', style: style('muted')},
						]),
				{text: ' '},
				{text: spark, style: style(node.r >= 0.9 ? 'good' : node.r >= 0.5 ? 'warn' : 'bad')},
				{text: ' last 60 s', style: style('muted')},
			],
			columns,
		),
		meshOpen ? membersLine(mesh, columns, theme) : renderLine(
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

/** The mesh view's third line: how many members, how many with no control plane, and the partition in force with each group's r. */
function membersLine(mesh: MeshMatrix | undefined, columns: number, theme: Theme): string {
	const {style} = theme;
	if (mesh === undefined) {
		return renderLine([{text: ' members –  (no pull yet)', style: style('muted')}], columns);
	}

	const legacy = mesh.columns.filter((column) => column.legacy).length;
	const segments = [
		{text: ' members ', style: style('muted')},
		{text: String(mesh.columns.length), style: style('label')},
		{text: ` · ${mesh.rows.length} with a control plane${legacy > 0 ? ` · ${legacy} without` : ''}`, style: style('muted')},
	];
	const {partition} = mesh;
	if (partition === undefined) {
		segments.push({text: '   no partition', style: style('muted')});
	} else {
		segments.push(
			{text: '   partition ', style: style('muted')},
			{text: partition.shape, style: style('fault')},
			{text: `  r by group `, style: style('muted')},
			{text: partition.groupR.map((r) => (r === undefined ? '–' : r.toFixed(2))).join(' │ '), style: style('label')},
		);
	}

	return renderLine(segments, columns);
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
