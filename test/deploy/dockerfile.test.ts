// The Dockerfile, linted by dockerfile-utils (the Docker language server's validator: instructions,
// flags, JSON forms) and read with dockerfile-ast for the points the image promises. hadolint is not
// installable here (no Debian package; the npm `hadolint` only wraps a binary it downloads), and
// no image is built: there is no container runtime (see README, "Deploying").
import {readFileSync} from 'node:fs';
import path from 'node:path';
import {validate} from 'dockerfile-utils';
import {describe, expect, it} from 'vitest';
import {DOCKERFILE, dockerfileStages, lastInstruction, ROOT, runtimeStage} from './manifests.js';

const text = readFileSync(DOCKERFILE, 'utf8');

describe('Dockerfile', () => {
	it('lints clean, and the linter does find faults', () => {
		expect(validate(text)).toEqual([]);
		const broken = 'FROM node:20-bookworm-slim\nHEALTHCHECK --intervl=10s CMD true\nUSR 10001\nHEALTHCHECK --interval=10 CMD true\n';
		expect(validate(broken).map((diagnostic) => diagnostic.message)).toEqual(expect.arrayContaining([
			'Unknown flag: intervl',
			'Unknown instruction: USR',
			'time: missing unit in duration 10',
		]));
	});

	it('builds in one stage (npm ci, the app and the workspace package) and runs in a slim one', () => {
		const stages = dockerfileStages();
		expect(stages.map((stage) => stage.name)).toEqual(['build', 'deps', 'runtime']);
		expect(text).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
		const runs = (name: string) => stages.find((stage) => stage.name === name)!.instructions.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.args);
		expect(runs('build')).toEqual(['npm ci --ignore-scripts --no-audit --no-fund', 'npm run build']);
		// `npm run build` builds packages/zmtp first (package.json's build script).
		expect((JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {scripts: {build: string}}).scripts.build).toMatch(/^npm run build -w @chorus-tui\/zmtp && /);
		expect(runs('deps')[0]).toMatch(/^npm ci --omit=dev /);
	});

	it('copies into the runtime only dist, the workspace package\'s dist and production dependencies', () => {
		const copies = runtimeStage().instructions.filter((instruction) => instruction.keyword === 'COPY' || instruction.keyword === 'ADD');
		expect(copies.every((copy) => copy.keyword === 'COPY')).toBe(true);
		expect(copies.map((copy) => [copy.flags['from'] ?? 'context', copy.args])).toEqual([
			['deps', '/app/node_modules node_modules'],
			['build', '/src/packages/zmtp/dist packages/zmtp/dist'],
			['context', 'packages/zmtp/package.json packages/zmtp/'],
			['build', '/src/dist dist'],
			['context', 'package.json ./'],
		]);
		expect(runtimeStage().instructions.some((instruction) => instruction.keyword === 'RUN' && /npm|tsc/.test(instruction.args))).toBe(false);
	});

	it('runs as a non-root user, by number, headless by default, with a HEALTHCHECK on /healthz', () => {
		const user = lastInstruction('USER')!.args;
		expect(user).toMatch(/^[1-9]\d{3,}:[1-9]\d{3,}$/);
		// The user is switched to after every file is in place, and nothing runs as root after it.
		const instructions = runtimeStage().instructions.map((instruction) => instruction.keyword);
		expect(instructions.lastIndexOf('COPY')).toBeLessThan(instructions.indexOf('USER'));
		expect(instructions.slice(instructions.indexOf('USER')).includes('RUN')).toBe(false);

		const entrypoint = lastInstruction('ENTRYPOINT')!.json!;
		const command = lastInstruction('CMD')!.json!;
		expect(entrypoint).toEqual(['node', '/app/dist/cli.js']);
		expect(command).toContain('--headless');
		expect(command[command.indexOf('--demo') + 1]).toBe('0');
		const metricsPort = command[command.indexOf('--metrics') + 1]!.split(':').at(-1);
		const healthcheck = lastInstruction('HEALTHCHECK')!;
		expect(healthcheck.json![0]).toBe('node');
		expect(healthcheck.json!.join(' ')).toContain(`fetch('http://127.0.0.1:${metricsPort}/healthz')`);
		expect(Object.keys(healthcheck.flags).sort()).toEqual(['interval', 'retries', 'start-period', 'timeout']);
		expect(lastInstruction('EXPOSE')!.args.split(/\s+/)).toEqual(['5555', metricsPort]);
	});

	it('bakes in no secret: no key file copied, no secret-looking variable, and the build context leaves keys out', () => {
		for (const stage of dockerfileStages()) {
			for (const instruction of stage.instructions) {
				if (instruction.keyword === 'ENV' || instruction.keyword === 'ARG') {
					expect(instruction.args).not.toMatch(/secret|password|token|key/i);
				}

				if (instruction.keyword === 'COPY') {
					expect(instruction.args).not.toMatch(/\.key\b|keys?\/|allow/);
				}
			}
		}

		const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
		// Everything out, then only the build's inputs back in, then key files out again.
		expect(ignore[0]).toBe('**');
		expect(ignore.filter((line) => line.startsWith('!')).sort()).toEqual([
			'!package-lock.json', '!package.json', '!packages/zmtp/package.json', '!packages/zmtp/src/**', '!packages/zmtp/tsconfig.build.json', '!packages/zmtp/tsconfig.json', '!source/**', '!tsconfig.build.json', '!tsconfig.json',
		]);
		expect(ignore.at(-4)).toBe('**/*.key');
	});
});
