/**
The deployment files as data: every Kubernetes manifest under deploy/kubernetes (each YAML document
with its kind), the compose file, and the Dockerfile's instructions, parsed by real parsers (yaml,
dockerfile-ast through dockerfile-utils), so the tests check what a cluster or Docker would read.
*/

import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {DockerfileParser} from 'dockerfile-ast';
import {parseAllDocuments, parse as parseYaml} from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const KUBERNETES_DIRECTORY = path.join(ROOT, 'deploy/kubernetes');
export const COMPOSE_FILE = path.join(ROOT, 'deploy/compose.yaml');
export const DOCKERFILE = path.join(ROOT, 'Dockerfile');

export type Manifest = {file: string; kind: string; apiVersion: string; name: string; body: any};

export function kubernetesManifests(): Manifest[] {
	const manifests: Manifest[] = [];
	for (const file of readdirSync(KUBERNETES_DIRECTORY).filter((name) => /\.ya?ml$/.test(name)).sort()) {
		for (const document of parseAllDocuments(readFileSync(path.join(KUBERNETES_DIRECTORY, file), 'utf8'))) {
			if (document.errors.length > 0) {
				throw new Error(`${file}: ${document.errors.map((error) => error.message).join('; ')}`);
			}

			const body: any = document.toJS();
			if (body !== null) {
				manifests.push({file, kind: body.kind, apiVersion: body.apiVersion, name: body.metadata?.name, body});
			}
		}
	}

	return manifests;
}

export function manifestOfKind(kind: string): Manifest {
	const found = kubernetesManifests().filter((manifest) => manifest.kind === kind);
	if (found.length !== 1) {
		throw new Error(`expected one ${kind}, found ${found.length}`);
	}

	return found[0]!;
}

/** Compose files use YAML merge keys (`<<: *node`), which Compose resolves. */
export function composeFile(): any {
	return parseYaml(readFileSync(COMPOSE_FILE, 'utf8'), {merge: true});
}

export type Instruction = {keyword: string; args: string; json: string[] | undefined; flags: Record<string, string>};

/** Each stage's instructions in order, with JSON-form arguments decoded. */
export function dockerfileStages(): Array<{from: string; name: string | undefined; instructions: Instruction[]}> {
	const dockerfile = DockerfileParser.parse(readFileSync(DOCKERFILE, 'utf8'));
	const stages: Array<{from: string; name: string | undefined; instructions: Instruction[]}> = [];
	for (const instruction of dockerfile.getInstructions()) {
		const keyword = instruction.getKeyword();
		const args = instruction.getRawArgumentsContent() ?? '';
		const flags: Record<string, string> = {};
		for (const flag of (instruction as any).getFlags?.() ?? []) {
			flags[flag.getName()] = flag.getValue() ?? '';
		}

		let json: string[] | undefined;
		const jsonText = args.replace(/^(--\S+\s+)+/, '').replace(/^CMD\s+/, '');
		if (jsonText.trim().startsWith('[')) {
			json = JSON.parse(jsonText) as string[];
		}

		if (keyword === 'FROM') {
			const parts = args.split(/\s+/);
			stages.push({from: parts[0]!, name: parts[2], instructions: []});
		}

		stages.at(-1)?.instructions.push({keyword, args, json, flags});
	}

	return stages;
}

/** The runtime stage: the last one. */
export function runtimeStage(): {from: string; instructions: Instruction[]} {
	return dockerfileStages().at(-1)!;
}

export function lastInstruction(keyword: string): Instruction | undefined {
	return runtimeStage().instructions.findLast((instruction) => instruction.keyword === keyword);
}
