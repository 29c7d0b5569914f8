/**
Faults on any member of the mesh, through its control plane, with leases the session renews.

- A fault on a member with a control plane is a `fault` request carrying the session's lease
  (`--fault-lease`). While it is in force the session sends it again every third of the lease, so
  that it lasts as long as the console does and no longer: if the console dies, each member clears
  it by itself within the lease (the control plane's `fault-lease-expired`). A lease of 0 never
  expires and is not renewed.
- On this node the fault is set directly; on a member with no control plane (a legacy node) the
  nearest thing is set here: what we receive from it. The result says so.
- A partition by shape (cluster/partition-shapes.ts) is the set of per-link blackholes each member
  must hold, set on every member at once, replacing the partition in force (links it no longer
  needs are lifted), and renewed like any fault. Each member gets them as one `links` request (per
  500 peers), not one request per link; a member that predates `links` gets one `link` per peer.
- `clearAll` sends `clear` to every member with a control plane, clears this node, and stops renewing.

Requests go through one control client, at most `concurrency` at once, paced per member below the
rate a node grants one client (control-pacer.ts). Every action answers with one line that counts the
members it failed on ("set on 7 of 8; m-3: timeout") and is recorded as a session event.
*/

import {ControlTimeoutError, type ControlClient, type ControlRequestBody} from '../cluster/control/client.js';
import {PartitionError, partitionPlan, type PartitionShape} from '../cluster/partition-shapes.js';
import {MAX_LINKS_PER_REQUEST, type Member} from '../cluster/protocol.js';
import type {FaultTarget, InboundFault, OutboundFault} from '../mesh/model/fault-types.js';
import type {EventDetails} from '../mesh/snapshot.js';
import {ControlPacer} from './control-pacer.js';
import type {MemberFault, PeerActionResult, SessionEventKind} from './controller.js';
import {eachLimited} from './limited.js';

/** What the mesh faults need of this node: the session's own fault calls. */
export type LocalFaults = {
	setInboundFault(target: FaultTarget, patch: Partial<InboundFault>): void;
	setOutboundFault(patch: Partial<OutboundFault>): void;
	clearFaults(): void;
};

export type MeshFaultsOptions = {
	selfId: string;
	client: Pick<ControlClient, 'request'>;
	/** The members this node knows, itself included (observers marked). */
	members: () => readonly Member[];
	local: LocalFaults;
	/** The lease every remote fault carries (`--fault-lease`, ms); 0: no expiry, no renewal. */
	leaseMs: number;
	record: (event: EventDetails<SessionEventKind>) => void;
	/** @default 2000 */
	timeoutMs?: number;
	/** @default 32 */
	concurrency?: number;
	pacer?: ControlPacer;
};

/** What the session keeps in force on one remote member, to renew it. */
type Renewed = {
	inbound: Map<FaultTarget, Partial<InboundFault>>;
	outbound: Partial<OutboundFault> | undefined;
	/** Peers this member blackholes for the partition in force. */
	links: Set<string>;
	/** A renewal failed and said so: said once until one succeeds. */
	failing: boolean;
	renewing: boolean;
};

type Outcome = {member: string; error?: string};

/** How a node that predates the `links` direction refuses it (#send's words for its reply). */
const OLD_NODE_REFUSAL = 'bad-request (`direction` must be inbound, outbound or link)';

/** The fields of a patch that still hold something: zero and false mean "none". */
function live<T extends Record<string, unknown>>(patch: T): Partial<T> {
	return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== 0 && value !== false && value !== undefined)) as Partial<T>;
}

function describeFault(fault: Record<string, unknown>): string {
	const parts = Object.entries(fault).map(([key, value]) => {
		if (key === 'drop' || key === 'duplicate') {
			return `${key} ${Math.round((value as number) * 1000) / 10}%`;
		}

		if (key === 'delayMs' || key === 'jitterMs') {
			return `${key.replace('Ms', '')} ${value as number} ms`;
		}

		return `${key} ${String(value)}`;
	});
	return parts.length === 0 ? 'nothing' : parts.join(', ');
}

export function describeMemberFault(member: string, fault: MemberFault): string {
	const where = fault.direction === 'outbound' ? 'outbound' : `inbound from ${fault.target === 'all' ? 'all' : fault.target}`;
	return `${describeFault(fault.fault)} on ${member} (${where})`;
}

function describeError(error: unknown): string {
	if (error instanceof ControlTimeoutError) {
		return 'timeout';
	}

	return ((error as Error).message ?? String(error)).split('\n')[0]!.slice(0, 80);
}

