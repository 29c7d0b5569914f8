import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, describe, expect, it} from 'vitest';
import {readImportGraph, readSpecifiers} from './import-graph.js';
import {checkArchitecture, checkedFolders, findViolations, formatViolations, layerIndexOf} from './layers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('the project', () => {
	const {graph, violations} = checkArchitecture(root);

	it('reads the whole tree', () => {
		// A guard against the check passing because it read nothing.
		expect(graph.files).toContain('source/mesh/node.ts');
		expect(graph.files).toContain('source/cli.tsx');
		expect(graph.edges.filter((edge) => edge.to !== undefined).length).toBeGreaterThan(100);
	});

	it('puts every source file in a layer', () => {
		const outside = graph.files.filter((file) => layerIndexOf(file) === undefined);
		expect(outside, 'a new folder needs its place in the layers of test/architecture/layers.ts').toEqual([]);
	});

	it('has no import cycle and no upward import', () => {
		expect(violations, `\n${violations.length} architecture violations:\n${formatViolations(violations)}\n`).toEqual([]);
	});
});

describe('the check itself', () => {
	const fixtureRoot = mkdtempSync(path.join(tmpdir(), 'chorus-layers-'));
	afterAll(() => {
		rmSync(fixtureRoot, {recursive: true, force: true});
	});

	const write = (relative: string, text: string): void => {
		mkdirSync(path.dirname(path.join(fixtureRoot, relative)), {recursive: true});
		writeFileSync(path.join(fixtureRoot, relative), text);
	};

	// A tiny tree that keeps every rule, then breaks each one once.
	write('packages/zmtp/package.json', JSON.stringify({name: '@chorus-tui/zmtp', exports: {'.': {types: './dist/index.d.ts', default: './dist/index.js'}}}));
	write('packages/zmtp/src/index.ts', 'export const frame = 1;\n');
	write('source/mesh/model/wire.ts', 'import type {Buffer} from \'node:buffer\';\nexport type Wire = Buffer;\n');
	write('source/mesh/net/transport.ts', 'import {frame} from \'@chorus-tui/zmtp\';\nimport type {Wire} from \'../model/wire.js\';\nexport const transport = (wire: Wire) => frame;\n');
	write('source/mesh/node.ts', 'import {transport} from \'./net/transport.js\';\nexport const node = transport;\n');
	write('source/session/controller.ts', 'import {node} from \'../mesh/node.js\';\nexport const controller = node;\n');
	write('source/ui/app.tsx', 'import type {controller} from \'../session/controller.js\';\nexport const app = 1;\n');
	write('source/cli.tsx', 'import {app} from \'./ui/app.js\';\nconst load = async () => import(\'./session/controller.js\');\n');

	it('passes a tree that keeps the rules', () => {
		const violations = findViolations(readImportGraph(fixtureRoot, checkedFolders(fixtureRoot)));
		expect(violations).toEqual([]);
	});

	it('flags an upward import, even a type-only one', () => {
		write('source/mesh/model/faults.ts', 'import type {controller} from \'../../session/controller.js\';\n');
		const messages = findViolations(readImportGraph(fixtureRoot, checkedFolders(fixtureRoot))).map(({rule, message}) => `${rule}: ${message}`);
		rmSync(path.join(fixtureRoot, 'source/mesh/model/faults.ts'));
		expect(messages).toContainEqual(expect.stringMatching(/^upward: source\/mesh\/model\/faults\.ts:1 .*'mesh\/model' imports the higher layer 'session'/));
		expect(messages).toContainEqual(expect.stringMatching(/^pure-model: /));
	});

	it('flags a cycle and names the files around it', () => {
		write('source/ui/peer-rows.ts', 'import {table} from \'./components/PeerTable.js\';\nexport const rows = table;\n');
		write('source/ui/components/PeerTable.tsx', 'export {rows as table} from \'../peer-rows.js\';\n');
		const messages = findViolations(readImportGraph(fixtureRoot, checkedFolders(fixtureRoot))).map(({message}) => message);
		rmSync(path.join(fixtureRoot, 'source/ui/peer-rows.ts'));
		rmSync(path.join(fixtureRoot, 'source/ui/components/PeerTable.tsx'));
		expect(messages).toEqual(['import cycle: source/ui/components/PeerTable.tsx → source/ui/peer-rows.ts → source/ui/components/PeerTable.tsx']);
	});

	it('flags a sideways import, a session that reaches up, a UI past the session, a painter that reaches out, and a path into a package', () => {
		write('source/report/ndjson.ts', 'import {app} from \'../ui/app.js\';\n');
		write('source/session/session.ts', 'import {app} from \'../ui/app.js\';\n');
		write('source/ui/terminal/painter.ts', 'import {app} from \'../app.js\';\n');
		write('source/swarm/peer.ts', 'import {frame} from \'../../packages/zmtp/src/index.js\';\n');
		write('source/index.ts', 'export {controller} from \'./session/controller.js\';\n');
		write('source/ui/peer-rows.ts', 'import type {node} from \'../mesh/node.js\';\nimport {transport} from \'../mesh/net/transport.js\';\n');
		const rules = findViolations(readImportGraph(fixtureRoot, checkedFolders(fixtureRoot))).map(({rule}) => rule).sort();
		for (const file of ['source/ui/peer-rows.ts', 'source/report/ndjson.ts', 'source/session/session.ts', 'source/ui/terminal/painter.ts', 'source/swarm/peer.ts', 'source/index.ts']) {
			rmSync(path.join(fixtureRoot, file));
		}

		expect(rules).toEqual(['library', 'one-door', 'package-internals', 'painter', 'sideways', 'upward']);
	});
});

describe('reading specifiers', () => {
	it('finds static, re-exported, dynamic and type-position imports and tells which are erased', () => {
		const text = [
			'import a from \'./a.js\';',
			'import type {B} from \'./b.js\';',
			'import {type C, type D} from \'./c.js\';',
			'import {type E, f} from \'./e.js\';',
			'export {g} from \'./g.js\';',
			'export type {H} from \'./h.js\';',
			'import \'./side-effect.js\';',
			'const i = await import(\'./i.js\');',
			'let j: import(\'./j.js\').J;',
		].join('\n');
		expect(readSpecifiers('x.ts', text).map(({specifier, typeOnly}) => `${specifier}${typeOnly ? ' type' : ''}`)).toEqual([
			'./a.js',
			'./b.js type',
			'./c.js type',
			'./e.js',
			'./g.js',
			'./h.js type',
			'./side-effect.js',
			'./i.js',
			'./j.js type',
		]);
	});
});
