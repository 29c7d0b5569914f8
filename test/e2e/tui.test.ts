/**
The terminal UI end to end: the built `chorus-tui --demo 3` in a real pseudo-terminal of 80×24,
its screen read back through a headless xterm, driven by key presses as an operator would.

The steps share one run (starting a mesh costs seconds on a loaded machine) and go in order: each
leaves the mesh as the next expects it.
*/

import net from 'node:net';
import {afterAll, beforeAll, describe, expect, test} from 'vitest';
import {freePort} from '../helpers/ports.js';
import {descendants, isRunning, sleep, Term} from '../helpers/term.js';

const TTL_S = 2;
const DEMO_IDS = ['demo-1', 'demo-2', 'demo-3'];

/** The table row of a peer, or undefined. */
function rowOf(screen: string, id: string): string | undefined {
	return screen.split('\n').find((line) => new RegExp(`^[› ] ${id} `).test(line));
}

function stateOf(screen: string, id: string): string | undefined {
	return /[●◌↻⊘✕❚…·] (\w+)/.exec(rowOf(screen, id) ?? '')?.[1];
}

function ttlCells(screen: string, id: string): number {
	return (rowOf(screen, id)?.match(/█/g) ?? []).length;
}

/** What a valid screen has: the title, the table header, the footer's quit key, nothing too wide. */
function expectValidScreen(term: Term): void {
	const lines = term.lines();
	const {columns, rows} = term.size;
	expect(lines[0]).toMatch(/^ chorus-tui {2}node /);
	expect(lines.some((line) => /ID▼ +STATE/.test(line))).toBe(true);
	expect(lines.some((line) => line.includes('q quit'))).toBe(true);
	expect(lines.every((line) => line.length <= columns)).toBe(true);
	// The frame ends above the last line: Ink redraws the whole screen once it reaches the height.
	expect(lines.at(-1)).toBe('');
	expect(lines).toHaveLength(rows);
}

