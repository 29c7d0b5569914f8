// deploy/compose.yaml against the Compose Specification's JSON schema, and the points it is for:
// three nodes on a bridge network joined through one seed, known by name (--advertise, and the allow
// file names them), the UI on demand as an observer, never host networking.
// No container runtime here: `docker compose up` itself is not run (see README, "Deploying").
import {execFileSync} from 'node:child_process';
import {describe, expect, it} from 'vitest';
import {CLI_PATH} from '../helpers/headless-process.js';
import {composeFile} from './manifests.js';
import {composeValidator} from './compose-schema.js';

const compose = composeFile();
const validate = composeValidator();
const nodes = ['node-1', 'node-2', 'node-3'];
const argument = (service: string, flag: string) => {
	const command: string[] = compose.services[service].command;
	return command.includes(flag) ? command[command.indexOf(flag) + 1] : undefined;
};

describe('deploy/compose.yaml', () => {
	it('is valid against the Compose schema, which refuses a broken file', () => {
		expect(validate(compose), JSON.stringify(validate.errors)).toBe(true);
		const broken = structuredClone(compose);
		broken.services['node-1'].command = 5;
		broken.services['node-1'].netwrk_mode = 'host';
		expect(validate(broken)).toBe(false);
		expect(validate.errors!.map((error) => error.instancePath)).toEqual(expect.arrayContaining(['/services/node-1', '/services/node-1/command']));
	});

	it('runs three nodes on a bridge network, never host networking', () => {
		expect(compose.networks.chorus.driver).toBe('bridge');
		for (const [name, service] of Object.entries<any>(compose.services)) {
			expect(service.network_mode, name).toBeUndefined();
			expect(service.networks, name).toBeDefined();
		}

		for (const name of nodes) {
			const service = compose.services[name];
			expect(service.build.context).toBe('..');
			// Bound to every address of the container, announced by its service name, which Compose's DNS resolves.
			expect(argument(name, '--bind')).toBe('tcp://0.0.0.0:5555');
			expect(argument(name, '--advertise')).toBe(name);
			expect(service.hostname).toBe(name);
			expect(service.networks).toEqual(['chorus']);
			expect(argument(name, '--id')).toBe(name);
			expect(service.command).toContain('--headless');
			expect(argument(name, '--metrics')).toBe('0.0.0.0:9464');
			// The image's HEALTHCHECK asks /healthz on that port: not disabled here.
			expect(service.healthcheck).toBeUndefined();
		}
	});

	it('joins nodes 2 and 3 through node-1 only, with CURVE keys made by the one-shot keys service', () => {
		const seed = `tcp://${argument('node-1', '--advertise')!}:5555`;
		expect(argument('node-1', '--join')).toBeUndefined();
		for (const name of ['node-2', 'node-3']) {
			expect(argument(name, '--join')).toBe(seed);
			expect(compose.services[name].command.filter((word: string) => word === '--join')).toHaveLength(1);
		}

		const script: string = compose.services.keys.command[0];
		for (const name of nodes) {
			expect(argument(name, '--curve-secret-key-file')).toBe(`/keys/${name}.key`);
			expect(argument(name, '--allow')).toBe('/keys/allow');
			expect(compose.services[name].depends_on.keys.condition).toBe('service_completed_successfully');
			expect(compose.services[name].volumes).toEqual(['keys:/keys:ro']);
		}

		// The allow file pins each node's key to the endpoint it advertises (`$$n` is the shell's `$n`, escaped
		// for Compose); the operator key has the operator role.
		expect(script).toMatch(/for n in 1 2 3; do/);
		expect(script).toContain('node-$$n tcp://node-$$n:5555');
		for (const name of nodes) {
			expect(`tcp://${argument(name, '--advertise')!}:5555`).toBe(`tcp://node-${name.at(-1)!}:5555`);
		}

		expect(script).toMatch(/operator\.key\.pub\)\s+\*\s+role=operator/);
	});

	it('gives every service only flags that the built CLI lists in --help', () => {
		const help = execFileSync(process.execPath, [CLI_PATH, '--help'], {encoding: 'utf8'});
		for (const [name, service] of Object.entries<{command?: unknown}>(compose.services)) {
			const flags = Array.isArray(service.command) ? service.command.filter((word): word is string => typeof word === 'string' && word.startsWith('--')) : [];
			for (const flag of flags) {
				expect(help, `${name}: ${flag}`).toContain(flag);
			}
		}
	});

	it('has a tui service for `docker compose run --rm tui`: the terminal UI watching as an observer, joined through the seed', () => {
		const tui = compose.services.tui;
		expect(tui.profiles).toEqual(['tui']);
		expect(tui.stdin_open && tui.tty).toBe(true);
		expect(tui.command).not.toContain('--headless');
		// An observer publishes nothing: it is in no node's coupling sum.
		expect(tui.command).toContain('--observe');
		expect(argument('tui', '--join')).toBe(`tcp://${argument('node-1', '--advertise')!}:5555`);
		expect(argument('tui', '--curve-secret-key-file')).toBe('/keys/operator.key');
	});
});
