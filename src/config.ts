/**
 * Every setting, from the environment plus an optional deployments file, validated once at start.
 * A bad configuration fails with one error that lists every problem.
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE, type JourneySettings } from '../workflows/definitions';
import type { OperatorAuthSettings } from './auth/authenticator';
import { readTokensFile } from './auth/tokensFile';
import type { SigningKey } from './begini/verifier';
import { CONTROL_CHARS } from './begini/events';
import { parseCodecKeys, type CodecKey } from './codec/aesGcm';
import { durationSchema } from './duration';
import { LOG_LEVELS } from './logger';
import type { UidRateLimitSettings } from './receiver/uidRateLimit';
import { temporalSettings } from './temporal/connection';

type Env = Record<string, string | undefined>;

const environmentLabel = z.enum(['test', 'production']);
const scoreKinds = z.array(z.string().regex(/^[a-z0-9_]+$/, 'score kinds look like psychometric, android, ios')).min(1);

const journeySettingsOverrides = z.strictObject({
  requiredScores: scoreKinds.optional(),
  scoreGrace: durationSchema.optional(),
  expiry: durationSchema.optional(),
  settle: durationSchema.optional(),
  maxEventAge: durationSchema.optional(),
});

/** Text that reaches workflow IDs and logs. */
const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !CONTROL_CHARS.test(value), 'must not contain control characters');

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
        journey: journeySettingsOverrides.optional(),
      }),
    )
    .min(1),
});

const intFrom = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);

/** Payload encryption is not optional: history would otherwise hold credit data in plaintext. */
const codecKeys = z
  .string({
    error:
      'is required: credit data in Temporal is encrypted (id:base64key[,id:base64key]; generate a key with openssl rand -base64 32)',
  })
  .transform((spec, ctx) => {
    try {
      return parseCodecKeys(spec);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.custom<CodecKey>()).min(1, 'needs at least one key'));

/** A migration allowance for payloads written before encryption, and only ever for a while. */
const MAX_PLAINTEXT_ALLOWANCE_MS = 90 * 86_400_000;
const acceptPlaintextUntil = z.iso
  .date('must be a date such as 2026-12-31')
  .transform((day) => new Date(`${day}T23:59:59.999Z`))
  .refine(
    (until) => until.getTime() - Date.now() <= MAX_PLAINTEXT_ALLOWANCE_MS,
    'must be at most 90 days ahead: it is a migration allowance, not a mode',
  )
  .optional();

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const logLevel = z.enum(LOG_LEVELS).default('info');

const receiverEnvSchema = z.object({
  LOG_LEVEL: logLevel,
  PAYLOAD_CODEC_KEYS: codecKeys,
  PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL: acceptPlaintextUntil,
  PORT: port(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  // /metrics and the journey API: for operators and Prometheus, never on the public listener.
  INTERNAL_PORT: port(9465),
  INTERNAL_HOST: z.string().min(1).default('127.0.0.1'),
  RECEIVER_MAX_CONNECTIONS: intFrom(256),
  // Each refresh runs three visibility counts per namespace, however often /metrics is scraped.
  METRICS_VISIBILITY_REFRESH: durationSchema.default(30_000),
  WEBHOOK_REQUEST_TIMEOUT: durationSchema.default(10_000),
  BEGINI_API_KEY: z.string().min(1).optional(),
  BEGINI_ENVIRONMENT: environmentLabel.default('test'),
  BEGINI_DEPLOYMENTS_FILE: z.string().min(1).optional(),
  // Above about 1 MiB a delivery, encrypted, would near Temporal's own payload limits.
  WEBHOOK_MAX_BODY_BYTES: intFrom(256 * 1024).pipe(z.number().max(1024 * 1024, 'must be at most 1048576 (1 MiB)')),
  TEMPORAL_ACK_TIMEOUT_MS: intFrom(5_000),
  TEMPORAL_MAX_IN_FLIGHT: intFrom(256),
  // Begini sends a handful of events per uid; more is a replay or a fault, and each is a history event.
  WEBHOOK_UID_RATE_LIMIT: intFrom(30),
  WEBHOOK_UID_RATE_WINDOW: durationSchema.default(60_000),
  WEBHOOK_UID_RATE_TRACKED: intFrom(50_000),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  WORKFLOW_ID_PREFIX: z.literal('').or(printable(64)).default(''),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  SHUTDOWN_GRACE_MS: intFrom(10_000),
  // Operators authenticate as themselves (src/auth): named tokens, an identity provider's JWTs, or both.
  OPERATOR_TOKENS_FILE: z.string().min(1).optional(),
  // Whoever can alter the key fetch can mint admin tokens: https, or plain http on loopback only.
  OPERATOR_JWKS_URL: z
    .url({ protocol: /^https?$/ })
    .refine(
      (url) => url.startsWith('https:') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(url),
      'must be https (plain http only on loopback)',
    )
    .optional(),
  OPERATOR_JWKS_FILE: z.string().min(1).optional(),
  OPERATOR_JWT_ISSUER: z.string().min(1).optional(),
  OPERATOR_JWT_AUDIENCE: z.string().min(1).optional(),
  OPERATOR_JWT_NAME_CLAIM: z.string().min(1).default('sub'),
  OPERATOR_JWT_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** Replaced by named principals; set, it stops the receiver rather than silently closing the API. */
  OPERATOR_API_TOKEN: z.string().optional(),
  JOURNEY_REQUIRED_SCORES: z
    .string()
    .default('psychometric')
    .transform((s) =>
      s
        .split(',')
        .map((k) => k.trim())
        .filter(Boolean),
    )
    .pipe(scoreKinds),
  JOURNEY_SCORE_GRACE: durationSchema.default(15 * 60_000),
  // Begini's session limit is 24 h by default (2 h on older pages); wait comfortably longer.
  JOURNEY_EXPIRY: durationSchema.default(48 * 3_600_000),
  JOURNEY_SETTLE: durationSchema.default(30 * 86_400_000),
  JOURNEY_HANDOFF_RETRY_INITIAL: durationSchema.default(1_000),
  // At most the namespace retention (30 d by default): past it, a closed journey that would
  // absorb a replayed delivery may already be gone.
  JOURNEY_MAX_EVENT_AGE: durationSchema.default(30 * 86_400_000),
  // The intake spool (src/spool): off unless set. A 200 then means Temporal or the spool holds the event.
  SPOOL_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }).optional(),
  SPOOL_MAX_ROWS: intFrom(100_000),
  SPOOL_MAX_BYTES: intFrom(1024 * 1024 * 1024),
  // Per receiver; Temporal Cloud's default namespace limit is hundreds of actions a second.
  SPOOL_DRAIN_PER_SECOND: intFrom(50),
  // The refused-delivery vault (src/spool/vault.ts), on with the spool: per integration, caps and inserts a second.
  SPOOL_VAULT_MAX_ROWS: intFrom(1_000),
  SPOOL_VAULT_MAX_BYTES: intFrom(16 * 1024 * 1024),
  SPOOL_VAULT_RETENTION: durationSchema.default(7 * 86_400_000),
  SPOOL_VAULT_PER_SECOND: intFrom(20),
});

