// The project's layers and the rules its imports keep, checked over the import graph: no cycle,
// nothing imports upward, the pure model and the painter stay self-contained, the UI goes
// through the session.
import {existsSync, readdirSync} from 'node:fs';
import path from 'node:path';
import {findCycles, readImportGraph, type ImportEdge, type ImportGraph} from './import-graph.js';

/**
 * The layers, top to bottom. A file belongs to the layer whose folder (or file) is the longest
 * prefix of its path; it may import its own layer and the layers below, never one above.
 *
 * DESIGN.md's middle band (session, scenario, report, ui) is split in three, as the code reads:
 * the UI, the NDJSON reporter and the scenario player sit on the session (they read its
 * MeshController and SessionSnapshot); the session is built from the validated config; the config
 * validates scenario files against their format. So config.ts lives at the root beside cli.tsx but
 * is a floor below the session, and scenario/file.ts a floor below the config.
 */
export const layers: ReadonlyArray<{name: string; paths: readonly string[]; siblings?: readonly string[]}> = [
	{name: 'entry', paths: ['source/cli.tsx', 'source/flags.ts', 'source/index.ts', 'source/run/']},
	// Three faces of a session that know nothing of one another.
	{name: 'views', paths: ['source/ui/', 'source/report/', 'source/scenario/'], siblings: ['source/ui/', 'source/report/', 'source/scenario/']},
	{name: 'session', paths: ['source/session/']},
	{name: 'config', paths: ['source/config.ts']},
	{name: 'scenario file', paths: ['source/scenario/file.ts']},
	// The control plane and the demo peers: separate services over the mesh.
	{name: 'processes', paths: ['source/cluster/', 'source/swarm/'], siblings: ['source/cluster/', 'source/swarm/']},
	{name: 'mesh', paths: ['source/mesh/']},
	{name: 'mesh/security', paths: ['source/mesh/security/']},
	{name: 'mesh/net', paths: ['source/mesh/net/']},
	{name: 'mesh/model', paths: ['source/mesh/model/']},
	{name: 'packages', paths: ['packages/']},
];

/** The folders the check reads: source/ and each package's src/. Tests may import anything. */
export function checkedFolders(root: string): string[] {
	const packagesDirectory = path.join(root, 'packages');
	const packages = existsSync(packagesDirectory) ? readdirSync(packagesDirectory).sort() : [];
	return ['source', ...packages.map((name) => `packages/${name}/src`)];
}

export type Violation = {rule: string; message: string};

function longestMatch<T extends {paths: readonly string[]}>(file: string, groups: readonly T[]): T | undefined {
	let best: T | undefined;
	let bestLength = -1;
	for (const group of groups) {
		for (const prefix of group.paths) {
			const matches = prefix.endsWith('/') ? file.startsWith(prefix) : file === prefix;
			if (matches && prefix.length > bestLength) {
				best = group;
				bestLength = prefix.length;
			}
		}
	}

	return best;
}

/** The index of a file's layer (0 is the top), or undefined outside every layer. */
export function layerIndexOf(file: string): number | undefined {
	const layer = longestMatch(file, layers);
	return layer === undefined ? undefined : layers.indexOf(layer);
}

function describeEdge(edge: ImportEdge): string {
	const type = edge.typeOnly ? ' (type-only)' : '';
	return `${edge.from}:${edge.line} imports '${edge.specifier}'${type}`;
}

function isUnder(file: string, folder: string): boolean {
	return file.startsWith(folder);
}

/** Upward imports (to a higher layer) and sideways ones (between siblings of one layer). */
function checkLayerOrder(edge: ImportEdge, target: string): Violation | undefined {
	const fromIndex = layerIndexOf(edge.from);
	const toIndex = layerIndexOf(target);
	if (fromIndex === undefined || toIndex === undefined) {
		return undefined;
	}

	if (toIndex < fromIndex) {
		return {
			rule: 'upward',
			message: `${describeEdge(edge)}: layer '${layers[fromIndex]!.name}' imports the higher layer '${layers[toIndex]!.name}' (${target})`,
		};
	}

	const siblings = layers[fromIndex]!.siblings;
	if (toIndex === fromIndex && siblings) {
		const fromSibling = siblings.find((folder) => isUnder(edge.from, folder));
		const toSibling = siblings.find((folder) => isUnder(target, folder));
		if (fromSibling && toSibling && fromSibling !== toSibling) {
			return {
				rule: 'sideways',
				message: `${describeEdge(edge)}: ${fromSibling} imports its sibling ${toSibling} (${target}); they share only what lies below them`,
			};
		}
	}

	return undefined;
}

