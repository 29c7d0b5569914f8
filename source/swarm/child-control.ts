/**
The demo peer's side of the control channel. run/headless.ts attaches it only when the parent set
`CHORUS_DEMO_CONTROL=ipc` and gave us an IPC channel; a node started by hand never listens.

It also watches for the parent's death: setpriv's pdeathsig normally SIGKILLs us first, but where
setpriv is missing the closed IPC channel or a changed parent pid tells us to stop.
*/

import process from 'node:process';
import type {FaultTarget, InboundFault, OutboundFault} from '../mesh/model/fault-types.js';
import {CONTROL_ENV, isControlRequest, type ControlReply, type ControlRequest} from './control.js';

/** What the channel may change in the child's own node. */
export type ControlledNode = {
	readonly id: string;
	readonly endpoint: string;
	readonly incarnation: number;
	setInboundFault(target: FaultTarget, patch: Partial<InboundFault>): void;
	setOutboundFault(patch: Partial<OutboundFault>): void;
	clearFaults(): void;
	addPeer(endpoint: string): void;
	removePeer(endpoint: string): void;
};

export type ParentControl = {detach(): void};

const PARENT_POLL_MS = 500;

/** Whether this process was started by a parent that wants a control channel. */
export function controlRequested(): boolean {
	return process.env[CONTROL_ENV] === 'ipc' && typeof process.send === 'function';
}

/**
Answer the parent's requests and tell it we are ready. `onParentGone` runs once when the parent
disappears, so the caller can stop the node and exit.
*/
export function attachParentControl(node: ControlledNode, onParentGone: () => void): ParentControl {
	const parentPid = process.ppid;
	let gone = false;
	const parentGone = () => {
		if (!gone) {
			gone = true;
			onParentGone();
		}
	};

	const reply = (message: ControlReply) => {
		if (process.connected) {
			process.send!(message);
		}
	};

	const onMessage = (message: unknown) => {
		if (!isControlRequest(message)) {
			return;
		}

		try {
			apply(node, message);
			reply({type: 'ack', seq: message.seq, ok: true});
		} catch (error) {
			reply({type: 'ack', seq: message.seq, ok: false, error: (error as Error).message ?? String(error)});
		}
	};

	process.on('message', onMessage);
	process.on('disconnect', parentGone);
	const poll = setInterval(() => {
		if (process.ppid !== parentPid) {
			parentGone();
		}
	}, PARENT_POLL_MS);
	poll.unref();
	reply({type: 'ready', id: node.id, endpoint: node.endpoint, incarnation: node.incarnation, pid: process.pid});

	return {
		detach() {
			clearInterval(poll);
			process.off('message', onMessage);
			process.off('disconnect', parentGone);
			if (process.connected) {
				process.disconnect();
			}
		},
	};
}

function apply(node: ControlledNode, request: ControlRequest): void {
	switch (request.type) {
		case 'set-inbound-fault': {
			node.setInboundFault(request.target, request.patch);
			break;
		}

		case 'set-outbound-fault': {
			node.setOutboundFault(request.patch);
			break;
		}

		case 'clear-faults': {
			node.clearFaults();
			break;
		}

		case 'add-peer': {
			node.addPeer(request.endpoint);
			break;
		}

		case 'remove-peer': {
			node.removePeer(request.endpoint);
			break;
		}
	}
}
