/**
 * The receiver's settings (npm start): its listeners and limits, with the deployments
 * (src/config/deployments.ts), operator auth (operatorAuth.ts) and the spool (spool.ts) it reads.
 */
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../../workflows/definitions';
import type { OperatorAuthSettings } from '../auth/authenticator';
import { durationSchema } from '../duration';
import type { UidRateLimitSettings } from '../receiver/uidRateLimit';
import { temporalSettings, type TemporalSettings } from '../temporal/connection';
import { deploymentsEnvSchema, deploymentsOf, type Deployments } from './deployments';
import { intFrom, logLevel, parseEnv, port, printable, withoutEmpty, type Env } from './env';
import { ConfigError } from './errors';
import { journeyEnvSchema } from './journey';
import { operatorAuthEnvSchema, operatorAuthOf } from './operatorAuth';
import { payloadCodecEnvSchema, payloadCodecOf, type PayloadCodecSettings } from './payloadCodec';
import { spoolEnvSchema, spoolOf, type SpoolSettings } from './spool';

const receiverEnvSchema = z.object({
  LOG_LEVEL: logLevel,
  ...payloadCodecEnvSchema.shape,
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
  // Past this much workflow-task backlog, new applications wait so that scores do not (src/receiver/backlog.ts).
  WEBHOOK_DEFER_BACKLOG: durationSchema.default(1_000),
  // Begini sends a handful of events per uid; more is a replay or a fault, and each is a history event.
  WEBHOOK_UID_RATE_LIMIT: intFrom(30),
  WEBHOOK_UID_RATE_WINDOW: durationSchema.default(60_000),
  WEBHOOK_UID_RATE_TRACKED: intFrom(50_000),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  WORKFLOW_ID_PREFIX: z.literal('').or(printable(64)).default(''),
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  SHUTDOWN_GRACE_MS: intFrom(10_000),
  ...operatorAuthEnvSchema.shape,
  ...journeyEnvSchema.shape,
  ...spoolEnvSchema.shape,
});

export interface ReceiverConfig extends PayloadCodecSettings, Deployments {
  port: number;
  host: string;
  internal: { port: number; host: string };
  maxConnections: number;
  requestTimeoutMs: number;
  metricsRefreshMs: number;
  maxBodyBytes: number;
  ackTimeoutMs: number;
  maxInFlight: number;
  /** Past this age of the oldest waiting workflow task, applications wait (src/receiver/backlog.ts). */
  deferBacklogMs: number;
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

/**
 * `temporal`: the connection's settings, whose namespace is each deployment's unless it names its
 * own. Entry points pass the settings they connect with; without them, they are read from `rawEnv`.
 */
export function loadReceiverConfig(
  rawEnv: Env = process.env,
  temporal: Pick<TemporalSettings, 'namespace'> = temporalSettings(rawEnv),
): ReceiverConfig {
  const env = withoutEmpty(rawEnv);
  const problems: string[] = [];
  const e = parseEnv(receiverEnvSchema, env);
  const { deployments, fallback } = deploymentsOf(e, env, temporal.namespace, problems);
  const operatorAuth = operatorAuthOf(e, problems);
  if ((e.TLS_CERT_FILE === undefined) !== (e.TLS_KEY_FILE === undefined)) {
    problems.push('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  if (problems.length) throw new ConfigError(problems);

  return {
    ...payloadCodecOf(e),
    port: e.PORT,
    host: e.HOST,
    internal: { port: e.INTERNAL_PORT, host: e.INTERNAL_HOST },
    maxConnections: e.RECEIVER_MAX_CONNECTIONS,
    requestTimeoutMs: e.WEBHOOK_REQUEST_TIMEOUT,
    metricsRefreshMs: e.METRICS_VISIBILITY_REFRESH,
    maxBodyBytes: e.WEBHOOK_MAX_BODY_BYTES,
    ackTimeoutMs: e.TEMPORAL_ACK_TIMEOUT_MS,
    maxInFlight: e.TEMPORAL_MAX_IN_FLIGHT,
    deferBacklogMs: e.WEBHOOK_DEFER_BACKLOG,
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
    spool: spoolOf(e),
  };
}
