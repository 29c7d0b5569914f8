// deploy/kubernetes: every manifest against the Kubernetes schemas (kubernetes-models, Kubernetes
// 1.27's OpenAPI), unknown fields refused as `kubectl --validate=strict` would (TypeScript's excess
// property check against the same models' types), and the points the deployment relies on. No
// cluster runs here: what a cluster does with them (scheduling, DNS, probes) is not exercised.
import {execFile} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {promisify} from 'node:util';
import {describe, expect, it} from 'vitest';
import {kubernetesManifests, manifestOfKind, ROOT, type Manifest} from './manifests.js';

const run = promisify(execFile);

/** `apps/v1` → `kubernetes-models/apps/v1`, `v1` → `kubernetes-models/v1`. */
function modelPath(apiVersion: string, kind: string): string {
	return `kubernetes-models/${apiVersion}/${kind}`;
}

async function schemaErrors(manifest: Pick<Manifest, 'apiVersion' | 'kind' | 'body'>): Promise<string | undefined> {
	const module = await import(modelPath(manifest.apiVersion, manifest.kind)) as Record<string, new (body: unknown) => {validate(): void}>;
	const Model = module[manifest.kind];
	if (Model === undefined) {
		return `no model for ${manifest.apiVersion} ${manifest.kind}`;
	}

	try {
		new Model(manifest.body).validate();
		return undefined;
	} catch (error) {
		return (error as Error).message;
	}
}

/**
Type-check the manifests as object literals of the models' interfaces: an unknown field (a typo such
as `livenesProbe`) is an excess property, which TypeScript refuses. Returns tsc's output.
*/
async function strictFieldErrors(manifests: ReadonlyArray<Pick<Manifest, 'apiVersion' | 'kind' | 'body'>>): Promise<string> {
	// Inside node_modules so that `kubernetes-models` resolves; removed afterwards.
	const directory = mkdtempSync(path.join(ROOT, 'node_modules/.chorus-deploy-check-'));
	try {
		const lines = manifests.map((manifest, index) =>
			`import type {I${manifest.kind} as T${index}} from '${modelPath(manifest.apiVersion, manifest.kind)}';\nexport const m${index}: T${index} = ${JSON.stringify(manifest.body)};`);
		const file = path.join(directory, 'manifests.ts');
		writeFileSync(file, lines.join('\n') + '\n');
		const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
		try {
			await run(process.execPath, [tsc, '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', file]);
			return '';
		} catch (error) {
			return String((error as {stdout?: string}).stdout ?? error);
		}
	} finally {
		rmSync(directory, {recursive: true, force: true});
	}
}

const manifests = kubernetesManifests();

describe('deploy/kubernetes against the Kubernetes schemas', () => {
	it('holds the objects the deployment needs', () => {
		expect(manifests.map((manifest) => manifest.kind).sort()).toEqual(['ConfigMap', 'Namespace', 'PodDisruptionBudget', 'Service', 'StatefulSet']);
		// The CURVE secret keys are never in git: the Secret is made with kubectl from keys you generate.
		expect(manifests.some((manifest) => manifest.kind === 'Secret')).toBe(false);
	});

	it.each(manifests.map((manifest) => [`${manifest.file}: ${manifest.kind} ${manifest.name}`, manifest] as const))('%s is valid', async (_name, manifest) => {
		expect(await schemaErrors(manifest)).toBeUndefined();
	});

	it('has no unknown field anywhere (strict), and the check does catch one', async () => {
		const typo = structuredClone(manifestOfKind('StatefulSet'));
		typo.body.spec.template.spec.containers[0].livenesProbe = typo.body.spec.template.spec.containers[0].livenessProbe;
		const output = await strictFieldErrors([...manifests, typo]);
		// The only error is the planted typo: every real manifest passes.
		const errors = output.split('\n').filter((line) => line.includes('error TS'));
		expect(errors, output).toHaveLength(1);
		expect(errors[0]).toMatch(/'"livenesProbe"' does not exist|'livenesProbe' does not exist/);
	}, 120_000);

	it('refuses a wrong type (the schema check bites)', async () => {
		const wrong = structuredClone(manifestOfKind('StatefulSet'));
		wrong.body.spec.replicas = '3';
		expect(await schemaErrors(wrong)).toMatch(/replicas must be integer/);
	});
});

