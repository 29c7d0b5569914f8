/**
Observers (`--observe`) in membership, pure parts: the observer table (listed, refreshed by joins,
aged out by a TTL on the last join, bounded apart from members), gossip never spreading them, a
member that comes back as an observer, the `join` request's `observer` field, and the command
line's rules. The real mesh is in observe.test.ts.
*/

import {describe, expect, test} from 'vitest';
import {parseRequest} from '../../source/cluster/control/requests.js';
import {MemberTable} from '../../source/cluster/membership/member-table.js';
import {Membership, type MembershipClient, type MembershipNode} from '../../source/cluster/membership/membership.js';
import {DEFAULT_MAX_OBSERVERS, ObserverTable} from '../../source/cluster/membership/observers.js';
import {formatTable} from '../../source/run/members.js';
import {OBSERVER_REFRESH_MS, OBSERVER_TTL_MS, type JoinAnnouncement} from '../../source/cluster/protocol.js';
import {resolveConfig} from '../../source/config.js';

const watcher: JoinAnnouncement = {id: 'obs', endpoint: 'tcp://10.0.0.9:5555', control: 'tcp://10.0.0.9:5556', incarnation: 1000, observer: true};

describe('the observer table', () => {
	test('an observer is listed alive and flagged after its join; a refresh keeps it, silence past the TTL forgets it', () => {
		const table = new ObserverTable({selfId: 'me'});
		const {result, events} = table.announce(watcher, 0);
		expect(result).toEqual({ok: true});
		expect(events).toMatchObject([{kind: 'member-joined', peer: 'obs', reason: 'observer (join)'}]);
		expect(table.members()).toEqual([{id: 'obs', endpoint: watcher.endpoint, control: watcher.control, incarnation: 1000, state: 'alive', legacy: false, changedAtMs: 0, observer: true}]);

		// Refreshed every OBSERVER_REFRESH_MS: never forgotten, and a refresh is no news.
		for (let atMs = OBSERVER_REFRESH_MS; atMs <= 10 * OBSERVER_REFRESH_MS; atMs += OBSERVER_REFRESH_MS) {
			expect(table.sweep(atMs)).toEqual([]);
			expect(table.announce(watcher, atMs).events).toEqual([]);
		}

		const lastJoinMs = 10 * OBSERVER_REFRESH_MS;
		// Two refreshes lost: still there.
		expect(table.sweep(lastJoinMs + 3 * OBSERVER_REFRESH_MS)).toEqual([]);
		expect(table.size).toBe(1);
		const forgotten = table.sweep(lastJoinMs + OBSERVER_TTL_MS);
		expect(forgotten).toMatchObject([{kind: 'member-forgotten', peer: 'obs'}]);
		expect(forgotten[0]!.reason).toMatch(/^observer: no join for 35 s$/);
		expect(table.members()).toEqual([]);
	});

	test('a newer incarnation replaces the entry with an event; an older one is stale and changes nothing', () => {
		const table = new ObserverTable({selfId: 'me'});
		table.announce(watcher, 0);
		expect(table.announce({...watcher, incarnation: 999, endpoint: 'tcp://10.0.0.1:1'}, 10).result).toEqual({ok: true});
		expect(table.members()[0]!.endpoint).toBe(watcher.endpoint);
		expect(table.refused()).toEqual({stale: 1});
		expect(table.announce({...watcher, incarnation: 2000}, 20).events).toMatchObject([{kind: 'member-joined', reason: 'observer restarted (join)'}]);
		expect(table.incarnationOf('obs')).toBe(2000);
	});

	test('bounded apart from members: a newcomer past the bound is refused and counted, a known one still refreshed', () => {
		const table = new ObserverTable({selfId: 'me', maxObservers: 2});
		table.announce({...watcher, id: 'o1'}, 0);
		table.announce({...watcher, id: 'o2'}, 0);
		const refused = table.announce({...watcher, id: 'o3'}, 0);
		expect(refused.result).toMatchObject({ok: false, error: 'too-many-members'});
		expect(table.refused()).toEqual({'too-many-observers': 1});
		expect(table.announce({...watcher, id: 'o1'}, 1).result).toEqual({ok: true});
		expect(table.size).toBe(2);
		expect(DEFAULT_MAX_OBSERVERS).toBe(64);
	});

	test('untrusted fields are checked; a loopback control endpoint from another host is dropped; our own id is no observer', () => {
		const table = new ObserverTable({selfId: 'me'});
		for (const bad of [
			{...watcher, id: ''},
			{...watcher, id: 'x\u0000'},
			{...watcher, endpoint: 'tcp://0.0.0.0:5555'},
			{...watcher, endpoint: 'udp://1.2.3.4:5'},
			{...watcher, incarnation: -1},
			{...watcher, incarnation: 1.5},
		]) {
			expect(table.announce(bad, 0).result.ok, JSON.stringify(bad)).toBe(false);
		}

		expect(table.refused()).toEqual({'bad-member': 6});
		table.announce({...watcher, control: 'tcp://127.0.0.1:5556'}, 0);
		expect(table.members()[0]!.control).toBeUndefined();
		table.announce({...watcher, id: 'me'}, 0);
		expect(table.size).toBe(1);
	});
});