/** "on 7 of 8; m-3: timeout, m-5: forbidden" — the failures named, at most three. */
export function countLine(outcomes: readonly Outcome[]): {line: string; failed: Record<string, string>} {
	const failed = outcomes.filter((outcome) => outcome.error !== undefined);
	const named = failed.slice(0, 3).map((outcome) => `${outcome.member}: ${outcome.error!}`);
	const more = failed.length > 3 ? `, and ${failed.length - 3} more` : '';
	const line = `on ${outcomes.length - failed.length} of ${outcomes.length}${failed.length === 0 ? '' : `; ${named.join(', ')}${more}`}`;
	return {line, failed: Object.fromEntries(failed.slice(0, 32).map((outcome) => [outcome.member, outcome.error!]))};
}

export class MeshFaults {
	readonly #options: MeshFaultsOptions;
	readonly #pacer: ControlPacer;
	readonly #renewed = new Map<string, Renewed>();
	/** Blackholes this node holds for the partition in force (set directly, never renewed). */
	#ownLinks = new Set<string>();
	#partition: {shape: PartitionShape; groups: string[][]} | undefined;
	#timer: NodeJS.Timeout | undefined;
	#stopped = false;

	constructor(options: MeshFaultsOptions) {
		this.#options = options;
		this.#pacer = options.pacer ?? new ControlPacer();
	}

	/** The partition in force, with its groups. */
	partitionInForce(): {shape: PartitionShape; groups: string[][]} | undefined {
		return this.#partition;
	}

