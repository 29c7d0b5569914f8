// deploy/compose.yaml against the Compose Specification's JSON schema, and the points it is for:
// three nodes on a bridge network joined through one seed, the UI on demand, never host networking.
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
			const address = service.networks.chorus.ipv4_address;
			expect(argument(name, '--bind')).toBe(`tcp://${address}:5555`);
			expect(argument(name, '--id')).toBe(name);
			expect(service.command).toContain('--headless');
			expect(argument(name, '--metrics')).toBe('0.0.0.0:9464');
			// The image's HEALTHCHECK asks /healthz on that port: not disabled here.
			expect(service.healthcheck).toBeUndefined();
		}
	});

	it('joins nodes 2 and 3 through node-1 only, with CURVE keys made by the one-shot keys service', () => {
		const seed = argument('node-1', '--bind');
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

		// The allow file pins each node's key to the endpoint it binds; the operator key has the operator role.
		expect(script).toContain('tcp://172.28.5.1$$n:5555');
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

	it('has a tui service for `docker compose run --rm tui`: the terminal UI joined through the seed', () => {
		const tui = compose.services.tui;
		expect(tui.profiles).toEqual(['tui']);
		expect(tui.stdin_open && tui.tty).toBe(true);
		expect(tui.command).not.toContain('--headless');
		expect(argument('tui', '--join')).toBe(argument('node-1', '--bind'));
		expect(argument('tui', '--curve-secret-key-file')).toBe('/keys/operator.key');
	});
});