describe('observers in the member table', () => {
	const options = {selfId: 'me', maxMembers: 10, ttlMs: 5000, reconnectTimeoutMs: 60_000};

	test('gossip never spreads an observer: an entry flagged observer is not merged, and nothing plans a dial to it', () => {
		const table = new MemberTable(options);
		table.merge([
			{id: 'obs', endpoint: 'tcp://10.0.0.9:5555', incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0, observer: true},
			{id: 'm2', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0},
		], 0);
		expect(table.members().map((member) => member.id)).toEqual(['m2']);
		expect(table.plan(0).subscribe).toEqual(['tcp://10.0.0.2:5555']);
	});

	test('a member that came back as an observer is forgotten once silent: its link is dropped and gossip cannot bring the old one back', () => {
		const table = new MemberTable(options);
		table.heard({id: 'x', endpoint: 'tcp://10.0.0.9:5555', incarnation: 1}, 0);
		expect(table.plan(0).subscribe).toEqual(['tcp://10.0.0.9:5555']);
		// Still heard: a request cannot cut out a member our own ears vouch for.
		expect(table.forget('x', 4999)).toBeUndefined();
		expect(table.get('x')).toBeDefined();
		expect(table.forget('x', 5000)).toMatchObject([{kind: 'member-forgotten', peer: 'x', reason: 'came back as an observer'}]);
		expect(table.plan(5000).unsubscribe).toEqual(['tcp://10.0.0.9:5555']);
		table.merge([{id: 'x', endpoint: 'tcp://10.0.0.9:5555', incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0}], 5100);
		expect(table.get('x')).toBeUndefined();
		expect(table.refused()).toEqual({forgotten: 1});
	});
});