describe('chorus-tui --demo 3 in a real terminal', () => {
	let term: Term;
	let spawnedAtMs = 0;
	const demoPids = new Set<number>();

	beforeAll(async () => {
		const port = await freePort();
		spawnedAtMs = performance.now();
		term = new Term(['--demo', '3', '--bind', String(port), '--ttl', String(TTL_S), '--id', 'e2e-node'], {columns: 80, rows: 24});
	});

	afterAll(async () => {
		const left = descendants(term.pid);
		await term.stop();
		for (const {pid} of left) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {
				// Gone already.
			}
		}

		for (const pid of demoPids) {
			try {
				process.kill(pid, 'SIGKILL');
			} catch {
				// Gone already.
			}
		}
	});

	test('the three demo peers appear alive', async () => {
		await term.waitForText('chorus-tui  node e2e-node', 20_000);
		const firstFrameMs = performance.now() - spawnedAtMs;
		const drawnAtMs = performance.now();
		await term.waitFor((screen) => DEMO_IDS.every((id) => stateOf(screen, id) === 'alive'), 20_000, 'three alive demo peers');
		const aliveAfterDrawMs = performance.now() - drawnAtMs;
		console.log(`first frame ${Math.round(firstFrameMs)} ms after spawn; peers alive ${Math.round(aliveAfterDrawMs)} ms later`);
		// Generous: the demo peers start as processes of their own, on a machine shared with other tests.
		expect(aliveAfterDrawMs).toBeLessThan(3000 * 3);
		expectValidScreen(term);
		// Colour by default: the control for the NO_COLOR test below.
		expect(term.output).toMatch(/\u001B\[[\d;]*m/);
		// The demo peers are the UI's child processes (they retitle themselves, so no command line
		// tells them apart; the kill message below names the pid).
		for (const {pid} of descendants(term.pid)) {
			demoPids.add(pid);
		}

		expect(demoPids.size).toBe(3);
	});

	test('d up to 100 % drains the TTL bar of the selected peer until it is evicted', async () => {
		for (let press = 0; press < 4; press++) {
			term.write('d');

			await sleep(150);
		}

		await term.waitFor((screen) => (rowOf(screen, 'demo-1') ?? '').includes('drop 100%'), 5000, 'demo-1 at drop 100 %');
		// The bar drains: fewer cells than full while the peer is still listed as alive or suspect.
		await term.waitFor((screen) => ttlCells(screen, 'demo-1') < 10 && stateOf(screen, 'demo-1') !== 'evicted', 5000, 'a draining TTL bar');
		await term.waitFor((screen) => stateOf(screen, 'demo-1') === 'evicted' && ttlCells(screen, 'demo-1') === 0, TTL_S * 1000 + 8000, 'demo-1 evicted');
		expect(term.lineWith('faults')).toContain('demo-1: drop 100%');
		// The others keep going.
		expect(stateOf(term.screen(), 'demo-2')).toBe('alive');
		term.write('c');
		await term.waitFor((screen) => stateOf(screen, 'demo-1') === 'alive', 15_000, 'demo-1 alive again after c');
	});

	test('x then y kills a demo peer process, which is evicted after its TTL', async () => {
		term.write('j');
		await term.waitFor((screen) => rowOf(screen, 'demo-2')?.startsWith('›') ?? false, 5000, 'demo-2 selected');
		const before = new Set(descendants(term.pid).map(({pid}) => pid));
		expect(before.size).toBe(3);
		term.write('x');
		await term.waitForText('kill demo peer demo-2 (SIGKILL)? y kills', 5000);
		term.write('y');
		const screen = await term.waitForText(/demo-2 killed \(SIGKILL, pid \d+\)/, 10_000);
		const pid = Number(/demo-2 killed \(SIGKILL, pid (\d+)\)/.exec(screen)![1]);
		expect(before.has(pid)).toBe(true);
		const killedAtMs = performance.now();
		while (isRunning(pid) && performance.now() - killedAtMs < 5000) {
			await sleep(50);
		}

		expect(isRunning(pid)).toBe(false);
		expect(descendants(term.pid).map(({pid}) => pid)).not.toContain(pid);
		await term.waitFor((screen) => stateOf(screen, 'demo-2') === 'evicted' || stateOf(screen, 'demo-2') === 'killed', TTL_S * 1000 + 8000, 'demo-2 evicted');
		const evictedAfterMs = performance.now() - killedAtMs;
		console.log(`demo-2 evicted ${Math.round(evictedAfterMs)} ms after the kill (TTL ${TTL_S} s)`);
		expect(evictedAfterMs).toBeGreaterThan(TTL_S * 1000 * 0.5);
	});

	test('r brings the killed peer back alive, as a new process', async () => {
		term.write('r');
		await term.waitFor((screen) => stateOf(screen, 'demo-2') === 'alive' || stateOf(screen, 'demo-2') === 'restarted', 15_000, 'demo-2 back');
		await term.waitFor((screen) => stateOf(screen, 'demo-2') === 'alive', 10_000, 'demo-2 alive');
		const now = descendants(term.pid).map(({pid}) => pid);
		expect(now).toHaveLength(3);
		const revived = now.filter((pid) => !demoPids.has(pid));
		expect(revived).toHaveLength(1);
		demoPids.add(revived[0]!);
	});

	test('l shows the added delay on the row', async () => {
		term.write('j');
		await term.waitFor((screen) => rowOf(screen, 'demo-3')?.startsWith('›') ?? false, 5000, 'demo-3 selected');
		term.write('l');
		await term.waitFor((screen) => (rowOf(screen, 'demo-3') ?? '').includes('+50ms'), 5000, 'delay +50ms on demo-3');
		term.write('l');
		await term.waitFor((screen) => (rowOf(screen, 'demo-3') ?? '').includes('+200ms'), 5000, 'delay +200ms on demo-3');
		expect(term.lineWith('faults')).toContain('demo-3: +200ms');
	});

	test('a resize to 60×20 and back keeps a valid screen', async () => {
		term.resize(60, 20);
		await term.waitFor((screen) => screen.split('\n')[0]!.length <= 60 && /rows \d+–\d+ of \d+|\+200ms/.test(screen) && rowOf(screen, 'demo-3') !== undefined, 10_000, 'the 60×20 layout');
		await sleep(300);
		expectValidScreen(term);
		expect(term.lines().filter((line) => line !== '').length).toBeLessThanOrEqual(19);
		term.resize(80, 24);
		await term.waitFor((screen) => screen.includes('LAMPORT') && rowOf(screen, 'demo-1') !== undefined, 10_000, 'the 80×24 layout');
		await sleep(300);
		expectValidScreen(term);
		expect(DEMO_IDS.every((id) => rowOf(term.screen(), id) !== undefined)).toBe(true);
	});

	test('q exits with code 0, restores the terminal and leaves no child process', async () => {
		term.write('q');
		const exit = await Promise.race([term.exited, sleep(15_000).then(() => undefined)]);
		expect(exit).toEqual({exitCode: 0, signal: 0});
		// The alternate screen is left and the cursor shown again.
		expect(term.output.slice(-200)).toContain('\u001B[?1049l');
		expect(term.output.slice(-200)).toContain('\u001B[?25h');
		for (const pid of demoPids) {
			expect(isRunning(pid)).toBe(false);
		}
	});
});

