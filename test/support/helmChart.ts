/**
 * The Helm chart (deploy/helm/begini-temporal) as real tools see it: Helm lints and renders it,
 * kubeconform validates what it renders against one named Kubernetes version's schemas, and the
 * rendered manifests are parsed for the assertions of test/e2e/helm.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');
export const CHART = resolve(ROOT, 'deploy/helm/begini-temporal');

/** A provisioning script's answer (scripts/ensure-*): the path it prints; its progress goes to our stderr. */
function ensure(script: string): string {
  return execFileSync('bash', [resolve(ROOT, 'scripts', script)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export interface ChartTools {
  helm: string;
  kubeconform: string;
  schemas: string;
  /** The Kubernetes version the schemas are of, e.g. v1.35.4. */
  kubernetesVersion: string;
}

export function chartTools(): ChartTools {
  const schemas = ensure('ensure-kube-schemas');
  return {
    helm: ensure('ensure-helm'),
    kubeconform: ensure('ensure-kubeconform'),
    schemas,
    kubernetesVersion: basename(schemas),
  };
}

/** A values file for Helm's -f: JSON is YAML, so a plain object will do. */
export function valuesFile(values: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'helm-values-')), 'values.yaml');
  writeFileSync(file, JSON.stringify(values, null, 2));
  return file;
}

function run(command: string, args: string[], input?: string): string {
  return execFileSync(command, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function lint(tools: ChartTools, valuesFiles: string[]): string {
  return run(tools.helm, ['lint', '--strict', CHART, ...valuesFiles.flatMap((f) => ['-f', f])]);
}

/** `helm template`'s output, hooks included, as a release named `begini` in namespace `begini`. */
export function render(tools: ChartTools, valuesFiles: string[]): string {
  return run(tools.helm, [
    'template',
    'begini',
    CHART,
    '--namespace',
    'begini',
    ...valuesFiles.flatMap((f) => ['-f', f]),
  ]);
}

export interface KubeconformResult {
  resources: Array<{ kind: string; name: string; version: string; status: string; msg: string }>;
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

/** kubeconform -strict on rendered manifests; a kind without a schema counts as an error. */
export function validate(tools: ChartTools, manifests: string): KubeconformResult {
  const args = [
    '-strict',
    '-summary',
    '-verbose',
    '-output',
    'json',
    '-schema-location',
    `${tools.schemas}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
    '-',
  ];
  try {
    return JSON.parse(run(tools.kubeconform, args, manifests)) as KubeconformResult;
  } catch (err) {
    // It exits 1 on an invalid resource, with the same JSON report on stdout.
    const stdout = (err as { stdout?: string }).stdout;
    if (stdout) return JSON.parse(stdout) as KubeconformResult;
    throw err;
  }
}

/** The parts of Kubernetes objects the assertions read; everything else is left untyped. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}
