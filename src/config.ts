/**
 * Every setting, from the environment plus an optional deployments file, validated once at start.
 * A bad configuration fails with one error that lists every problem.
 */
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../workflows/definitions';
import type { OperatorAuthSettings } from './auth/authenticator';
import { parseCodecKeys, type CodecKey } from './codec/aesGcm';
import { deploymentsEnvSchema, deploymentsOf, type Deployments } from './config/deployments';
import { commaList, intFrom, logLevel, parseEnv, port, printable, withoutEmpty, type Env } from './config/env';
import { ConfigError } from './config/errors';
import { journeyEnvSchema } from './config/journey';
import { operatorAuthEnvSchema, operatorAuthOf } from './config/operatorAuth';
import { durationSchema } from './duration';
import type { UidRateLimitSettings } from './receiver/uidRateLimit';
import { temporalSettings } from './temporal/connection';

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
  ...deploymentsEnvSchema.shape,
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
  ...operatorAuthEnvSchema.shape,
  ...journeyEnvSchema.shape,
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
  CODEC_CORS_ORIGINS: commaList('').pipe(z.array(z.url({ protocol: /^https?$/ }))),
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
  const e = parseEnv(telemetryEnvSchema, rawEnv);
  const asked =
    e.OTEL_TRACES_EXPORTER ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : 'none');
  if (e.OTEL_SDK_DISABLED || asked === 'none') return null;
  return { exporter: asked, serviceName: e.OTEL_SERVICE_NAME ?? null };
}

/** `npm run setup-temporal` (and `npm run dev`): what to set on a namespace. */
export function loadSetupConfig(rawEnv: Env = process.env): { retentionDays: number } {
  return { retentionDays: parseEnv(setupEnvSchema, rawEnv).TEMPORAL_RETENTION_DAYS };
}

export interface CodecServerConfig {
  codecKeys: CodecKey[];
  token: string;
  corsOrigins: string[];
  host: string;
  port: number;
}

export function loadCodecServerConfig(rawEnv: Env = process.env): CodecServerConfig {
  const e = parseEnv(codecServerEnvSchema, rawEnv);
  return {
    codecKeys: e.PAYLOAD_CODEC_KEYS,
    token: e.CODEC_AUTH_TOKEN,
    corsOrigins: e.CODEC_CORS_ORIGINS,
    host: e.CODEC_HOST,
    port: e.CODEC_PORT,
  };
}

export interface ReceiverConfig extends Deployments {
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

export function loadReceiverConfig(rawEnv: Env = process.env): ReceiverConfig {
  const env = withoutEmpty(rawEnv);
  const problems: string[] = [];
  const e = parseEnv(receiverEnvSchema, env);
  const defaultNamespace = temporalSettings(env).namespace;
  const { deployments, fallback } = deploymentsOf(e, env, defaultNamespace, problems);
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

/** `requireHandoff`: production entry points refuse to run without somewhere to send decisions. */
export function loadWorkerConfig(rawEnv: Env = process.env, { requireHandoff = false } = {}): WorkerConfig {
  const e = parseEnv(workerEnvSchema, rawEnv);
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