	/** Remote members with a fault the session keeps renewing. */
	renewedMembers(): string[] {
		return [...this.#renewed.keys()];
	}

	async setMemberFault(member: string, fault: MemberFault): Promise<PeerActionResult> {
		const what = describeMemberFault(member, fault);
		const {selfId, local} = this.#options;
		const known = this.#member(member);
		try {
			if (member === selfId) {
				if (fault.direction === 'outbound') {
					local.setOutboundFault(fault.fault);
				} else {
					local.setInboundFault(fault.target, fault.fault);
				}

				return this.#done('mesh-fault', {member, fault}, true, `${what}: set here (this node)`);
			}

			if (known === undefined) {
				return {ok: false, message: `${member} is not a member this node knows`};
			}

			if (known.control === undefined) {
				// The nearest we can do: what we receive from it.
				local.setInboundFault(member, fault.fault);
				return this.#done('mesh-fault', {member, fault, acted: 'locally'}, true, `${what}: acted locally: ${member} has no control plane`);
			}
		} catch (error) {
			return {ok: false, message: `${what}: ${describeError(error)}`};
		}

		const body: ControlRequestBody = fault.direction === 'outbound'
			? {op: 'fault', direction: 'outbound', fault: fault.fault, leaseMs: this.#options.leaseMs}
			: {op: 'fault', direction: 'inbound', target: fault.target, fault: fault.fault, leaseMs: this.#options.leaseMs};
		const error = await this.#send(known.control, body);
		if (error !== undefined) {
			return this.#done('mesh-fault', {member, fault, failed: {[member]: error}}, false, `${what}: not set: ${error}`);
		}

		this.#keep(member, fault);
		return this.#done('mesh-fault', {member, fault, leaseMs: this.#options.leaseMs}, true, `${what}, ${this.#leaseWords()}`);
	}

	async partition(shape: PartitionShape, selected: string | undefined): Promise<PeerActionResult> {
		const members = this.#options.members().filter((member) => member.observer !== true);
		let plan;
		try {
			plan = partitionPlan(members.map((member) => member.id), shape, selected);
		} catch (error) {
			if (error instanceof PartitionError) {
				return {ok: false, message: `partition ${shape}: ${error.message}`};
			}

			throw error;
		}

		const byId = new Map(members.map((member) => [member.id, member]));
		const legacy: string[] = [];
		// One job per member: its blackholes and the links it no longer needs, each one `links` request.
		const jobs: Array<{member: string; control: string; blackholes: string[]; lifted: string[]}> = [];
		const outcomes = new Map<string, Outcome>();
		for (const [id, blackholes] of plan.blackholes) {
			const member = byId.get(id)!;
			if (id === this.#options.selfId) {
				outcomes.set(id, {member: id, ...this.#setOwnLinks(blackholes)});
				continue;
			}

			if (member.control === undefined) {
				legacy.push(id);
				continue;
			}

			outcomes.set(id, {member: id});
			const renewed = this.#entry(id);
			const lifted = [...renewed.links].filter((peer) => !blackholes.has(peer));
			jobs.push({member: id, control: member.control, blackholes: [...blackholes], lifted});
			renewed.links = new Set(blackholes);
		}

		// Members that left the mesh since the last partition: their links are theirs to expire.
		for (const [id, renewed] of this.#renewed) {
			if (!plan.blackholes.has(id)) {
				renewed.links.clear();
			}
		}

		await eachLimited(jobs, this.#options.concurrency ?? 32, async (job) => {
			const error = (await this.#sendLinks(job.control, job.blackholes, true)) ?? (await this.#sendLinks(job.control, job.lifted, false));
			if (error !== undefined) {
				outcomes.get(job.member)!.error = error;
			}
		});
		this.#tidy();
		this.#partition = {shape, groups: plan.groups};
		this.#schedule();
		const {line, failed} = countLine([...outcomes.values()]);
		const sides = plan.groups.length <= 3 ? ` (${plan.groups.map((group) => group.length).join(' | ')})` : ` (${plan.groups.length} majorities)`;
		const oneWay = legacy.length === 0 ? '' : `; ${legacy.slice(0, 3).join(', ')}${legacy.length > 3 ? ' …' : ''} ${legacy.length === 1 ? 'has' : 'have'} no control plane: cut one way only`;
		const ok = Object.keys(failed).length === 0;
		return this.#done(
			'mesh-partition',
			{shape, groups: plan.groups.length <= 64 ? plan.groups : undefined, ...(plan.bridge === undefined ? {} : {bridge: plan.bridge}), ...(ok ? {} : {failed}), leaseMs: this.#options.leaseMs},
			ok,
			`partition ${shape}${plan.bridge === undefined ? '' : ` through ${plan.bridge}`}${shape === 'isolate' ? ` of ${selected!}` : ''} set ${line}${sides}${oneWay}`,
		);
	}

	async clearAll(): Promise<PeerActionResult> {
		this.#renewed.clear();
		this.#ownLinks.clear();
		this.#partition = undefined;
		this.#schedule();
		const outcomes: Outcome[] = [{member: this.#options.selfId}];
		try {
			this.#options.local.clearFaults();
		} catch (error) {
			outcomes[0]!.error = describeError(error);
		}

		const remote = this.#options.members().filter((member) => member.id !== this.#options.selfId && member.control !== undefined);
		await eachLimited(remote, this.#options.concurrency ?? 32, async (member) => {
			const error = await this.#send(member.control!, {op: 'clear'});
			outcomes.push({member: member.id, ...(error === undefined ? {} : {error})});
		});
		const {line, failed} = countLine(outcomes);
		const ok = Object.keys(failed).length === 0;
		return this.#done('mesh-clear', ok ? {} : {failed}, ok, `every fault cleared ${line} members`);
	}

	async stopMember(member: string): Promise<PeerActionResult> {
		if (member === this.#options.selfId) {
			return {ok: false, message: `${member} is this node: q quits it`};
		}

		const known = this.#member(member);
		if (known === undefined) {
			return {ok: false, message: `${member} is not a member this node knows`};
		}

		if (known.control === undefined) {
			return {ok: false, message: `${member} has no control plane: it cannot be asked to stop (x blackholes it here)`};
		}

		const error = await this.#send(known.control, {op: 'stop'});
		if (error !== undefined) {
			return this.#done('mesh-stop', {member, failed: {[member]: error}}, false, `${member} not stopped: ${error}`);
		}

		this.#renewed.delete(member);
		this.#schedule();
		return this.#done('mesh-stop', {member}, true, `${member} asked to stop: it exits (its supervisor may restart it)`);
	}

	/** Stop renewing (the session stops): what is in force runs out with its leases. */
	stop(): void {
		this.#stopped = true;
		clearInterval(this.#timer);
		this.#timer = undefined;
	}

	#member(id: string): Member | undefined {
		return this.#options.members().find((member) => member.id === id);
	}

	#entry(id: string): Renewed {
		let entry = this.#renewed.get(id);
		if (entry === undefined) {
			entry = {inbound: new Map(), outbound: undefined, links: new Set(), failing: false, renewing: false};
			this.#renewed.set(id, entry);
		}

		return entry;
	}

	/** Remember what is in force on a member after a fault: the patch merged, the fields set to zero gone. */
	#keep(member: string, fault: MemberFault): void {
		const entry = this.#entry(member);
		if (fault.direction === 'outbound') {
			const merged = live({...entry.outbound, ...fault.fault});
			entry.outbound = Object.keys(merged).length === 0 ? undefined : merged;
		} else {
			const merged = live({...entry.inbound.get(fault.target), ...fault.fault});
			if (Object.keys(merged).length === 0) {
				entry.inbound.delete(fault.target);
			} else {
				entry.inbound.set(fault.target, merged);
			}
		}

		this.#tidy();
		this.#schedule();
	}

	#setOwnLinks(blackholes: ReadonlySet<string>): {error?: string} {
		try {
			for (const peer of this.#ownLinks) {
				if (!blackholes.has(peer)) {
					this.#options.local.setInboundFault(peer, {blackhole: false});
				}
			}

			for (const peer of blackholes) {
				this.#options.local.setInboundFault(peer, {blackhole: true});
			}

			this.#ownLinks = new Set(blackholes);
			return {};
		} catch (error) {
			return {error: describeError(error)};
		}
	}

	/** Members with nothing left to renew are dropped. */
	#tidy(): void {
		for (const [id, entry] of this.#renewed) {
			if (entry.inbound.size === 0 && entry.outbound === undefined && entry.links.size === 0) {
				this.#renewed.delete(id);
			}
		}
	}

	/** Renew every third of the lease while anything is in force; no timer with a lease of 0. */
	#schedule(): void {
		const {leaseMs} = this.#options;
		const wanted = !this.#stopped && leaseMs > 0 && this.#renewed.size > 0;
		if (!wanted) {
			clearInterval(this.#timer);
			this.#timer = undefined;
			return;
		}

		if (this.#timer === undefined) {
			this.#timer = setInterval(() => {
				this.#renewAll();
			}, Math.max(100, Math.floor(leaseMs / 3)));
			// Renewal never keeps a process alive: a lease outliving its console is the point.
			this.#timer.unref();
		}
	}

