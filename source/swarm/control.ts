/**
The control channel between the parent (the embedded node's process) and a demo peer: Node's IPC
channel on the child's fd 3, JSON messages. The parent asks the child to change faults in its own
node or its peer list; the child says when it is ready and answers each request.

A child only opens its side when the parent set `CONTROL_ENV` (see child-control.ts).
*/

import type {FaultTarget, InboundFault, OutboundFault} from '../mesh/model/fault-types.js';

/** Set to `ipc` by the parent in a demo peer's environment; nothing else turns the channel on. */
export const CONTROL_ENV = 'CHORUS_DEMO_CONTROL';

export type ControlRequest =
	| {type: 'set-inbound-fault'; seq: number; target: FaultTarget; patch: Partial<InboundFault>}
	| {type: 'set-outbound-fault'; seq: number; patch: Partial<OutboundFault>}
	| {type: 'clear-faults'; seq: number}
	| {type: 'add-peer'; seq: number; endpoint: string}
	| {type: 'remove-peer'; seq: number; endpoint: string};

/** A request before the channel numbers it. */
export type ControlCommand = ControlRequest extends infer Request ? (Request extends ControlRequest ? Omit<Request, 'seq'> : never) : never;

export type ControlReply =
	/** Sent once the child's node is bound and ticking. */
	| {type: 'ready'; id: string; endpoint: string; incarnation: number; pid: number}
	| {type: 'ack'; seq: number; ok: true}
	| {type: 'ack'; seq: number; ok: false; error: string};

const REQUEST_TYPES = new Set<ControlRequest['type']>([
	'set-inbound-fault',
	'set-outbound-fault',
	'clear-faults',
	'add-peer',
	'remove-peer',
]);

export function isControlRequest(value: unknown): value is ControlRequest {
	return (
		typeof value === 'object'
		&& value !== null
		&& REQUEST_TYPES.has((value as {type?: unknown}).type as ControlRequest['type'])
		&& typeof (value as {seq?: unknown}).seq === 'number'
	);
}

export function isControlReply(value: unknown): value is ControlReply {
	const type = (value as {type?: unknown} | null)?.type;
	return typeof value === 'object' && value !== null && (type === 'ready' || type === 'ack');
}