describe('chorus-tui without colour', () => {
	test('NO_COLOR and --no-color write no colour or style sequence; --readonly says so; SIGTERM restores the terminal', async () => {
		const runs = [
			new Term(['--demo', '1', '--bind', String(await freePort())], {env: {NO_COLOR: '1'}}),
			new Term(['--demo', '0', '--bind', String(await freePort()), '--no-color', '--readonly'], {}),
		];
		try {
			await Promise.all(runs.map(async (term) => term.waitForText('q quit', 30_000)));
			await sleep(500);
			for (const term of runs) {
				expect(term.output).not.toMatch(/\u001B\[[\d;]*m/);
			}

			expect(runs[1]!.screen()).toContain('READ-ONLY: fault keys off');
			expect(runs[1]!.screen()).not.toContain('d drop');
			// A SIGTERM (a service manager, kill) ends it like q: demo peer stopped, terminal restored.
			const [withDemo] = runs;
			await withDemo!.waitFor((screen) => /demo-1 +● alive/.test(screen), 20_000, 'demo-1 alive');
			const children = descendants(withDemo!.pid);
			expect(children).toHaveLength(1);
			process.kill(withDemo!.pid, 'SIGTERM');
			const exit = await Promise.race([withDemo!.exited, sleep(15_000).then(() => undefined)]);
			expect(exit?.exitCode).toBe(0);
			expect(withDemo!.output.slice(-200)).toContain('\u001B[?1049l');
			expect(withDemo!.output.slice(-200)).toContain('\u001B[?25h');
			expect(children.filter(({pid}) => isRunning(pid))).toEqual([]);
		} finally {
			await Promise.all(runs.map(async (term) => term.stop()));
		}
	});
});

describe('chorus-tui start failures', () => {
	test('a port in use gets one line and exit code 1, without a stack trace', async () => {
		const server = net.createServer();
		await new Promise<void>((resolve) => {
			server.listen(0, '127.0.0.1', resolve);
		});
		const {port} = server.address() as net.AddressInfo;
		const term = new Term(['--demo', '0', '--bind', String(port)], {columns: 80, rows: 24});
		try {
			const exit = await Promise.race([term.exited, sleep(20_000).then(() => undefined)]);
			expect(exit?.exitCode).toBe(1);
			const text = term.output.replaceAll(/\u001B\[[\d;?]*[A-Za-z]/g, '');
			expect(text).toContain(`chorus-tui: port ${port} is already in use`);
			expect(text).not.toMatch(/\n\s+at /);
		} finally {
			await term.stop();
			server.close();
		}
	});
});