const workerEnvSchema = z.object({
  LOG_LEVEL: logLevel,
  PAYLOAD_CODEC_KEYS: codecKeys,
  PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL: acceptPlaintextUntil,
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  POLICY_FILE: z.string().min(1).default('activities/default-policy.yaml'),
  LOS_CALLBACK_URL: z.url({ protocol: /^https?$/ }).optional(),
  LOS_CALLBACK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  LOS_TIMEOUT_MS: intFrom(10_000),
  // Journeys idle for hours: keep few in the sticky cache; an evicted one replays its short history.
  WORKER_MAX_CACHED_WORKFLOWS: intFrom(250, 0),
  WORKER_METRICS_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port')
    .default('0.0.0.0:9464'),
});

const codecServerEnvSchema = z.object({
  LOG_LEVEL: logLevel,
  PAYLOAD_CODEC_KEYS: codecKeys,
  CODEC_AUTH_TOKEN: z
    .string({ error: 'is required: the codec endpoint decrypts, so it is never open' })
    .min(24, 'must be at least 24 characters'),
  CODEC_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  CODEC_HOST: z.string().min(1).default('127.0.0.1'),
  CODEC_PORT: z.coerce.number().int().min(0).max(65535).default(8088),
});

const setupEnvSchema = z.object({
  LOG_LEVEL: logLevel,
  // Closed journeys must outlive any delivery Begini might still retry, and JOURNEY_MAX_EVENT_AGE.
  TEMPORAL_RETENTION_DAYS: intFrom(30),
});

/**
 * OpenTelemetry tracing (src/telemetry.ts): on only when an exporter is asked for. Only these are
 * read here; the SDK itself reads the rest of the standard OTEL_* variables (headers, timeout,
 * compression, sampler, batch sizes, resource attributes, propagators).
 */
const otlpProtocol = z.literal('http/protobuf', {
  error: 'only http/protobuf is supported (an OpenTelemetry Collector takes it on port 4318)',
});
const telemetryEnvSchema = z.object({
  OTEL_SDK_DISABLED: z
    .string()
    .transform((value) => value.trim().toLowerCase() === 'true')
    .optional(),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_SERVICE_NAME: printable(128).optional(),
});

