// The import graph of a TypeScript tree: every import, export-from and dynamic import, resolved
// to files. The architecture test checks its cycles and layers; nothing here knows the layers.
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import of one file, as written and as resolved. */
export type ImportEdge = {
	/** The importing file, relative to the root, with forward slashes. */
	from: string;
	/** The specifier as written: './peer-rows.js', 'node:net', '@chorus-tui/zmtp'. */
	specifier: string;
	/** The imported file relative to the root, or undefined for an npm package or a built-in. */
	to: string | undefined;
	/** `import type`, `export type`, or an `import('...')` in a type position: gone at run time. */
	typeOnly: boolean;
	line: number;
};

export type ImportGraph = {
	files: string[];
	edges: ImportEdge[];
};

const sourceExtensions = ['.ts', '.tsx'];

/** The .ts/.tsx files under the given folders (relative to root), declaration files left out. */
export function listSourceFiles(root: string, folders: readonly string[]): string[] {
	const files: string[] = [];
	const walk = (relative: string): void => {
		const absolute = path.join(root, relative);
		if (!existsSync(absolute)) {
			return;
		}

		if (statSync(absolute).isFile()) {
			files.push(relative);
			return;
		}

		for (const entry of readdirSync(absolute, {withFileTypes: true})) {
			const child = `${relative}/${entry.name}`;
			if (entry.isDirectory()) {
				if (entry.name !== 'node_modules' && entry.name !== 'dist') {
					walk(child);
				}
			} else if (sourceExtensions.some((extension) => entry.name.endsWith(extension)) && !entry.name.endsWith('.d.ts')) {
				files.push(child);
			}
		}
	};

	for (const folder of folders) {
		walk(folder.replace(/\/$/, ''));
	}

	return files.sort();
}

type Specifier = {specifier: string; typeOnly: boolean; line: number};

/** Every module specifier a file names: static imports, export-from, import(), import types. */
export function readSpecifiers(fileName: string, text: string): Specifier[] {
	const sourceFile = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
	const found: Specifier[] = [];
	const add = (literal: ts.Node, typeOnly: boolean): void => {
		if (ts.isStringLiteralLike(literal)) {
			const {line} = sourceFile.getLineAndCharacterOfPosition(literal.getStart(sourceFile));
			found.push({specifier: literal.text, typeOnly, line: line + 1});
		}
	};

	const visit = (node: ts.Node): void => {
		if (ts.isImportDeclaration(node)) {
			add(node.moduleSpecifier, isTypeOnlyImport(node));
		} else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
			add(node.moduleSpecifier, isTypeOnlyExport(node));
		} else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
			add(node.moduleReference.expression, node.isTypeOnly);
		} else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
			add(node.arguments[0], false);
		} else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
			add(node.argument.literal, true);
		}

		ts.forEachChild(node, visit);
	};

	visit(sourceFile);
	return found;
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
	const clause = node.importClause;
	if (!clause) {
		// `import './side-effect.js'` runs the module.
		return false;
	}

	if (clause.phaseModifier === ts.SyntaxKind.TypeKeyword) {
		return true;
	}

	// `import {type A, type B} from` is erased too; a default import or a namespace is not.
	const bindings = clause.namedBindings;
	return !clause.name && bindings !== undefined && ts.isNamedImports(bindings)
		&& bindings.elements.length > 0 && bindings.elements.every((element) => element.isTypeOnly);
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
	if (node.isTypeOnly) {
		return true;
	}

	const clause = node.exportClause;
	return clause !== undefined && ts.isNamedExports(clause)
		&& clause.elements.length > 0 && clause.elements.every((element) => element.isTypeOnly);
}

/** Workspace packages by name: '@chorus-tui/zmtp' → its folder and its exports map. */
type WorkspacePackage = {folder: string; exports: Record<string, string>};

/** The packages under packages/, read from their package.json files. */
export function readWorkspacePackages(root: string): Map<string, WorkspacePackage> {
	const packages = new Map<string, WorkspacePackage>();
	const packagesDirectory = path.join(root, 'packages');
	if (!existsSync(packagesDirectory)) {
		return packages;
	}

	for (const entry of readdirSync(packagesDirectory, {withFileTypes: true})) {
		const manifestPath = path.join(packagesDirectory, entry.name, 'package.json');
		if (!entry.isDirectory() || !existsSync(manifestPath)) {
			continue;
		}

		const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {name?: string; exports?: unknown; main?: string};
		if (!manifest.name) {
			continue;
		}

		packages.set(manifest.name, {folder: `packages/${entry.name}`, exports: flattenExports(manifest.exports, manifest.main)});
	}

	return packages;
}

/** `{'.': {types, default}}` → `{'.': './dist/index.js'}`: the file each subpath loads. */
function flattenExports(exports: unknown, main: string | undefined): Record<string, string> {
	const flat: Record<string, string> = {};
	if (typeof exports === 'string') {
		flat['.'] = exports;
	} else if (exports && typeof exports === 'object') {
		for (const [subpath, target] of Object.entries(exports as Record<string, unknown>)) {
			if (typeof target === 'string') {
				flat[subpath] = target;
			} else if (target && typeof target === 'object') {
				const conditions = target as Record<string, unknown>;
				const chosen = conditions['default'] ?? conditions['import'] ?? conditions['types'];
				if (typeof chosen === 'string') {
					flat[subpath] = chosen;
				}
			}
		}
	}

	if (!flat['.'] && main) {
		flat['.'] = main;
	}

	return flat;
}

