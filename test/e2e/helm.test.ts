/**
 * The Helm chart, checked by real tools: `helm lint --strict`, `helm template` for several value
 * sets, kubeconform -strict against one named Kubernetes version's schemas (derived from its
 * published OpenAPI document), then the chart's rules on the parsed manifests: which Secret each
 * pod can read, which peers reach the operator ports, probe ports and paths, one worker per
 * namespace, non-root read-only containers.
 */
import { resolve } from 'node:path';
import {
  CHART,
  chartTools,
  lint,
  parseManifests,
  render,
  validate,
  valuesFile,
  type ChartTools,
  type Manifest,
} from '../support/helmChart';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet: { path: string; port: number | string };
}
interface Container {
  name: string;
  ports?: Array<{ name: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: Array<{ secretRef?: { name: string } }>;
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface Volume {
  name: string;
  emptyDir?: object;
  secret?: { secretName: string; items?: Array<{ key: string; path: string }> };
  configMap?: { name: string; items?: Array<{ key: string; path: string }> };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  automountServiceAccountToken?: boolean;
}
interface Workload extends Manifest {
  spec: { replicas?: number; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}
interface PeerRule {
  from?: unknown[];
  ports?: Array<{ port: number | string }>;
}

const example = (name: string) => resolve(CHART, 'examples', name);
const MINIMAL = {
  receiver: { begini: { apiKey: { secretName: 'begini-api-key', key: 'api-key' } } },
  worker: { losCallbackUrl: 'https://los.example.com/decisions' },
};
const MTLS_SELECTOR = { matchLabels: { role: 'operator' } };
const MTLS = {
  ...MINIMAL,
  temporal: {
    address: 'temporal-frontend.temporal:7233',
    namespaces: [{ name: 'begini-a' }, { name: 'begini-b' }, { name: 'Begini.C_prod' }],
    tls: {
      enabled: true,
      serverName: 'temporal-frontend',
      serverCA: { secretName: 'temporal-ca', key: 'ca.crt' },
      clientCert: { secretName: 'temporal-client', certKey: 'tls.crt', privateKeyKey: 'tls.key' },
    },
  },
  worker: {
    ...MINIMAL.worker,
    autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 4, targetCPUUtilizationPercentage: 60 },
  },
  // Operators in the release's own namespace: null removes the default namespaceSelector.
  networkPolicy: { enabled: true, operators: { namespaceSelector: null, podSelector: MTLS_SELECTOR } },
};
const DEFAULT_OPERATORS = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'operators' } } };

/** Each value set, with what the chart must make of it. */
const VALUE_SETS = [
  {
    name: 'the defaults plus the two values they lack',
    values: () => [valuesFile(MINIMAL)],
    namespaces: ['default'],
    operators: { ...DEFAULT_OPERATORS, podSelector: {} },
    secrets: {
      receiver: ['begini-api-key', 'begini-payload-codec'],
      worker: ['begini-los-callback', 'begini-payload-codec'],
      codec: ['begini-codec-auth', 'begini-payload-codec'],
      'setup-temporal': [],
    },
  },
  {
    name: 'Temporal Cloud with an API key (examples/values-cloud.yaml)',
    values: () => [example('values-cloud.yaml')],
    namespaces: ['begini-prod.a1b2c'],
    operators: { ...DEFAULT_OPERATORS, podSelector: {} },
    secrets: {
      receiver: ['begini-api-key', 'begini-payload-codec', 'temporal-cloud'],
      worker: ['begini-los-callback', 'begini-payload-codec', 'temporal-cloud'],
      codec: ['begini-codec-auth', 'begini-payload-codec'],
      'setup-temporal': ['temporal-cloud'],
    },
  },
  {
    name: 'a self-hosted cluster, two namespaces (examples/values-self-hosted.yaml)',
    values: () => [example('values-self-hosted.yaml')],
    namespaces: ['begini-acme', 'begini-globex'],
    operators: {
      ...DEFAULT_OPERATORS,
      podSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'operator-access' } },
    },
    secrets: {
      receiver: ['begini-keys', 'begini-operator-tokens', 'begini-payload-codec', 'begini-spool'],
      worker: ['begini-los-callback', 'begini-payload-codec'],
      codec: ['begini-codec-auth', 'begini-payload-codec'],
      'setup-temporal': [],
    },
  },
  {
    name: 'mTLS, three namespaces, autoscaled workers, operators in the release namespace',
    values: () => [valuesFile(MTLS)],
    namespaces: ['begini-a', 'begini-b', 'Begini.C_prod'],
    operators: { podSelector: MTLS_SELECTOR },
    secrets: {
      receiver: ['begini-api-key', 'begini-payload-codec', 'temporal-ca', 'temporal-client'],
      worker: ['begini-los-callback', 'begini-payload-codec', 'temporal-ca', 'temporal-client'],
      codec: ['begini-codec-auth', 'begini-payload-codec'],
      'setup-temporal': ['temporal-ca', 'temporal-client'],
    },
  },
];

