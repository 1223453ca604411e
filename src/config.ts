/**
 * Every setting, from the environment plus an optional deployments file, validated once at start.
 * A bad configuration fails with one error that lists every problem.
 */
import { readFileSync } from 'node:fs';
import { msToNumber } from '@temporalio/common';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE, type JourneySettings } from '../workflows/definitions';
import type { SigningKey } from './begini/verifier';
import { parseCodecKeys, type CodecKey } from './codec/aesGcm';

type Env = Record<string, string | undefined>;

export const durationSchema = z
  .string()
  .transform((value, ctx) => {
    let ms = Number.NaN;
    try {
      ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
    } catch {
      // reported below
    }
    if (!Number.isFinite(ms) || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration such as 500ms, 30s, 15m, 48h or 30d` });
      return z.NEVER;
    }
    return ms;
  });

const environmentLabel = z.enum(['test', 'production']);
const scoreKinds = z.array(z.string().regex(/^[a-z0-9_]+$/, 'score kinds look like psychometric, android, ios')).min(1);

const journeySettingsOverrides = z.strictObject({
  requiredScores: scoreKinds.optional(),
  scoreGrace: durationSchema.optional(),
  expiry: durationSchema.optional(),
  settle: durationSchema.optional(),
});

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
        integrationId: z.string().min(1),
        environment: environmentLabel,
        keys: z.array(keyEntry).min(1),
        journey: journeySettingsOverrides.optional(),
      }),
    )
    .min(1),
});

const intFrom = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

/** Payload encryption is not optional: history would otherwise hold credit data in plaintext. */
const codecKeys = z
  .string({ error: 'is required: credit data in Temporal is encrypted (id:base64key[,id:base64key]; generate a key with openssl rand -base64 32)' })
  .transform((spec, ctx) => {
    try {
      return parseCodecKeys(spec);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.custom<CodecKey>()).min(1, 'needs at least one key'));

const receiverEnvSchema = z.object({
  PAYLOAD_CODEC_KEYS: codecKeys,
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  BEGINI_API_KEY: z.string().min(1).optional(),
  BEGINI_ENVIRONMENT: environmentLabel.default('test'),
  BEGINI_DEPLOYMENTS_FILE: z.string().min(1).optional(),
  WEBHOOK_MAX_BODY_BYTES: intFrom(256 * 1024),
  TEMPORAL_ACK_TIMEOUT_MS: intFrom(5_000),
  TEMPORAL_MAX_IN_FLIGHT: intFrom(256),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  WORKFLOW_ID_PREFIX: z.string().max(64).regex(/^[^\u0000-\u001f]*$/).default(''),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  SHUTDOWN_GRACE_MS: intFrom(10_000),
  OPERATOR_API_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  JOURNEY_REQUIRED_SCORES: z
    .string()
    .default('psychometric')
    .transform((s) => s.split(',').map((k) => k.trim()).filter(Boolean))
    .pipe(scoreKinds),
  JOURNEY_SCORE_GRACE: durationSchema.default(15 * 60_000),
  // Begini's session limit is 24 h by default (2 h on older pages); wait comfortably longer.
  JOURNEY_EXPIRY: durationSchema.default(48 * 3_600_000),
  JOURNEY_SETTLE: durationSchema.default(30 * 86_400_000),
  JOURNEY_HANDOFF_RETRY_INITIAL: durationSchema.default(1_000),
});

const workerEnvSchema = z.object({
  PAYLOAD_CODEC_KEYS: codecKeys,
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  POLICY_FILE: z.string().min(1).default('activities/default-policy.yaml'),
  LOS_CALLBACK_URL: z.url({ protocol: /^https?$/ }).optional(),
  LOS_CALLBACK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  LOS_TIMEOUT_MS: intFrom(10_000),
  // Journeys idle for hours: keep few in the sticky cache; an evicted one replays its short history.
  WORKER_MAX_CACHED_WORKFLOWS: intFrom(250, 0),
  WORKER_METRICS_ADDRESS: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port').default('0.0.0.0:9464'),
});

const codecServerEnvSchema = z.object({
  PAYLOAD_CODEC_KEYS: codecKeys,
  CODEC_AUTH_TOKEN: z.string({ error: 'is required: the codec endpoint decrypts, so it is never open' }).min(24, 'must be at least 24 characters'),
  CODEC_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  CODEC_HOST: z.string().min(1).default('127.0.0.1'),
  CODEC_PORT: z.coerce.number().int().min(0).max(65535).default(8088),
});

export interface CodecServerConfig {
  codecKeys: CodecKey[];
  token: string;
  corsOrigins: string[];
  host: string;
  port: number;
}

export function loadCodecServerConfig(rawEnv: Env = process.env): CodecServerConfig {
  const parsed = codecServerEnvSchema.safeParse(withoutEmpty(rawEnv));
  if (!parsed.success) throw new ConfigError(issuesOf(parsed.error));
  const e = parsed.data;
  return { codecKeys: e.PAYLOAD_CODEC_KEYS, token: e.CODEC_AUTH_TOKEN, corsOrigins: e.CODEC_CORS_ORIGINS, host: e.CODEC_HOST, port: e.CODEC_PORT };
}

export interface Deployment {
  integrationId: string;
  environment: 'test' | 'production';
  keys: SigningKey[];
  journey: JourneySettings;
}

export interface ReceiverConfig {
  codecKeys: CodecKey[];
  port: number;
  host: string;
  maxBodyBytes: number;
  ackTimeoutMs: number;
  maxInFlight: number;
  taskQueue: string;
  workflowIdPrefix: string;
  tls: { certFile: string; keyFile: string } | null;
  shutdownGraceMs: number;
  /** Enables the /journeys API; absent means the API does not exist. */
  operatorApiToken: string | null;
  deployments: Map<string, Deployment>;
  /** BEGINI_API_KEY: one key accepted for any integration id. */
  fallback: Deployment | null;
}

export interface WorkerConfig {
  codecKeys: CodecKey[];
  taskQueue: string;
  /** host:port of the worker's Prometheus endpoint (/metrics). */
  metricsAddress: string;
  /** Bounds worker memory: each cached workflow costs hundreds of KiB. */
  maxCachedWorkflows: number;
  policyFile: string;
  handoff: { url: string; secret: string; timeoutMs: number } | null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export function loadReceiverConfig(rawEnv: Env = process.env): ReceiverConfig {
  const env = withoutEmpty(rawEnv);
  const problems: string[] = [];
  const parsed = receiverEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(issuesOf(parsed.error));
  const e = parsed.data;
  const defaults: JourneySettings = {
    requiredScores: e.JOURNEY_REQUIRED_SCORES,
    scoreGraceMs: e.JOURNEY_SCORE_GRACE,
    expiryMs: e.JOURNEY_EXPIRY,
    settleMs: e.JOURNEY_SETTLE,
    handoffRetryInitialMs: e.JOURNEY_HANDOFF_RETRY_INITIAL,
  };

  const deployments = new Map<string, Deployment>();
  if (e.BEGINI_DEPLOYMENTS_FILE) {
    for (const d of readDeploymentsFile(e.BEGINI_DEPLOYMENTS_FILE, env, defaults, problems)) {
      if (deployments.has(d.integrationId)) problems.push(`${e.BEGINI_DEPLOYMENTS_FILE}: integrationId ${d.integrationId} is listed twice`);
      deployments.set(d.integrationId, d);
    }
  }
  const fallback: Deployment | null = e.BEGINI_API_KEY
    ? { integrationId: '*', environment: e.BEGINI_ENVIRONMENT, keys: [{ id: 'BEGINI_API_KEY', secret: e.BEGINI_API_KEY }], journey: defaults }
    : null;
  // Fail closed: a receiver that can verify nothing must not start.
  if (!fallback && deployments.size === 0) {
    problems.push('no Begini API key configured: set BEGINI_API_KEY, or BEGINI_DEPLOYMENTS_FILE with at least one key');
  }
  if ((e.TLS_CERT_FILE === undefined) !== (e.TLS_KEY_FILE === undefined)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  if (problems.length) throw new ConfigError(problems);

  return {
    codecKeys: e.PAYLOAD_CODEC_KEYS,
    port: e.PORT,
    host: e.HOST,
    maxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    ackTimeoutMs: e.TEMPORAL_ACK_TIMEOUT_MS,
    maxInFlight: e.TEMPORAL_MAX_IN_FLIGHT,
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    workflowIdPrefix: e.WORKFLOW_ID_PREFIX,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : null,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    operatorApiToken: e.OPERATOR_API_TOKEN ?? null,
    deployments,
    fallback,
  };
}

/** The deployment an integration id belongs to, with the keys that may verify its deliveries. */
export function deploymentFor(config: ReceiverConfig, integrationId: string | undefined): Deployment | null {
  const configured = integrationId === undefined ? undefined : config.deployments.get(integrationId);
  if (configured) {
    return config.fallback ? { ...configured, keys: [...configured.keys, ...config.fallback.keys] } : configured;
  }
  return config.fallback;
}

/** `requireHandoff`: production entry points refuse to run without somewhere to send decisions. */
export function loadWorkerConfig(rawEnv: Env = process.env, { requireHandoff = false } = {}): WorkerConfig {
  const parsed = workerEnvSchema.safeParse(withoutEmpty(rawEnv));
  if (!parsed.success) throw new ConfigError(issuesOf(parsed.error));
  const e = parsed.data;
  const problems: string[] = [];
  if (e.LOS_CALLBACK_URL && !e.LOS_CALLBACK_SECRET) problems.push('LOS_CALLBACK_SECRET is required with LOS_CALLBACK_URL');
  if (requireHandoff && !e.LOS_CALLBACK_URL) {
    problems.push('LOS_CALLBACK_URL and LOS_CALLBACK_SECRET are required: decisions must go to the loan origination system');
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    codecKeys: e.PAYLOAD_CODEC_KEYS,
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    metricsAddress: e.WORKER_METRICS_ADDRESS,
    maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    policyFile: e.POLICY_FILE,
    handoff:
      e.LOS_CALLBACK_URL && e.LOS_CALLBACK_SECRET
        ? { url: e.LOS_CALLBACK_URL, secret: e.LOS_CALLBACK_SECRET, timeoutMs: e.LOS_TIMEOUT_MS }
        : null,
  };
}

function readDeploymentsFile(path: string, env: Env, defaults: JourneySettings, problems: string[]): Deployment[] {
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
    keys: d.keys.map((k) => {
      const secret = k.value ?? env[k.fromEnv!];
      if (!secret) problems.push(`${path}: key ${k.id} of ${d.integrationId} reads ${k.fromEnv}, which is not set`);
      return { id: k.id, secret: secret ?? '' };
    }),
    journey: {
      requiredScores: d.journey?.requiredScores ?? defaults.requiredScores,
      scoreGraceMs: d.journey?.scoreGrace ?? defaults.scoreGraceMs,
      expiryMs: d.journey?.expiry ?? defaults.expiryMs,
      settleMs: d.journey?.settle ?? defaults.settleMs,
      handoffRetryInitialMs: defaults.handoffRetryInitialMs,
    },
  }));
}

/** `NAME=` in an env file means "not set", not "set to nothing". */
function withoutEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}
