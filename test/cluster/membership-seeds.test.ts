/**
`--join` values and DNS seeds: what the command line accepts (one line and exit code 2 otherwise),
and how a name's A and AAAA records become seeds. The resolver here is a stub with the node:dns
interface; the real one is asked in test/network/membership-mesh.test.ts, against dnsmasq.
*/

import {describe, expect, test} from 'vitest';
import {usableControl} from '../../source/cluster/membership/endpoints.js';
import {allowedSeeds, MAX_DNS_SEEDS, parseJoinTarget, resolveSeeds, type SeedResolver} from '../../source/cluster/membership/seeds.js';
import {ConfigError, DEFAULTS, resolveConfig} from '../../source/config.js';

describe('--join', () => {
	test.each([
		['tcp://10.1.2.3:5555', {kind: 'endpoint', endpoint: 'tcp://10.1.2.3:5555'}],
		['5555', {kind: 'endpoint', endpoint: 'tcp://127.0.0.1:5555'}],
		['tcp://[fd00::7]:5555', {kind: 'endpoint', endpoint: 'tcp://[fd00::7]:5555'}],
		['dns:chorus.default.svc.cluster.local:5555', {kind: 'dns', name: 'chorus.default.svc.cluster.local', port: 5555}],
	])('%s', (text, target) => {
		expect(parseJoinTarget(text)).toEqual(target);
	});

	test.each([
		['tcp://0.0.0.0:5555', /not one host/],
		['tcp://224.0.0.1:5555', /not one host/],
		['tcp://*:5555', /not an endpoint/],
		['dns:name', /not dns:NAME:PORT/],
		['dns:name:99999', /out of range/],
		['udp://1.2.3.4:5', /not an endpoint/],
	])('%s is refused', (text, message) => {
		expect(() => parseJoinTarget(text)).toThrow(message);
	});

	test('the config takes --join repeated or comma-separated, with the gossip and reconnect defaults; a bad one is a ConfigError naming --join', () => {
		const config = resolveConfig({join: ['tcp://10.0.0.1:5555,dns:mesh.local:5555', '5556'], demo: '0'});
		expect(config.joins).toEqual(['tcp://10.0.0.1:5555', 'dns:mesh.local:5555', 'tcp://127.0.0.1:5556']);
		expect(config.gossipIntervalMs).toBe(DEFAULTS.gossipIntervalS * 1000);
		expect(config.reconnectTimeoutMs).toBe(600_000);
		// Joining a mesh starts no demo peers unless asked.
		expect(resolveConfig({join: ['5556']}).demoPeers).toBe(0);
		expect(() => resolveConfig({join: ['tcp://255.255.255.255:1']})).toThrow(ConfigError);
		expect(() => resolveConfig({join: ['x']})).toThrow(/^--join: /);
		expect(() => resolveConfig({gossipInterval: '0'})).toThrow(/^--gossip-interval: /);
		expect(() => resolveConfig({reconnectTimeout: '-1'})).toThrow(/^--reconnect-timeout: /);
	});
});

describe('DNS seeds', () => {
	const stub = (v4: string[] | Error, v6: string[] | Error): SeedResolver => ({
		resolve4: async () => (v4 instanceof Error ? Promise.reject(v4) : v4),
		resolve6: async () => (v6 instanceof Error ? Promise.reject(v6) : v6),
	});
	const notFound = Object.assign(new Error('queryA ENOTFOUND'), {code: 'ENOTFOUND'});
	const noData = Object.assign(new Error('queryAaaa ENODATA'), {code: 'ENODATA'});

	test('every A and AAAA record is a seed on the port; one family missing is fine', async () => {
		expect(await resolveSeeds(stub(['10.0.0.1', '10.0.0.2'], ['fd00::1']), 'mesh', 5555)).toEqual(['tcp://10.0.0.1:5555', 'tcp://10.0.0.2:5555', 'tcp://[fd00::1]:5555']);
		expect(await resolveSeeds(stub(['10.0.0.1'], noData), 'mesh', 5555)).toEqual(['tcp://10.0.0.1:5555']);
	});

	test('a name with no record at all is an error that says why (the caller retries)', async () => {
		await expect(resolveSeeds(stub(notFound, noData), 'mesh', 5555)).rejects.toThrow('dns:mesh:5555: ENOTFOUND, ENODATA');
	});

	test('hostile answers are bounded: multicast and unspecified addresses dropped, at most MAX_DNS_SEEDS', async () => {
		const many = Array.from({length: 1000}, (_, index) => `10.1.${index >> 8}.${index & 255}`);
		const seeds = await resolveSeeds(stub(['224.0.0.1', '0.0.0.0', ...many], ['ff02::1']), 'mesh', 5555);
		expect(seeds).toHaveLength(MAX_DNS_SEEDS);
		expect(seeds.some((seed) => seed.includes('224.') || seed.includes('0.0.0.0') || seed.includes('ff02'))).toBe(false);
	});
});