/** A relative or workspace specifier → the source file it means, relative to root. */
function resolve(root: string, from: string, specifier: string, packages: Map<string, WorkspacePackage>): string | undefined {
	if (specifier.startsWith('.')) {
		return findSourceFile(root, path.posix.join(path.posix.dirname(from), specifier));
	}

	for (const [name, workspacePackage] of packages) {
		if (specifier !== name && !specifier.startsWith(`${name}/`)) {
			continue;
		}

		const subpath = `.${specifier.slice(name.length)}`;
		const target = workspacePackage.exports[subpath] ?? subpath;
		// The package is built to dist/ from src/: read the source the build comes from.
		const sourceTarget = target.replace(/^\.\/dist\//, './src/');
		return findSourceFile(root, path.posix.join(workspacePackage.folder, sourceTarget))
			?? `${workspacePackage.folder}/${subpath.slice(2) || 'index'} (unresolved)`;
	}

	return undefined;
}

/** './x.js' may be x.ts or x.tsx, './dir' may be dir/index.ts (NodeNext's mapping, read back). */
function findSourceFile(root: string, relative: string): string | undefined {
	const withoutJs = relative.replace(/\.(c|m)?jsx?$/, '');
	const candidates = [
		relative,
		...sourceExtensions.map((extension) => withoutJs + extension),
		...sourceExtensions.map((extension) => `${withoutJs}/index${extension}`),
	];
	for (const candidate of candidates) {
		const absolute = path.join(root, candidate);
		if (existsSync(absolute) && statSync(absolute).isFile()) {
			return path.posix.normalize(candidate);
		}
	}

	// A broken import is the compiler's business; keep the edge so a layer rule still sees it.
	return `${path.posix.normalize(withoutJs)} (unresolved)`;
}

/** The graph of the given folders under root. */
export function readImportGraph(root: string, folders: readonly string[]): ImportGraph {
	const files = listSourceFiles(root, folders);
	const packages = readWorkspacePackages(root);
	const edges: ImportEdge[] = [];
	for (const file of files) {
		const text = readFileSync(path.join(root, file), 'utf8');
		for (const {specifier, typeOnly, line} of readSpecifiers(file, text)) {
			edges.push({from: file, specifier, to: resolve(root, file, specifier, packages), typeOnly, line});
		}
	}

	return {files, edges};
}

/**
 * The import cycles of a graph: one loop per strongly connected component, shown as the files it
 * passes through (the first file repeated at the end).
 */
export function findCycles(graph: ImportGraph): string[][] {
	const next = new Map<string, string[]>();
	for (const edge of graph.edges) {
		if (edge.to !== undefined) {
			const targets = next.get(edge.from) ?? [];
			if (!targets.includes(edge.to)) {
				targets.push(edge.to);
			}

			next.set(edge.from, targets);
		}
	}

	// Tarjan's strongly connected components.
	let counter = 0;
	const index = new Map<string, number>();
	const low = new Map<string, number>();
	const stack: string[] = [];
	const onStack = new Set<string>();
	const components: string[][] = [];
	const connect = (file: string): void => {
		index.set(file, counter);
		low.set(file, counter);
		counter++;
		stack.push(file);
		onStack.add(file);
		for (const target of next.get(file) ?? []) {
			if (!index.has(target)) {
				connect(target);
				low.set(file, Math.min(low.get(file)!, low.get(target)!));
			} else if (onStack.has(target)) {
				low.set(file, Math.min(low.get(file)!, index.get(target)!));
			}
		}

		if (low.get(file) === index.get(file)) {
			const component: string[] = [];
			let member: string | undefined;
			do {
				member = stack.pop()!;
				onStack.delete(member);
				component.push(member);
			} while (member !== file);

			const selfLoop = next.get(file)?.includes(file) ?? false;
			if (component.length > 1 || selfLoop) {
				components.push(component);
			}
		}
	};

	for (const file of [...next.keys()].sort()) {
		if (!index.has(file)) {
			connect(file);
		}
	}

	return components.map((component) => loopThrough(component, next));
}

/** A shortest loop from the component's first file (in sort order) back to itself. */
function loopThrough(component: string[], next: Map<string, string[]>): string[] {
	const members = new Set(component);
	const start = [...component].sort()[0]!;
	const previous = new Map<string, string>();
	const queue = [start];
	while (queue.length > 0) {
		const file = queue.shift()!;
		for (const target of next.get(file) ?? []) {
			if (!members.has(target)) {
				continue;
			}

			if (target === start) {
				const loop = [start];
				for (let step: string | undefined = file; step !== undefined && step !== start; step = previous.get(step)) {
					loop.splice(1, 0, step);
				}

				return [...loop, start];
			}

			if (!previous.has(target)) {
				previous.set(target, file);
				queue.push(target);
			}
		}
	}

	return [...component, start];
}
