/**
A node event as one line of the event log. Every string in an event may come from the network, so
each is escaped here, once, before any pane sees it.
*/

import {NO_INBOUND_FAULT, NO_OUTBOUND_FAULT, type InboundFault, type OutboundFault} from '../mesh/model/fault-types.js';
import type {SessionEvent} from '../session/controller.js';
import {escapeControl, formatAge, formatInboundFault, formatOutboundFault} from './format.js';
import type {Tone} from './theme.js';

export type EventLine = {text: string; tone: Tone};

const SHOWN_ELSEWHERE = new Set(['t', 'kind', 'peer', 'endpoint', 'reason']);

/** An event's detail field as text: a string or number as it is, anything else as JSON. */
function detailText(value: unknown): string {
	return typeof value === 'string' || typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? '');
}

export function describeEvent(event: SessionEvent): EventLine {
	const peer = event.peer === undefined ? '' : escapeControl(String(event.peer));
	const endpoint = event.endpoint === undefined ? '' : escapeControl(String(event.endpoint));
	const reason = event.reason === undefined ? '' : escapeControl(String(event.reason));
	switch (event.kind) {
		case 'peer-joined': {
			return {text: `${peer} joined`, tone: 'good'};
		}

		case 'peer-rejoined': {
			return {text: `${peer} is back`, tone: 'good'};
		}

		case 'peer-restarted': {
			return {text: `${peer} restarted (new incarnation)`, tone: 'action'};
		}

		case 'peer-evicted': {
			const silent = typeof event['silentMs'] === 'number' ? ` after ${formatAge(event['silentMs'])} of silence` : '';
			return {text: `${peer} evicted${silent}`, tone: 'bad'};
		}

		case 'peer-removed': {
			return {text: `${peer} left the table`, tone: 'muted'};
		}

		case 'peer-quarantined': {
			return {text: `${peer} quarantined: ${reason || 'broke a rule'}`, tone: 'fault'};
		}

		case 'peer-killed':
		case 'peer-paused':
		case 'peer-resumed':
		case 'peer-revived': {
			const text = typeof event['message'] === 'string' ? escapeControl(event['message']) : `${peer} ${event.kind.slice(5)}`;
			return {text, tone: event.kind === 'peer-revived' || event.kind === 'peer-resumed' ? 'good' : 'bad'};
		}

		case 'demo-exited': {
			return {text: `${peer} ${reason || 'exited'}`, tone: 'bad'};
		}

		case 'fault-set':
		case 'fault-cleared': {
			const target = escapeControl(detailText(event['target'] ?? event.peer ?? 'all'));
			const fault = event['fault'] as (Partial<InboundFault> & Partial<OutboundFault>) | undefined;
			if (event.kind === 'fault-cleared' || fault === undefined) {
				return {text: `fault cleared on ${target}`, tone: 'fault'};
			}

			const words =
				event['direction'] === 'outbound'
					? formatOutboundFault({...NO_OUTBOUND_FAULT, ...fault})
					: formatInboundFault({...NO_INBOUND_FAULT, ...fault});
			return {text: `fault on ${target}: ${words || 'none'}`, tone: 'fault'};
		}

		case 'warning': {
			return {text: [peer, reason].filter(Boolean).join(': ') || 'warning', tone: 'warn'};
		}

		case 'peer-connected': {
			return {text: `connected to ${endpoint}`, tone: 'muted'};
		}

		case 'peer-disconnected': {
			return {text: `disconnected from ${endpoint}`, tone: 'warn'};
		}

		case 'link-reset': {
			return {text: `${endpoint} silent ${(Number(event['silentMs']) / 1000).toFixed(1)}s: redialled`, tone: 'warn'};
		}

		case 'scenario-started': {
			const name = escapeControl(detailText(event['name'] ?? event['file'] ?? 'scenario'));
			return {text: `scenario ${name}: ${String(event['steps'])} steps`, tone: 'action'};
		}

		case 'scenario-step': {
			const message = escapeControl(detailText(event['message'] ?? ''));
			return {text: `scenario: ${message}`, tone: event['ok'] === false ? 'warn' : 'action'};
		}

		case 'scenario-done': {
			return {text: `scenario done${Number(event['failed']) > 0 ? `, ${String(event['failed'])} steps failed` : ''}`, tone: 'action'};
		}

		case 'scenario-end': {
			return {text: 'scenario ends the run', tone: 'action'};
		}

		case 'node-started': {
			return {text: `node started on ${endpoint}`, tone: 'muted'};
		}

		case 'node-stopped': {
			return {text: 'node stopped', tone: 'muted'};
		}

		default: {
			const details = Object.entries(event)
				.filter(([key]) => !SHOWN_ELSEWHERE.has(key))
				.map(([key, value]) => `${escapeControl(key)}=${escapeControl(typeof value === 'string' ? value : JSON.stringify(value) ?? '')}`);
			const words = [event.kind, peer, endpoint, reason, ...details].filter(Boolean);
			const tone: Tone = event.kind.startsWith('fault') ? 'fault' : event.kind.includes('fail') || event.kind.includes('refused') || event.kind.includes('drop') ? 'warn' : 'muted';
			return {text: words.join(' '), tone};
		}
	}
}
