/** `npm run setup-temporal` (and `npm run dev`): what to set on a namespace. */
import { z } from 'zod';
import type { SetupMode } from '../temporal/cloudPlan';
import { intFrom, logLevel, parseEnv, type Env } from './env';

const setupEnvSchema = z.object({
  LOG_LEVEL: logLevel,
  // Closed journeys must outlive any delivery Begini might still retry, and JOURNEY_MAX_EVENT_AGE.
  TEMPORAL_RETENTION_DAYS: intFrom(30),
  // auto: Temporal Cloud when the endpoint is Cloud's or an API key is set (src/temporal/cloudPlan.ts).
  TEMPORAL_SETUP_MODE: z.enum(['auto', 'cloud', 'self-hosted']).default('auto'),
});

export function loadSetupConfig(rawEnv: Env = process.env): { retentionDays: number; mode: SetupMode } {
  const e = parseEnv(setupEnvSchema, rawEnv);
  return { retentionDays: e.TEMPORAL_RETENTION_DAYS, mode: e.TEMPORAL_SETUP_MODE };
}