/** The folder-specific rules: what the library entry, the pure model and the painter may import. */
function checkContainment(edge: ImportEdge): Violation | undefined {
	const {from, to, specifier} = edge;
	if (from === 'source/index.ts' && to !== undefined && !isUnder(to, 'source/mesh/')) {
		return {rule: 'library', message: `${describeEdge(edge)}: the library API (source/index.ts) exports only the mesh`};
	}

	if (isUnder(from, 'source/mesh/model/')) {
		if (to !== undefined && !isUnder(to, 'source/mesh/model/')) {
			return {rule: 'pure-model', message: `${describeEdge(edge)}: mesh/model imports nothing outside mesh/model`};
		}

		if (to === undefined && !edge.typeOnly) {
			return {rule: 'pure-model', message: `${describeEdge(edge)}: mesh/model is pure (no I/O, no packages); only type imports of built-ins`};
		}
	}

	// The session's MeshController is the UI's one door: at run time the UI takes from below it
	// only the pure model (constants, wrapPhase); the node, the links and the processes it reaches
	// through the session. Types it may read anywhere.
	const belowTheDoor = to !== undefined && (isUnder(to, 'source/swarm/') || isUnder(to, 'source/cluster/') || (isUnder(to, 'source/mesh/') && !isUnder(to, 'source/mesh/model/')));
	if (isUnder(from, 'source/ui/') && !edge.typeOnly && belowTheDoor) {
		return {rule: 'one-door', message: `${describeEdge(edge)}: the UI reaches the node and the processes through the session's MeshController`};
	}

	if (isUnder(from, 'source/ui/terminal/') && to !== undefined && !isUnder(to, 'source/ui/terminal/')) {
		return {rule: 'painter', message: `${describeEdge(edge)}: the painter (ui/terminal) imports nothing from the rest of the project`};
	}

	if (to !== undefined && isUnder(to, 'packages/') && specifier.startsWith('.')) {
		const ownPackage = /^packages\/[^/]+\//.exec(from)?.[0];
		if (ownPackage === undefined || !isUnder(to, ownPackage)) {
			return {rule: 'package-internals', message: `${describeEdge(edge)}: a package is imported by its name, not by a path into it`};
		}
	}

	if (to?.endsWith('(unresolved)')) {
		return {rule: 'unresolved', message: `${describeEdge(edge)}: no such file (${to})`};
	}

	return undefined;
}

/** Every violation in a graph: cycles first, then each edge's layer and containment rules. */
export function findViolations(graph: ImportGraph): Violation[] {
	const typeOnlyLinks = new Set<string>();
	const valueLinks = new Set<string>();
	for (const edge of graph.edges) {
		(edge.typeOnly ? typeOnlyLinks : valueLinks).add(`${edge.from} ${edge.to}`);
	}

	// A link made of type imports alone is marked: it is erased at run time but still a knot.
	const arrow = (from: string, to: string): string => (typeOnlyLinks.has(`${from} ${to}`) && !valueLinks.has(`${from} ${to}`) ? ' →(type) ' : ' → ');
	const violations: Violation[] = findCycles(graph).map((loop) => ({
		rule: 'cycle',
		message: `import cycle: ${loop.map((file, index) => (index === 0 ? file : arrow(loop[index - 1]!, file) + file)).join('')}`,
	}));
	for (const edge of graph.edges) {
		const containment = checkContainment(edge);
		if (containment) {
			violations.push(containment);
		}

		const order = edge.to === undefined ? undefined : checkLayerOrder(edge, edge.to);
		if (order) {
			violations.push(order);
		}
	}

	return violations;
}

/** Reads the tree under root and checks it. */
export function checkArchitecture(root: string): {graph: ImportGraph; violations: Violation[]} {
	const graph = readImportGraph(root, checkedFolders(root));
	return {graph, violations: findViolations(graph)};
}

/** The violations as a list a reader can act on, one per line. */
export function formatViolations(violations: readonly Violation[]): string {
	return violations.map(({rule, message}) => `  [${rule}] ${message}`).join('\n');
}
