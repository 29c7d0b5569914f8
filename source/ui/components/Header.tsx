import {Box, Text} from 'ink';
import {ALL_PEERS, type FaultsInForce} from '../../controller.js';
import {PEER_STATES, type PeerState} from '../../mesh/peer-table.js';
import {bucketize, escapeControl, formatInboundFault, formatOutboundFault, formatPhaseDiff, sparkline} from '../format.js';
import type {MeshSnapshot, RSample} from '../mesh-store.js';
import {STATE_LOOK, useTheme} from '../theme.js';

const idCollator = new Intl.Collator('en', {numeric: true});

/** The sparkline covers this much of r's history. */
export const SPARKLINE_WINDOW_MS = 60_000;

type Props = {
	snapshot: MeshSnapshot;
	rHistory: readonly RSample[];
	/** Wall-clock time of the snapshot: the right end of the sparkline. */
	wallMs: number;
	columns: number;
	frozen: boolean;
	readonly: boolean;
};

/** Four lines: who we are, how in step the mesh is, who is out there, and what is broken on purpose. */
export function Header({snapshot, rHistory, wallMs, columns, frozen, readonly}: Props) {
	const theme = useTheme();
	const {node} = snapshot;
	const badge = frozen ? ' ❚❚ FROZEN · the mesh keeps running ' : readonly ? ' READ-ONLY ' : ' ● LIVE ';
	const sparkWidth = Math.max(10, Math.min(40, columns - 52));
	const spark = sparkline(bucketize(rHistory, sparkWidth, SPARKLINE_WINDOW_MS, wallMs));
	const counts = countStates(snapshot.peers.map((peer) => peer.state));
	// Every state when they fit (so the line does not jump about), else only the states in use.
	const countsText = (states: readonly PeerState[]) =>
		` peers ${snapshot.peers.length}` + states.map((state) => `  ${STATE_LOOK[state].symbol} ${counts[state]} ${state}`).join('');
	const shownStates =
		countsText(PEER_STATES).length <= columns ? PEER_STATES : PEER_STATES.filter((state) => state === 'alive' || counts[state] > 0);
	const faults = describeFaults(snapshot.faults);

	return (
		<Box flexDirection="column" flexShrink={0}>
			<Box width={columns} {...(theme.color ? {backgroundColor: 'cyan'} : {})}>
				<Box flexGrow={1} flexShrink={1}>
					<Text wrap="truncate-end" {...theme.style('title')}>
						{` chorus-tui  node ${escapeControl(node.id)}  ${escapeControl(node.endpoint)}`}
					</Text>
				</Box>
				<Box flexShrink={0}>
					<Text {...theme.style(frozen ? 'frozen' : 'title')}>{badge}</Text>
				</Box>
			</Box>
			<Box width={columns}>
				<Text wrap="truncate-end">
					<Text {...theme.style('muted')}> Lamport </Text>
					<Text {...theme.style('label')}>{String(node.lamport)}</Text>
					<Text {...theme.style('muted')}>   phase </Text>
					<Text {...theme.style('label')}>{formatPhaseDiff(node.phase)}</Text>
					<Text {...theme.style('muted')}>   r </Text>
					<Text {...theme.style('label')}>{node.r.toFixed(2)}</Text>
					<Text> </Text>
					<Text {...theme.style(node.r >= 0.9 ? 'good' : node.r >= 0.5 ? 'warn' : 'bad')}>{spark}</Text>
					<Text {...theme.style('muted')}> last 60 s</Text>
				</Text>
			</Box>
			<Box width={columns}>
				<Text wrap="truncate-end">
					<Text {...theme.style('muted')}> peers </Text>
					<Text {...theme.style('label')}>{String(snapshot.peers.length)}</Text>
					{shownStates.map((state) => (
						<Text key={state} {...theme.style(counts[state] > 0 ? STATE_LOOK[state].tone : 'muted')}>
							{`  ${STATE_LOOK[state].symbol} ${counts[state]} ${state}`}
						</Text>
					))}
				</Text>
			</Box>
			<Box width={columns}>
				<Text wrap="truncate-end">
					<Text {...theme.style('muted')}> faults </Text>
					<Text {...theme.style(faults === 'none' ? 'muted' : 'fault')}>{faults}</Text>
				</Text>
			</Box>
		</Box>
	);
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
