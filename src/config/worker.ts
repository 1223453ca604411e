/** The worker's settings (npm run worker, and the backtest's replay of the journey). */
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE, EXPERIMENT_MODES, type ExperimentMode } from '../../workflows/definitions';
import { intFrom, logLevel, parseEnv, type Env } from './env';
import { ConfigError } from './errors';
import { payloadCodecEnvSchema, payloadCodecOf, type PayloadCodecSettings } from './payloadCodec';

const workerEnvSchema = z.object({
  LOG_LEVEL: logLevel,
  ...payloadCodecEnvSchema.shape,
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  POLICY_FILE: z.string().min(1).default('activities/default-policy.yaml'),
  CHALLENGER_POLICY_FILE: z.string().min(1).optional(),
  CHALLENGER_SHARE: z.coerce.number().int().min(0).max(100).optional(),
  CHALLENGER_MODE: z.enum(EXPERIMENT_MODES).default('split'),
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

export interface WorkerConfig extends PayloadCodecSettings {
  taskQueue: string;
  /** host:port of the worker's Prometheus endpoint (/metrics). */
  metricsAddress: string;
  /** Bounds worker memory: each cached workflow costs hundreds of KiB. */
  maxCachedWorkflows: number;
  policyFile: string;
  /** A challenger policy beside POLICY_FILE (activities/experiment.ts); null when none runs. */
  challenger: { policyFile: string; share: number; mode: ExperimentMode } | null;
  handoff: { url: string; secret: string; timeoutMs: number } | null;
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
  if (!e.CHALLENGER_POLICY_FILE && (e.CHALLENGER_SHARE !== undefined || rawEnv.CHALLENGER_MODE?.trim()))
    problems.push('CHALLENGER_SHARE and CHALLENGER_MODE need CHALLENGER_POLICY_FILE');
  if (e.CHALLENGER_POLICY_FILE && e.CHALLENGER_MODE === 'split' && e.CHALLENGER_SHARE === undefined)
    problems.push(
      'CHALLENGER_SHARE (0-100, the percent of new journeys the challenger decides) is required in split mode',
    );
  if (e.CHALLENGER_MODE === 'shadow' && e.CHALLENGER_SHARE !== undefined)
    problems.push(
      'CHALLENGER_SHARE does not apply in shadow mode: the challenger is evaluated on every journey and decides none',
    );
  if (problems.length) throw new ConfigError(problems);
  return {
    ...payloadCodecOf(e),
    taskQueue: e.TEMPORAL_TASK_QUEUE,
    metricsAddress: e.WORKER_METRICS_ADDRESS,
    maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
    policyFile: e.POLICY_FILE,
    challenger: e.CHALLENGER_POLICY_FILE
      ? { policyFile: e.CHALLENGER_POLICY_FILE, share: e.CHALLENGER_SHARE ?? 0, mode: e.CHALLENGER_MODE }
      : null,
    handoff:
      e.LOS_CALLBACK_URL && e.LOS_CALLBACK_SECRET
        ? { url: e.LOS_CALLBACK_URL, secret: e.LOS_CALLBACK_SECRET, timeoutMs: e.LOS_TIMEOUT_MS }
        : null,
  };
}