describe('membership with an observer, over a recording client (timers real, sockets none)', () => {
	function fakeNode(fields: Partial<MembershipNode>): MembershipNode & {added: string[]} {
		const added: string[] = [];
		return {
			id: 'me',
			incarnation: 5,
			endpoint: 'tcp://10.0.0.9:5555',
			control: 'tcp://10.0.0.9:5556',
			heardPeers: () => [],
			addPeer(endpoint) {
				added.push(endpoint);
			},
			removePeer() {},
			added,
			...fields,
		};
	}

	const recordingClient = () => {
		const requests: Array<{endpoint: string; body: Record<string, unknown>}> = [];
		const client: MembershipClient = {
			async request(endpoint, body) {
				requests.push({endpoint, body});
				return {v: 1, id: 1, ok: true, members: []};
			},
		};
		return {client, requests};
	};

	test('an observer subscribes to the members it hears and joins each as an observer, again every refresh interval', async () => {
		const member = {id: 'm1', silentForMs: 10, incarnation: 1, endpoint: 'tcp://10.0.0.1:5555', via: 'tcp://10.0.0.1:5555', control: 'tcp://10.0.0.1:5556'};
		const node = fakeNode({id: 'obs', observer: true, heardPeers: () => [member]});
		const {client, requests} = recordingClient();
		const membership = new Membership({node, joins: [], staticPeers: [], client, ttlMs: 5000, maxMembers: 10, emit() {}, loopMs: 20, observerRefreshMs: 150});
		membership.start();
		await new Promise((resolve) => {
			setTimeout(resolve, 700);
		});
		membership.stop();
		const joins = requests.filter((request) => request.body['op'] === 'join');
		expect(joins.length).toBeGreaterThanOrEqual(3);
		expect(joins.length).toBeLessThanOrEqual(6);
		for (const join of joins) {
			expect(join).toEqual({endpoint: member.control, body: {op: 'join', node: 'obs', endpoint: node.endpoint, control: node.control, incarnation: 5, observer: true}});
		}

		expect(node.added).toEqual([member.endpoint]);
		expect(membership.members()[0]).toMatchObject({id: 'obs', observer: true});
	});

	test('gossip that calls a member dead is refuted by what the node hears now, not at its last step', async () => {
		// TTL 1 s: gossip's `dead` is refuted by a hearing within 500 ms. The step looked once, at start;
		// 700 ms later the member is still heard (the node's peer table says so), and gossip says dead.
		const member = {id: 'm1', silentForMs: 0, incarnation: 1, endpoint: 'tcp://10.0.0.1:5555', via: 'tcp://10.0.0.1:5555', control: 'tcp://10.0.0.1:5556'};
		const node = fakeNode({heardPeers: () => [member]});
		const {client} = recordingClient();
		const events: string[] = [];
		const membership = new Membership({node, joins: [], staticPeers: [], client, ttlMs: 1000, maxMembers: 10, emit(event) {
			events.push(event.kind);
		}, loopMs: 60_000});
		membership.start();
		expect(membership.members().find((entry) => entry.id === 'm1')).toMatchObject({state: 'alive'});
		await new Promise((resolve) => {
			setTimeout(resolve, 700);
		});
		membership.merge([{id: 'm1', endpoint: member.endpoint, control: member.control, incarnation: 1, state: 'dead', legacy: false, changedAtMs: Date.now()}]);
		membership.stop();
		expect(membership.members().find((entry) => entry.id === 'm1')).toMatchObject({state: 'alive'});
		expect(events).not.toContain('member-dead');
	});

	test('a member lists an observer\'s join and subscribes to nothing; a member without --observe joins once, without the flag', async () => {
		const node = fakeNode({});
		const {client} = recordingClient();
		const membership = new Membership({node, joins: [], staticPeers: [], client, ttlMs: 5000, maxMembers: 10, emit() {}});
		expect(membership.join(watcher)).toEqual({ok: true});
		expect(node.added).toEqual([]);
		expect(membership.members().map((member) => [member.id, member.observer === true])).toEqual([['me', false], ['obs', true]]);
		expect(membership.stats().observers).toBe(1);
		// A member's join is subscribed to (through the dial plan) and listed as a member.
		expect(membership.join({id: 'm2', endpoint: 'tcp://10.0.0.2:5555', incarnation: 1})).toEqual({ok: true});
		expect(node.added).toEqual(['tcp://10.0.0.2:5555']);
		// The member m2, not heard yet, is taken over by an observer of a newer process with its id.
		expect(membership.join({id: 'm2', endpoint: 'tcp://10.0.0.2:5555', incarnation: 2, observer: true})).toEqual({ok: true});
		expect(membership.members().filter((member) => member.id === 'm2')).toMatchObject([{observer: true, incarnation: 2}]);
		// And the reverse: the same id at its old incarnation cannot come back as an observer.
		expect(membership.join({...watcher, incarnation: 999})).toEqual({ok: true});
		expect(membership.members().find((member) => member.id === 'obs')!.incarnation).toBe(1000);
	});
});

describe('the join request and the members table', () => {
	const frame = (fields: Record<string, unknown>) => Buffer.from(JSON.stringify({v: 1, id: 7, op: 'join', node: 'obs', endpoint: 'tcp://10.0.0.9:5555', incarnation: 5, ...fields}));

	test('`observer: true` is carried; absent or false is a member; anything else is a bad request', () => {
		expect(parseRequest(frame({observer: true}), 0)).toMatchObject({ok: true, request: {op: 'join', observer: true}});
		const member = parseRequest(frame({}), 0);
		expect(member.ok && 'observer' in member.request).toBe(false);
		expect(parseRequest(frame({observer: false}), 0)).toMatchObject({ok: true});
		expect(parseRequest(frame({observer: 'yes'}), 0)).toMatchObject({ok: false, error: 'bad-request'});
	});

	test('`members` shows an observer as such', () => {
		const text = formatTable([
			{id: 'm1', endpoint: 'tcp://10.0.0.1:5555', incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0},
			{id: 'obs', endpoint: 'tcp://10.0.0.9:5555', incarnation: 2, state: 'alive', legacy: false, changedAtMs: 0, observer: true},
		]);
		expect(text.split('\n')[1]).toMatch(/ chorus$/);
		expect(text.split('\n')[2]).toMatch(/^obs .* observer$/);
	});
});

describe('--observe on the command line', () => {
	test('with --join, --peer or demo peers (the default when nothing else is given) it is fine', () => {
		expect(resolveConfig({observe: true, join: ['tcp://10.0.0.1:5555']}).observe).toBe(true);
		expect(resolveConfig({observe: true, peer: ['5556']}).observe).toBe(true);
		const demo = resolveConfig({observe: true});
		expect(demo.observe).toBe(true);
		expect(demo.demoPeers).toBeGreaterThan(0);
		expect(resolveConfig({}).observe).toBe(false);
	});

	test('with nothing to watch it is one line naming the flag', () => {
		expect(() => resolveConfig({observe: true, demo: '0'})).toThrow(/^--observe: nothing to watch; give --join/);
	});
});