let tools: ChartTools;
const rendered = new Map<string, string>();
beforeAll(() => {
  tools = chartTools();
});

/** `helm template`'s output for a value set, rendered once. */
function renderedText(set: (typeof VALUE_SETS)[number]): string {
  if (!rendered.has(set.name)) rendered.set(set.name, render(tools, set.values()));
  return rendered.get(set.name)!;
}
const manifestsOf = (set: (typeof VALUE_SETS)[number]) => parseManifests(renderedText(set));

const component = (m: Manifest) => m.metadata.labels?.['app.kubernetes.io/component'];
const workloads = (ms: Manifest[]) => ms.filter((m): m is Workload => m.kind === 'Deployment' || m.kind === 'Job');
const ofComponent = (ms: Manifest[], name: string) => workloads(ms).filter((w) => component(w) === name);
const containersOf = (pod: PodSpec) => [...(pod.initContainers ?? []), ...pod.containers];
const envOf = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;
const deployments = (ms: Manifest[]) => workloads(ms).filter((w) => w.kind === 'Deployment');

/** The one object of `kind` whose label selector (`spec[field]`) selects the Deployment's pods; fails unless one. */
function selectingOne(ms: Manifest[], kind: string, field: string, deployment: Workload): Manifest {
  const labels = deployment.spec.template.metadata.labels;
  const found = ms
    .filter((m) => m.kind === kind)
    .filter((m) => {
      const selector = (m.spec[field] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
      return selector !== undefined && Object.entries(selector).every(([k, v]) => labels[k] === v);
    });
  const name = deployment.metadata.name;
  expect({ deployment: name, kind, count: found.length }).toEqual({ deployment: name, kind, count: 1 });
  return found[0]!;
}

/** Every Secret a pod can read: env, envFrom and volumes. */
function secretsReadBy(pod: PodSpec): string[] {
  const fromContainers = containersOf(pod).flatMap((c) => [
    ...(c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.name] : [])),
    ...(c.envFrom ?? []).flatMap((e) => (e.secretRef ? [e.secretRef.name] : [])),
  ]);
  const fromVolumes = (pod.volumes ?? []).flatMap((v) => (v.secret ? [v.secret.secretName] : []));
  return [...fromContainers, ...fromVolumes];
}

/** A container port as a number, whether the probe names it or numbers it. */
function portNumber(c: Container, port: number | string): number {
  if (typeof port === 'number') return port;
  const found = c.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`${c.name} has no port named ${port}`);
  return found.containerPort;
}

test('the default values alone refuse to render: no LOS and no Begini key is a configuration error', () => {
  expect(() => render(tools, [])).toThrow(/worker\.losCallbackUrl is required|receiver\.begini: set apiKey/);
  const noKey = valuesFile({ worker: MINIMAL.worker });
  expect(() => render(tools, [noKey])).toThrow(/receiver\.begini: set apiKey\.secretName or deploymentsFile/);
  // Two namespaces that would give two workers the same name.
  const clash = valuesFile({ ...MINIMAL, temporal: { namespaces: [{ name: 'acme.prod' }, { name: 'acme-prod' }] } });
  expect(() => render(tools, [clash])).toThrow(/give the same worker name acme-prod/);
  // values.schema.json: a mistyped key is refused, not ignored.
  expect(() => render(tools, [valuesFile({ ...MINIMAL, reciever: {} })])).toThrow(/reciever/);
});