export interface TelemetryConfig {
  exporter: 'otlp' | 'console';
  /** OTEL_SERVICE_NAME; null: the process's own default. */
  serviceName: string | null;
}

/** Null, tracing off, unless OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT or OTEL_TRACES_EXPORTER asks for it. */
export function loadTelemetryConfig(rawEnv: Env = process.env): TelemetryConfig | null {
  const parsed = telemetryEnvSchema.safeParse(withoutEmpty(rawEnv));
  if (!parsed.success) throw new ConfigError(issuesOf(parsed.error));
  const e = parsed.data;
  const asked =
    e.OTEL_TRACES_EXPORTER ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : 'none');
  if (e.OTEL_SDK_DISABLED || asked === 'none') return null;
  return { exporter: asked, serviceName: e.OTEL_SERVICE_NAME ?? null };
}

/** `npm run setup-temporal` (and `npm run dev`): what to set on a namespace. */
export function loadSetupConfig(rawEnv: Env = process.env): { retentionDays: number } {
  const parsed = setupEnvSchema.safeParse(withoutEmpty(rawEnv));
  if (!parsed.success) throw new ConfigError(issuesOf(parsed.error));
  return { retentionDays: parsed.data.TEMPORAL_RETENTION_DAYS };
}

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
  return {
    codecKeys: e.PAYLOAD_CODEC_KEYS,
    token: e.CODEC_AUTH_TOKEN,
    corsOrigins: e.CODEC_CORS_ORIGINS,
    host: e.CODEC_HOST,
    port: e.CODEC_PORT,
  };
}

export interface Deployment {
  integrationId: string;
  environment: 'test' | 'production';
  /** The Temporal namespace of this deployment's journeys. */
  namespace: string;
  keys: SigningKey[];
  journey: JourneySettings;
}

export interface ReceiverConfig {
  codecKeys: CodecKey[];
  /** Until when plaintext payloads (written before encryption) are still read; null: never. */
  acceptPlaintextUntil: Date | null;
  port: number;
  host: string;
  internal: { port: number; host: string };
  maxConnections: number;
  requestTimeoutMs: number;
  metricsRefreshMs: number;
  maxBodyBytes: number;
  ackTimeoutMs: number;
  maxInFlight: number;
  /** Deliveries per applicant uid per window before 429 (src/receiver/uidRateLimit.ts). */
  uidRateLimit: UidRateLimitSettings;
  taskQueue: string;
  workflowIdPrefix: string;
  tls: { certFile: string; keyFile: string } | null;
  shutdownGraceMs: number;
  /** Enables the /journeys API; null means the API does not exist. */
  operatorAuth: OperatorAuthSettings | null;
  deployments: Map<string, Deployment>;
  /** BEGINI_API_KEY: one key accepted for any integration id. Never set beside `deployments`. */
  fallback: Deployment | null;
  /** The intake spool; null: off, a delivery Temporal cannot take is answered 503. */
  spool: SpoolSettings | null;
}

/** The refused-delivery vault's bounds, per integration (src/spool/vault.ts). */
export interface VaultLimits {
  maxRows: number;
  maxBytes: number;
  retentionMs: number;
  /** Inserts a second per receiver; past it, a refused delivery is not kept. */
  perSecond: number;
}

export interface SpoolSettings {
  databaseUrl: string;
  /** Rows (waiting and dead-lettered) and sealed bytes beyond which a delivery is answered 503 again. */
  maxRows: number;
  maxBytes: number;
  /** Signals each receiver sends from the spool per second at most. */
  drainPerSecond: number;
  /** Deliveries refused 403 signature_mismatch kept for replay after a key fix, per integration. */
  vault: VaultLimits;
}

export interface WorkerConfig {
  codecKeys: CodecKey[];
  acceptPlaintextUntil: Date | null;
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
  const defaultNamespace = temporalSettings(env).namespace;
  const defaults: JourneySettings = {
    requiredScores: e.JOURNEY_REQUIRED_SCORES,
    scoreGraceMs: e.JOURNEY_SCORE_GRACE,
    expiryMs: e.JOURNEY_EXPIRY,
    settleMs: e.JOURNEY_SETTLE,
    handoffRetryInitialMs: e.JOURNEY_HANDOFF_RETRY_INITIAL,
    maxEventAgeMs: e.JOURNEY_MAX_EVENT_AGE,
  };