describe('DNS seeds with CURVE (an allow file that names pods by name)', () => {
	const names: Record<string, string[]> = {
		'10.0.0.1': ['chorus-0.chorus.ns.svc.cluster.local.'],
		'10.0.0.2': ['Chorus-1.chorus.ns.svc.cluster.local'],
		'10.0.0.3': ['someone-else.example'],
		'fd00::4': ['chorus-2.chorus.ns.svc.cluster.local'],
	};
	const resolver: SeedResolver = {
		resolve4: async () => [],
		resolve6: async () => [],
		async reverse(address) {
			if (address === '10.0.0.5') {
				throw Object.assign(new Error('getHostByAddr ENOTFOUND'), {code: 'ENOTFOUND'});
			}

			return names[address] ?? [];
		},
	};
	const listed = new Set(['tcp://chorus-0.chorus.ns.svc.cluster.local:5555', 'tcp://chorus-1.chorus.ns.svc.cluster.local:5555', 'tcp://chorus-2.chorus.ns.svc.cluster.local:5555', 'tcp://10.0.0.9:5555']);
	const allowed = (endpoint: string) => listed.has(endpoint);

	test('an address the allow file lists stays; one it does not is replaced by its PTR name when that is listed, else dropped', async () => {
		const endpoints = ['tcp://10.0.0.1:5555', 'tcp://10.0.0.2:5555', 'tcp://10.0.0.3:5555', 'tcp://[fd00::4]:5555', 'tcp://10.0.0.5:5555', 'tcp://10.0.0.9:5555'];
		expect(await allowedSeeds(resolver, endpoints, allowed)).toEqual([
			'tcp://chorus-0.chorus.ns.svc.cluster.local:5555',
			'tcp://chorus-1.chorus.ns.svc.cluster.local:5555',
			'tcp://chorus-2.chorus.ns.svc.cluster.local:5555',
			'tcp://10.0.0.9:5555',
		]);
	});

	test('a resolver that cannot look up addresses gives the listed ones only', async () => {
		const {reverse: _, ...forwardOnly} = resolver;
		expect(await allowedSeeds(forwardOnly, ['tcp://10.0.0.1:5555', 'tcp://10.0.0.9:5555'], allowed)).toEqual(['tcp://10.0.0.9:5555']);
	});
});

describe('control endpoints from the network', () => {
	test('a loopback control endpoint announced by a member on another host is not ours to dial', () => {
		expect(usableControl('tcp://127.0.0.1:5556', 'tcp://10.0.0.5:5555')).toBeUndefined();
		expect(usableControl('tcp://127.0.0.1:5556', 'tcp://127.0.0.1:5555')).toBe('tcp://127.0.0.1:5556');
		expect(usableControl('tcp://10.0.0.5:5556', 'tcp://10.0.0.5:5555')).toBe('tcp://10.0.0.5:5556');
		expect(usableControl('tcp://239.1.1.1:5556', 'tcp://10.0.0.5:5555')).toBeUndefined();
		expect(usableControl(undefined, 'tcp://10.0.0.5:5555')).toBeUndefined();
	});
});
