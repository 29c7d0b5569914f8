/**
`chorus-tui members` with `--fanout`: the table's COUPLED column and `--json`'s `coupled` say which
members the answering node couples to (yes / true) and which it only knows (no / false). Five nodes
(MeshSession, what `--headless` runs) in this process over TCP loopback with `--fanout 2`, joined
through the first; the subcommand's own code (runMembers) asks the first, over real sockets.
*/

import {afterAll, describe, expect, test} from 'vitest';
import {resolveConfig} from '../../source/config.js';
import {formatTable, runMembers} from '../../source/run/members.js';
import {MeshSession} from '../../source/session/session.js';
import {eventually} from '../helpers/nodes.js';
import {freePorts} from '../helpers/ports.js';

const COUNT = 5;
const FANOUT = 2;
const sessions: MeshSession[] = [];

afterAll(async () => {
	await Promise.all(sessions.map(async (session) => session.stop()));
});

type Listed = {id: string; coupled?: unknown};

/** The table's cells of one column, by id: cut at the header's offsets, since a blank cell leaves no word to split on. */
function column(table: string, title: string, next: string): Map<string, string> {
	const [header, ...rows] = table.trimEnd().split('\n');
	const from = header!.indexOf(title);
	const to = header!.indexOf(next);
	expect(from, `${title} in ${header}`).toBeGreaterThan(0);
	return new Map(rows.map((row) => [row.split(/\s+/)[0]!, row.slice(from, to).trim()]));
}

async function members(json: boolean, seed: string): Promise<string> {
	let stdout = '';
	let stderr = '';
	const code = await runMembers([], {join: [seed], json}, {
		stdout(text) {
			stdout += text;
		},
		stderr(text) {
			stderr += text;
		},
	});
	expect(code, stderr).toBe(0);
	return stdout;
}

describe('members with --fanout', () => {
	test('COUPLED and `coupled` say which members the answering node couples to, and which it only knows', async () => {
		const ports = await freePorts(COUNT * 2);
		const seed = `tcp://127.0.0.1:${ports[0]}`;
		sessions.push(...Array.from({length: COUNT}, (_, index) => new MeshSession(resolveConfig({
			id: `c${index}`,
			bind: String(ports[index * 2]),
			control: String(ports[(index * 2) + 1]),
			demo: '0', fanout: String(FANOUT), ttl: '2', gossipInterval: '0.5', seed: String(index + 1),
			...(index === 0 ? {} : {join: [seed]}),
		}))));
		await sessions[0]!.start();
		await Promise.all(sessions.slice(1).map(async (session) => session.start()));
		const others = () => (sessions[0]!.snapshot().members ?? []).filter((member) => member.id !== 'c0') as Listed[];
		await eventually('c0 knows the four others, couples to two of them and only knows the other two', () => {
			const listed = others();
			const picked = listed.filter((member) => member.coupled === true).length;
			return listed.length === COUNT - 1 && picked === FANOUT && listed.filter((member) => member.coupled === false).length === COUNT - 1 - FANOUT;
		}, 30_000, 100);

		const table = await members(false, seed);
		const coupled = column(table, 'COUPLED', 'DATA');
		expect([...coupled.keys()].sort(), table).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
		// Itself: nothing to say.
		expect(coupled.get('c0'), table).toBe('');
		const yes = [...coupled].filter(([, cell]) => cell === 'yes').map(([id]) => id).sort();
		expect(yes, table).toHaveLength(FANOUT);
		expect([...coupled].filter(([, cell]) => cell === 'no'), table).toHaveLength(COUNT - 1 - FANOUT);

		const json = JSON.parse(await members(true, seed)) as {members: Listed[]};
		expect(json.members.find((member) => member.id === 'c0')).not.toHaveProperty('coupled');
		for (const member of json.members.filter((entry) => entry.id !== 'c0')) {
			expect(typeof member.coupled, JSON.stringify(member)).toBe('boolean');
		}

		// The picks are settled (no one new, no one lost): both outputs and the node itself agree.
		expect(json.members.filter((member) => member.coupled === true).map((member) => member.id).sort()).toEqual(yes);
		expect(others().filter((member) => member.coupled === true).map((member) => member.id).sort()).toEqual(yes);
	}, 60_000);

	test('the table shows only what a boolean says: anything else from the network is a blank cell', () => {
		const base = {endpoint: 'tcp://10.0.0.1:5555', incarnation: 1, state: 'alive', legacy: false, changedAtMs: 0} as const;
		const table = formatTable([
			{...base, id: 'picked', coupled: true},
			{...base, id: 'known', coupled: false},
			{...base, id: 'self'},
			{...base, id: 'hostile', coupled: 'yes\u001B[31m' as unknown as boolean},
		]);
		const coupled = column(table, 'COUPLED', 'DATA');
		expect(Object.fromEntries(coupled)).toEqual({picked: 'yes', known: 'no', self: '', hostile: ''});
		expect(table).not.toContain('\u001B');
	});
});