  // One rule, so no key is ever accepted for an integration it does not belong to.
  if (e.BEGINI_API_KEY && e.BEGINI_DEPLOYMENTS_FILE) {
    problems.push('set BEGINI_API_KEY (one deployment) or BEGINI_DEPLOYMENTS_FILE (several), not both');
  }
  const deployments = new Map<string, Deployment>();
  if (e.BEGINI_DEPLOYMENTS_FILE) {
    for (const d of readDeploymentsFile(e.BEGINI_DEPLOYMENTS_FILE, env, defaults, defaultNamespace, problems)) {
      if (deployments.has(d.integrationId))
        problems.push(`${e.BEGINI_DEPLOYMENTS_FILE}: integrationId ${d.integrationId} is listed twice`);
      deployments.set(d.integrationId, d);
    }
    problems.push(...isolationProblems([...deployments.values()]).map((p) => `${e.BEGINI_DEPLOYMENTS_FILE}: ${p}`));
  }
  const fallback: Deployment | null = e.BEGINI_API_KEY
    ? {
        integrationId: '*',
        environment: e.BEGINI_ENVIRONMENT,
        namespace: defaultNamespace,
        keys: [{ id: 'BEGINI_API_KEY', secret: e.BEGINI_API_KEY }],
        journey: defaults,
      }
    : null;
  // Fail closed: a receiver that can verify nothing must not start.
  if (!fallback && deployments.size === 0) {
    problems.push('no Begini API key configured: set BEGINI_API_KEY, or BEGINI_DEPLOYMENTS_FILE with at least one key');
  }
  const operatorAuth = operatorAuthOf(e, problems);
  if ((e.TLS_CERT_FILE === undefined) !== (e.TLS_KEY_FILE === undefined)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  if (problems.length) throw new ConfigError(problems);

  return {
    codecKeys: e.PAYLOAD_CODEC_KEYS,
    acceptPlaintextUntil: e.PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL ?? null,
    port: e.PORT,
    host: e.HOST,
    internal: { port: e.INTERNAL_PORT, host: e.INTERNAL_HOST },
    maxConnections: e.RECEIVER_MAX_CONNECTIONS,
    requestTimeoutMs: e.WEBHOOK_REQUEST_TIMEOUT,
    metricsRefreshMs: e.METRICS_VISIBILITY_REFRESH,
    maxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    ackTimeoutMs: e.TEMPORAL_ACK_TIMEOUT_MS,
    maxInFlight: e.TEMPORAL_MAX_IN_FLIGHT,
    uidRateLimit: {
      limit: e.WEBHOOK_UID_RATE_LIMIT,
      windowMs: e.WEBHOOK_UID_RATE_WINDOW,
      maxTracked: e.WEBHOOK_UID_RATE_TRACKED,
    },
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    workflowIdPrefix: e.WORKFLOW_ID_PREFIX,
    tls: e.TLS_CERT_FILE && e.TLS_KEY_FILE ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE } : null,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    operatorAuth,
    deployments,
    fallback,
    spool: e.SPOOL_DATABASE_URL
      ? {
          databaseUrl: e.SPOOL_DATABASE_URL,
          maxRows: e.SPOOL_MAX_ROWS,
          maxBytes: e.SPOOL_MAX_BYTES,
          drainPerSecond: e.SPOOL_DRAIN_PER_SECOND,
          vault: {
            maxRows: e.SPOOL_VAULT_MAX_ROWS,
            maxBytes: e.SPOOL_VAULT_MAX_BYTES,
            retentionMs: e.SPOOL_VAULT_RETENTION,
            perSecond: e.SPOOL_VAULT_PER_SECOND,
          },
        }
      : null,
  };
}

/**
 * Who may use the journey API. Nothing configured: no API. Anything half-configured or unreadable
 * is a problem that stops the receiver, never an API that is silently open or silently off.
 */