describe.each(VALUE_SETS)('$name', (set) => {
  test('passes helm lint --strict', () => {
    expect(lint(tools, set.values())).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('every rendered resource is valid against the named Kubernetes version (kubeconform -strict)', () => {
    const manifests = manifestsOf(set);
    const result = validate(tools, renderedText(set));
    const notValid = result.resources.filter((r) => r.status !== 'statusValid');
    expect({ version: tools.kubernetesVersion, notValid }).toEqual({ version: 'v1.35.4', notValid: [] });
    expect(result.summary).toEqual({ valid: manifests.length, invalid: 0, errors: 0, skipped: 0 });
  });

  test('each pod reads only its own Secrets: the receiver never the LOS secret, the worker never a Begini key', () => {
    const manifests = manifestsOf(set);
    const read = Object.fromEntries(
      Object.keys(set.secrets).map((name) => [
        name,
        [...new Set(ofComponent(manifests, name).flatMap((w) => secretsReadBy(w.spec.template.spec)))].sort(),
      ]),
    );
    expect(read).toEqual(set.secrets);
    const envNames = (name: string) =>
      ofComponent(manifests, name).flatMap((w) => containersOf(w.spec.template.spec).flatMap((c) => c.env ?? []));
    expect(envNames('receiver').filter((e) => /^LOS_/.test(e.name))).toEqual([]);
    expect(envNames('worker').filter((e) => /^(BEGINI_|CODEC_AUTH|OPERATOR_|SPOOL_)/.test(e.name))).toEqual([]);
  });

  test("the internal, codec and worker metrics ports admit only the operators' selector; the webhook port all", () => {
    const manifests = manifestsOf(set);
    const policies = manifests.filter((m) => m.kind === 'NetworkPolicy');
    for (const deployment of deployments(manifests)) {
      const policy = selectingOne(manifests, 'NetworkPolicy', 'podSelector', deployment);
      const rules = (policy.spec.ingress as PeerRule[]) ?? [];
      // A rule without ports would admit every port.
      expect(rules.filter((r) => !r.ports)).toEqual([]);
      for (const container of deployment.spec.template.spec.containers) {
        for (const port of container.ports ?? []) {
          const admitting = rules.filter((r) =>
            r.ports!.some((p) => p.port === port.containerPort || p.port === port.name),
          );
          const isWebhook = component(deployment) === 'receiver' && port.name === 'http';
          expect({ port: `${deployment.metadata.name}:${port.name}`, from: admitting.map((r) => r.from) }).toEqual({
            port: `${deployment.metadata.name}:${port.name}`,
            from: isWebhook ? [undefined] : [[set.operators]],
          });
        }
      }
    }
    expect(policies.every((p) => (p.spec.policyTypes as string[]).includes('Ingress'))).toBe(true);
  });

  test('probes target the port each process listens on, and its /healthz and /readyz', () => {
    const manifests = manifestsOf(set);
    const listening: Record<string, (c: Container) => number> = {
      receiver: (c) => Number(envOf(c, 'PORT')),
      worker: (c) => Number(envOf(c, 'WORKER_METRICS_ADDRESS')!.split(':').pop()),
      codec: (c) => Number(envOf(c, 'CODEC_PORT')),
    };
    const paths = {
      receiver: { startup: '/healthz', liveness: '/healthz', readiness: '/readyz' },
      worker: { startup: '/healthz', liveness: '/healthz', readiness: '/readyz' },
      codec: { liveness: '/healthz', readiness: '/healthz' },
    };
    for (const [name, expected] of Object.entries(paths)) {
      const [deployment] = ofComponent(manifests, name);
      const container = deployment!.spec.template.spec.containers[0]!;
      const port = listening[name]!(container);
      expect(port).toBeGreaterThan(0);
      const probes = {
        startup: container.startupProbe,
        liveness: container.livenessProbe,
        readiness: container.readinessProbe,
      };
      const actual = Object.fromEntries(
        Object.entries(probes)
          .filter(([, probe]) => probe)
          .map(([kind, probe]) => [kind, probe!.httpGet.path]),
      );
      expect({ name, paths: actual }).toEqual({ name, paths: expected });
      for (const probe of Object.values(probes).filter(Boolean))
        expect({ name, port: portNumber(container, probe!.httpGet.port) }).toEqual({ name, port });
    }
    // The receiver's internal listener has no /readyz: readiness is the public listener's.
    const receiver = ofComponent(manifests, 'receiver')[0]!.spec.template.spec.containers[0]!;
    expect(Number(envOf(receiver, 'INTERNAL_PORT'))).not.toBe(Number(envOf(receiver, 'PORT')));
  });

  test('one worker Deployment, PodDisruptionBudget and setup-temporal hook Job per namespace', () => {
    const manifests = manifestsOf(set);
    const namespaceOf = (w: Workload) => envOf(w.spec.template.spec.containers[0]!, 'TEMPORAL_NAMESPACE');
    const workers = ofComponent(manifests, 'worker');
    expect(workers.map(namespaceOf).sort()).toEqual([...set.namespaces].sort());
    expect(new Set(workers.map((w) => w.metadata.name)).size).toBe(set.namespaces.length);
    const jobs = ofComponent(manifests, 'setup-temporal');
    expect(jobs.map(namespaceOf).sort()).toEqual([...set.namespaces].sort());
    for (const job of jobs) expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    // The receiver's default namespace is the first listed.
    expect(namespaceOf(ofComponent(manifests, 'receiver')[0]!)).toBe(set.namespaces[0]);

    // Every Deployment has one PDB selecting its pods, and an HPA, when there is one, owns its replicas.
    const hpas = manifests.filter((m) => m.kind === 'HorizontalPodAutoscaler');
    for (const deployment of deployments(manifests)) {
      selectingOne(manifests, 'PodDisruptionBudget', 'selector', deployment);
      const hpa = hpas.find((h) => (h.spec.scaleTargetRef as { name: string }).name === deployment.metadata.name);
      expect({ deployment: deployment.metadata.name, replicas: deployment.spec.replicas === undefined }).toEqual({
        deployment: deployment.metadata.name,
        replicas: hpa !== undefined,
      });
    }
  });

  test('every container runs as non-root on a read-only root filesystem, writing only to an emptyDir /tmp', () => {
    for (const workload of workloads(manifestsOf(set))) {
      const pod = workload.spec.template.spec;
      const where = workload.metadata.name;
      expect({ where, pod: pod.securityContext }).toMatchObject({ where, pod: { runAsNonRoot: true } });
      expect(pod.securityContext!.runAsUser).not.toBe(0);
      expect({ where, token: pod.automountServiceAccountToken }).toEqual({ where, token: false });
      const emptyDirs = new Set((pod.volumes ?? []).filter((v) => v.emptyDir).map((v) => v.name));
      for (const container of containersOf(pod)) {
        expect({ where, security: container.securityContext }).toMatchObject({
          where,
          security: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        });
        const writable = (container.volumeMounts ?? []).filter((m) => !m.readOnly);
        expect(writable.map((m) => [m.mountPath, emptyDirs.has(m.name)])).toEqual([['/tmp', true]]);
      }
    }
  });
});

test("the deployments, tokens and policy files are mounted from the values' ConfigMap and Secret keys", () => {
  const challenger = valuesFile({
    worker: {
      challenger: {
        policyFile: { configMapName: 'begini-challenger', secretName: '', key: 'challenger.yaml' },
        mode: 'split',
        share: 20,
      },
    },
  });
  const manifests = parseManifests(render(tools, [example('values-self-hosted.yaml'), challenger]));
  for (const workload of ofComponent(manifests, 'worker')) {
    const container = workload.spec.template.spec.containers[0]!;
    expect([envOf(container, 'CHALLENGER_MODE'), envOf(container, 'CHALLENGER_SHARE')]).toEqual(['split', '20']);
  }
  const files = [
    {
      component: 'receiver',
      env: 'BEGINI_DEPLOYMENTS_FILE',
      source: { configMap: 'begini-deployments' },
      key: 'deployments.yaml',
    },
    {
      component: 'receiver',
      env: 'OPERATOR_TOKENS_FILE',
      source: { secret: 'begini-operator-tokens' },
      key: 'operator-tokens.yaml',
    },
    { component: 'worker', env: 'POLICY_FILE', source: { configMap: 'begini-policy' }, key: 'policy.yaml' },
    {
      component: 'worker',
      env: 'CHALLENGER_POLICY_FILE',
      source: { configMap: 'begini-challenger' },
      key: 'challenger.yaml',
    },
  ];
  for (const file of files) {
    for (const workload of ofComponent(manifests, file.component)) {
      const pod = workload.spec.template.spec;
      const container = pod.containers[0]!;
      const path = envOf(container, file.env)!;
      const mount = container.volumeMounts!.find((m) => path.startsWith(`${m.mountPath}/`))!;
      expect({ env: file.env, path: path.slice(mount.mountPath.length + 1), readOnly: mount.readOnly }).toEqual({
        env: file.env,
        path: file.key,
        readOnly: true,
      });
      const volume = pod.volumes!.find((v) => v.name === mount.name)!;
      const source = volume.configMap
        ? { configMap: volume.configMap.name, items: volume.configMap.items }
        : { secret: volume.secret!.secretName, items: volume.secret!.items };
      expect(source).toEqual({ ...file.source, items: [{ key: file.key, path: file.key }] });
    }
  }
});