	#renewAll(): void {
		for (const [id, entry] of this.#renewed) {
			if (!entry.renewing) {
				void this.#renew(id, entry);
			}
		}
	}

	async #renew(id: string, entry: Renewed): Promise<void> {
		const control = this.#member(id)?.control;
		if (control === undefined) {
			// Forgotten by membership, or lost its control plane: nothing to renew it through.
			this.#renewed.delete(id);
			return;
		}

		const leaseMs = this.#options.leaseMs;
		const bodies: ControlRequestBody[] = [...entry.inbound].map(([target, fault]): ControlRequestBody => ({op: 'fault', direction: 'inbound', target, fault, leaseMs}));
		if (entry.outbound !== undefined) {
			bodies.push({op: 'fault', direction: 'outbound', fault: entry.outbound, leaseMs});
		}

		entry.renewing = true;
		let failure: string | undefined;
		try {
			for (const body of bodies) {
				if (this.#stopped || this.#renewed.get(id) !== entry) {
					return;
				}

				// eslint-disable-next-line no-await-in-loop -- one member's renewals go one by one, paced.
				const error = await this.#send(control, body);
				failure ??= error;
			}

			if (entry.links.size > 0 && !this.#stopped && this.#renewed.get(id) === entry) {
				failure ??= await this.#sendLinks(control, [...entry.links], true);
			}
		} finally {
			entry.renewing = false;
		}

		if (failure !== undefined && !entry.failing) {
			entry.failing = true;
			this.#options.record({kind: 'mesh-renew-failed', member: id, reason: failure, message: `lease renewal on ${id} failed: ${failure}; its faults end with their lease unless a renewal gets through`});
		} else if (failure === undefined) {
			entry.failing = false;
		}
	}

	/**
	Blackhole (or lift) many links on one member: `links` requests of at most MAX_LINKS_PER_REQUEST
	peers. A member that predates `links` refuses it naming the directions it knows; it is then sent
	one `link` request per peer, as before. Undefined when every one was taken, else the first reason.
	*/
	async #sendLinks(control: string, peers: readonly string[], blackhole: boolean): Promise<string | undefined> {
		const {leaseMs} = this.#options;
		for (let start = 0; start < peers.length; start += MAX_LINKS_PER_REQUEST) {
			const chunk = peers.slice(start, start + MAX_LINKS_PER_REQUEST);
			// eslint-disable-next-line no-await-in-loop -- one member's requests go one by one, paced.
			const error = await this.#send(control, {op: 'fault', direction: 'links', peers: chunk, blackhole, leaseMs});
			if (error?.startsWith(OLD_NODE_REFUSAL) === true) {
				for (const peer of chunk) {
					// eslint-disable-next-line no-await-in-loop -- as above.
					const linkError = await this.#send(control, {op: 'fault', direction: 'link', peer, blackhole, leaseMs});
					if (linkError !== undefined) {
						return linkError;
					}
				}
			} else if (error !== undefined) {
				return error;
			}
		}

		return undefined;
	}

	/** One request, paced; undefined when the member said ok, else why not. */
	async #send(control: string, body: ControlRequestBody): Promise<string | undefined> {
		try {
			await this.#pacer.take(control);
			const reply = await this.#options.client.request(control, body, this.#options.timeoutMs ?? 2000);
			return reply.ok ? undefined : `${reply.error}${typeof reply.message === 'string' ? ` (${reply.message.slice(0, 60)})` : ''}`;
		} catch (error) {
			return describeError(error);
		}
	}

	#leaseWords(): string {
		const {leaseMs} = this.#options;
		return leaseMs === 0 ? 'no lease (never expires)' : `lease ${leaseMs / 1000} s, renewed while this session runs`;
	}

	#done(kind: SessionEventKind, details: Record<string, unknown>, ok: boolean, message: string): PeerActionResult {
		this.#options.record({kind, ...details, ok, message});
		return {ok, message};
	}
}