function operatorAuthOf(e: z.infer<typeof receiverEnvSchema>, problems: string[]): OperatorAuthSettings | null {
  if (e.OPERATOR_API_TOKEN !== undefined) {
    problems.push(
      'OPERATOR_API_TOKEN is no longer read: operators authenticate as themselves, with OPERATOR_TOKENS_FILE (npm run operator-token) or OPERATOR_JWKS_URL / OPERATOR_JWKS_FILE (see docs/configuration.md)',
    );
  }
  let tokens: OperatorAuthSettings['tokens'] = null;
  if (e.OPERATOR_TOKENS_FILE) {
    const read = readTokensFile(e.OPERATOR_TOKENS_FILE);
    problems.push(...read.problems);
    tokens = read.tokens;
  }
  let jwt: OperatorAuthSettings['jwt'] = null;
  const jwtAsked = [e.OPERATOR_JWKS_URL, e.OPERATOR_JWKS_FILE, e.OPERATOR_JWT_ISSUER, e.OPERATOR_JWT_AUDIENCE].some(
    (v) => v !== undefined,
  );
  if (jwtAsked) {
    if ((e.OPERATOR_JWKS_URL === undefined) === (e.OPERATOR_JWKS_FILE === undefined))
      problems.push('operator JWTs need exactly one of OPERATOR_JWKS_URL or OPERATOR_JWKS_FILE');
    if (!e.OPERATOR_JWT_ISSUER) problems.push('operator JWTs need OPERATOR_JWT_ISSUER (the identity provider’s iss)');
    if (!e.OPERATOR_JWT_AUDIENCE) problems.push('operator JWTs need OPERATOR_JWT_AUDIENCE (this API’s aud)');
    const keys = e.OPERATOR_JWKS_FILE ? readJwksFile(e.OPERATOR_JWKS_FILE, problems) : null;
    if (e.OPERATOR_JWT_ISSUER && e.OPERATOR_JWT_AUDIENCE && (e.OPERATOR_JWKS_URL || keys)) {
      jwt = {
        jwks: e.OPERATOR_JWKS_URL ? { url: e.OPERATOR_JWKS_URL } : { keys: keys! },
        issuer: e.OPERATOR_JWT_ISSUER,
        audience: e.OPERATOR_JWT_AUDIENCE,
        nameClaim: e.OPERATOR_JWT_NAME_CLAIM,
        rolesClaim: e.OPERATOR_JWT_ROLES_CLAIM,
      };
    }
  }
  return tokens || jwt ? { tokens, jwt } : null;
}

const jwksFileSchema = z.object({
  keys: z
    .array(z.looseObject({ kty: z.string() }))
    .min(1, 'holds no key')
    .refine((keys) => keys.every((k) => k.d === undefined), 'must hold public keys only')
    // A symmetric key would let anyone who reads this file sign tokens.
    .refine((keys) => keys.every((k) => k.kty !== 'oct' && k.k === undefined), 'must hold no symmetric (oct) key'),
});

function readJwksFile(path: string, problems: string[]): JSONWebKeySet | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`OPERATOR_JWKS_FILE ${path}: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
  const parsed = jwksFileSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...issuesOf(parsed.error).map((p) => `OPERATOR_JWKS_FILE ${path}: ${p}`));
    return null;
  }
  return parsed.data as JSONWebKeySet;
}

/** The deployment an integration id belongs to, with the keys that may verify its deliveries. */
export function deploymentFor(config: ReceiverConfig, integrationId: string | undefined): Deployment | null {
  if (config.fallback) return config.fallback;
  return integrationId === undefined ? null : (config.deployments.get(integrationId) ?? null);
}

/** Every deployment of this receiver; with BEGINI_API_KEY, that one. */
export function allDeployments(config: ReceiverConfig): Deployment[] {
  return config.fallback ? [config.fallback] : [...config.deployments.values()];
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

/** `requireHandoff`: production entry points refuse to run without somewhere to send decisions. */
export function loadWorkerConfig(rawEnv: Env = process.env, { requireHandoff = false } = {}): WorkerConfig {
  const parsed = workerEnvSchema.safeParse(withoutEmpty(rawEnv));
  if (!parsed.success) throw new ConfigError(issuesOf(parsed.error));
  const e = parsed.data;
  const problems: string[] = [];
  if (e.LOS_CALLBACK_URL && !e.LOS_CALLBACK_SECRET)
    problems.push('LOS_CALLBACK_SECRET is required with LOS_CALLBACK_URL');
  if (requireHandoff && !e.LOS_CALLBACK_URL) {
    problems.push(
      'LOS_CALLBACK_URL and LOS_CALLBACK_SECRET are required: decisions must go to the loan origination system',
    );
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    codecKeys: e.PAYLOAD_CODEC_KEYS,
    acceptPlaintextUntil: e.PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL ?? null,
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

function readDeploymentsFile(
  path: string,
  env: Env,
  defaults: JourneySettings,
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
    journey: {
      requiredScores: d.journey?.requiredScores ?? defaults.requiredScores,
      scoreGraceMs: d.journey?.scoreGrace ?? defaults.scoreGraceMs,
      expiryMs: d.journey?.expiry ?? defaults.expiryMs,
      settleMs: d.journey?.settle ?? defaults.settleMs,
      handoffRetryInitialMs: defaults.handoffRetryInitialMs,
      maxEventAgeMs: d.journey?.maxEventAge ?? defaults.maxEventAgeMs,
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