describe('deploy/kubernetes: what the mesh relies on', () => {
	const statefulSet = manifestOfKind('StatefulSet').body;
	const service = manifestOfKind('Service').body;
	const pod = statefulSet.spec.template;
	const container = pod.spec.containers[0];
	const args: string[] = container.args;
	const argument = (flag: string) => args[args.indexOf(flag) + 1];

	it('joins through the headless Service by DNS', () => {
		expect(service.spec.clusterIP).toBe('None');
		expect(statefulSet.spec.serviceName).toBe(service.metadata.name);
		const dataPort = service.spec.ports.find((port: any) => port.name === 'data').port;
		expect(argument('--join')).toBe(`dns:${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local:${dataPort}`);
		expect(argument('--bind')).toBe(`tcp://$(POD_IP):${dataPort}`);
		expect(container.env.find((variable: any) => variable.name === 'POD_IP').valueFrom.fieldRef.fieldPath).toBe('status.podIP');
		for (const labels of [pod.metadata.labels, manifestOfKind('PodDisruptionBudget').body.spec.selector.matchLabels, service.spec.selector]) {
			expect(statefulSet.spec.selector.matchLabels).toEqual(labels);
		}
	});

	it('announces each pod by its stable DNS name, which is what the allow file lists for it', () => {
		const {name, namespace} = service.metadata;
		const dataPort = service.spec.ports.find((port: any) => port.name === 'data').port;
		// The downward API gives the pod's name; the headless Service makes <pod>.<service>.<namespace>.svc.<zone> resolve.
		expect(container.env.find((variable: any) => variable.name === 'POD_NAME').valueFrom.fieldRef.fieldPath).toBe('metadata.name');
		expect(argument('--advertise')).toBe(`$(POD_NAME).${name}.${namespace}.svc.cluster.local`);
		expect(argument('--id')).toBe('$(POD_NAME)');
		const allow: string = manifestOfKind('ConfigMap').body.data[path.basename(argument('--allow')!)];
		const pods = Array.from({length: statefulSet.spec.replicas}, (_, index) => `${statefulSet.metadata.name}-${index}`);
		for (const pod of pods) {
			// The line of each pod: its key, its id (= --id), and the endpoint it advertises.
			const advertised = `tcp://${argument('--advertise')!.replace('$(POD_NAME)', pod)}:${dataPort}`;
			expect(allow).toMatch(new RegExp(String.raw`^\S+\s+${pod}\s+${advertised.replaceAll('.', String.raw`\.`)}\s*$`, 'm'));
		}

		// Every listed endpoint is one the pods advertise: none is an address.
		const endpoints = [...allow.matchAll(/tcp:\/\/\S+/g)].map((match) => match[0]);
		expect(endpoints).toHaveLength(pods.length);
	});

	it('takes the CURVE key from the Secret and the allow file (with an operator) from the ConfigMap', () => {
		const volumes = Object.fromEntries(pod.spec.volumes.map((volume: any) => [volume.name, volume]));
		const mountOf = (spec: any, file: string) => spec.volumeMounts.find((mount: any) => file.startsWith(mount.mountPath + '/'));
		const keyMount = mountOf(container, argument('--curve-secret-key-file')!);
		const allowMount = mountOf(container, argument('--allow')!);
		expect(volumes[allowMount.name].configMap.name).toBe(manifestOfKind('ConfigMap').name);
		expect(manifestOfKind('ConfigMap').body.data[path.basename(argument('--allow')!)]).toMatch(/^\S+\s+\*\s+role=operator$/m);
		// The key reaches the node through the init container, from the Secret, owned and mode 0600.
		expect(volumes[keyMount.name].emptyDir.medium).toBe('Memory');
		const init = pod.spec.initContainers[0];
		const secretMount = init.volumeMounts.find((mount: any) => volumes[mount.name].secret !== undefined);
		expect(volumes[secretMount.name].secret.secretName).toBe('chorus-curve');
		expect(init.command.join(' ')).toContain(`install -m 0600 ${secretMount.mountPath}/$(POD_NAME).key ${keyMount.mountPath}/${path.basename(argument('--curve-secret-key-file')!)}`);
	});

	it('probes /healthz and is scraped on the --metrics port, as the image\'s user', () => {
		const metricsPort = Number(argument('--metrics')!.split(':').at(-1));
		const named = container.ports.find((port: any) => port.name === 'metrics');
		expect(named.containerPort).toBe(metricsPort);
		for (const probe of [container.readinessProbe, container.livenessProbe]) {
			expect(probe.httpGet).toEqual({path: '/healthz', port: 'metrics'});
		}

		expect(pod.metadata.annotations).toEqual({'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': '/metrics'});
		expect(pod.spec.securityContext).toMatchObject({runAsNonRoot: true, runAsUser: 10_001, runAsGroup: 10_001});
		const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
		expect(dockerfile).toMatch(/^USER 10001:10001$/m);
		const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {version: string}).version;
		expect(container.image).toBe(`chorus-tui:${version}`);
	});

	it('sizes its requests from the benchmark and cites the figures, which bench/results.md holds', () => {
		expect(container.resources.requests).toEqual({cpu: '50m', memory: '96Mi'});
		expect(container.resources.limits.cpu).toBeUndefined();
		const text = readFileSync(path.join(ROOT, 'deploy/kubernetes/statefulset.yaml'), 'utf8');
		const results = readFileSync(path.join(ROOT, 'bench/results.md'), 'utf8');
		// [as the comment cites it, the bench row, its value in bench/results.md]
		const cited = [
			['2.58 % of a core', 'cost.node', '2.58 % of a core'],
			['2.91 % of a core', 'cost.first15.node', '2.91 % of a core'],
			['61.5 MiB', 'cost.node.rss', '61.5 MiB'],
		] as const;
		for (const [figure, row, value] of cited) {
			expect(text).toContain(figure);
			expect(results).toContain(`| \`${row}\` | ${value} |`);
		}
	});
});
