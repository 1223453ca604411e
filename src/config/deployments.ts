/**
 * Which Begini keys verify which integration's deliveries, and where each one's journeys live:
 * BEGINI_API_KEY (one deployment) or BEGINI_DEPLOYMENTS_FILE (several), never both, so that no key
 * is ever accepted for an integration it does not belong to.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { JourneySettings } from '../../workflows/definitions';
import type { SigningKey } from '../begini/verifier';
import { environmentLabel, printable, type Env } from './env';
import { issuesOf } from './errors';
import { journeyOverridesSchema, journeySettings, type JourneyEnv } from './journey';

export const deploymentsEnvSchema = z.object({
  BEGINI_API_KEY: z.string().min(1).optional(),
  BEGINI_ENVIRONMENT: environmentLabel.default('test'),
  BEGINI_DEPLOYMENTS_FILE: z.string().min(1).optional(),
});
type DeploymentsEnv = z.infer<typeof deploymentsEnvSchema>;

/** Temporal's own rule for namespace names. */
const namespaceName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/, 'is not a Temporal namespace name');

const keyEntry = z
  .strictObject({
    id: z.string().min(1).max(64),
    /** Name of the environment variable that holds the key: keeps secrets out of the file. */
    fromEnv: z.string().min(1).optional(),
    value: z.string().min(1).optional(),
  })
  .refine((k) => (k.fromEnv === undefined) !== (k.value === undefined), 'give exactly one of fromEnv or value');

const deploymentsFileSchema = z.strictObject({
  deployments: z
    .array(
      z.strictObject({
        integrationId: printable(128),
        environment: environmentLabel,
        /** Where this deployment's journeys live; its own, so no other key can reach them. */
        namespace: namespaceName.optional(),
        keys: z.array(keyEntry).min(1),
        journey: journeyOverridesSchema.optional(),
      }),
    )
    .min(1),
});

/** The integration id of the BEGINI_API_KEY deployment, which takes any integration id. */
export const FALLBACK_INTEGRATION_ID = '*';

export interface Deployment {
  integrationId: string;
  environment: 'test' | 'production';
  /** The Temporal namespace of this deployment's journeys. */
  namespace: string;
  keys: SigningKey[];
  journey: JourneySettings;
}

export interface Deployments {
  deployments: Map<string, Deployment>;
  /** BEGINI_API_KEY: one key accepted for any integration id. Never set beside `deployments`. */
  fallback: Deployment | null;
}

/**
 * The receiver's deployments; what is wrong goes to `problems`. `env` is where a file's `fromEnv`
 * keys are read; a deployment without a namespace of its own has `defaultNamespace`.
 */
export function deploymentsOf(
  e: DeploymentsEnv & JourneyEnv,
  env: Env,
  defaultNamespace: string,
  problems: string[],
): Deployments {
  // One rule, so no key is ever accepted for an integration it does not belong to.
  if (e.BEGINI_API_KEY && e.BEGINI_DEPLOYMENTS_FILE) {
    problems.push('set BEGINI_API_KEY (one deployment) or BEGINI_DEPLOYMENTS_FILE (several), not both');
  }
  const deployments = new Map<string, Deployment>();
  if (e.BEGINI_DEPLOYMENTS_FILE) {
    for (const d of readDeploymentsFile(e.BEGINI_DEPLOYMENTS_FILE, env, e, defaultNamespace, problems)) {
      if (deployments.has(d.integrationId))
        problems.push(`${e.BEGINI_DEPLOYMENTS_FILE}: integrationId ${d.integrationId} is listed twice`);
      deployments.set(d.integrationId, d);
    }
    problems.push(...isolationProblems([...deployments.values()]).map((p) => `${e.BEGINI_DEPLOYMENTS_FILE}: ${p}`));
  }
  const fallback: Deployment | null = e.BEGINI_API_KEY
    ? {
        integrationId: FALLBACK_INTEGRATION_ID,
        environment: e.BEGINI_ENVIRONMENT,
        namespace: defaultNamespace,
        keys: [{ id: 'BEGINI_API_KEY', secret: e.BEGINI_API_KEY }],
        journey: journeySettings(e),
      }
    : null;
  // Fail closed: a receiver that can verify nothing must not start.
  if (!fallback && deployments.size === 0) {
    problems.push('no Begini API key configured: set BEGINI_API_KEY, or BEGINI_DEPLOYMENTS_FILE with at least one key');
  }
  return { deployments, fallback };
}

/** The deployment an integration id belongs to, with the keys that may verify its deliveries. */
export function deploymentFor(config: Deployments, integrationId: string | undefined): Deployment | null {
  if (config.fallback) return config.fallback;
  return integrationId === undefined ? null : (config.deployments.get(integrationId) ?? null);
}

/** Every deployment of this receiver; with BEGINI_API_KEY, that one. */
export function allDeployments(config: Deployments): Deployment[] {
  return config.fallback ? [config.fallback] : [...config.deployments.values()];
}

/**
 * The deployment an operator names by integration id (the journey API's `?integration=`, the CLIs'
 * `--integration`); with one deployment, naming none picks it. Otherwise why none was picked.
 */
export function selectDeployment(
  config: Deployments,
  integration: string | undefined,
): Deployment | 'integration_required' | 'unknown_integration' {
  const deployments = allDeployments(config);
  if (integration === undefined) return deployments.length === 1 ? deployments[0]! : 'integration_required';
  return deployments.find((d) => d.integrationId === integration) ?? 'unknown_integration';
}

function readDeploymentsFile(
  path: string,
  env: Env,
  journeyDefaults: JourneyEnv,
  defaultNamespace: string,
  problems: string[],
): Deployment[] {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`BEGINI_DEPLOYMENTS_FILE ${path}: ${(err as Error).message.split('\n')[0]}`);
    return [];
  }
  const parsed = deploymentsFileSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...issuesOf(parsed.error).map((p) => `${path}: ${p}`));
    return [];
  }
  return parsed.data.deployments.map((d) => ({
    integrationId: d.integrationId,
    environment: d.environment,
    namespace: d.namespace ?? defaultNamespace,
    keys: d.keys.map((k) => {
      const secret = k.value ?? env[k.fromEnv!];
      if (!secret) problems.push(`${path}: key ${k.id} of ${d.integrationId} reads ${k.fromEnv}, which is not set`);
      return { id: k.id, secret: secret ?? '' };
    }),
    journey: journeySettings(journeyDefaults, d.journey),
  }));
}

/**
 * A verified key must identify exactly one deployment, and each deployment's journeys must live
 * where no other deployment's deliveries can reach them (workflow ID = uid within a namespace).
 */
function isolationProblems(deployments: Deployment[]): string[] {
  const problems: string[] = [];
  const byNamespace = new Map<string, string>();
  const bySecret = new Map<string, string>();
  for (const d of deployments) {
    const sharing = byNamespace.get(d.namespace);
    if (sharing)
      problems.push(
        `integrations ${sharing} and ${d.integrationId} share namespace ${d.namespace}: give each deployment its own namespace`,
      );
    byNamespace.set(d.namespace, d.integrationId);
    const ids = new Set<string>();
    for (const key of d.keys) {
      if (ids.has(key.id)) problems.push(`key id ${key.id} is listed twice for ${d.integrationId}`);
      ids.add(key.id);
      const owner = bySecret.get(key.secret);
      if (key.secret && owner && owner !== d.integrationId)
        problems.push(
          `key ${key.id} of ${d.integrationId} is also a key of ${owner}: a signature must identify one deployment`,
        );
      bySecret.set(key.secret, d.integrationId);
    }
  }
  return problems;
}
