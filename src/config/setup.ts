/** `npm run setup-temporal` (and `npm run dev`): what to set on a namespace. */
import { z } from 'zod';
import { intFrom, logLevel, parseEnv, type Env } from './env';

const setupEnvSchema = z.object({
  LOG_LEVEL: logLevel,
  // Closed journeys must outlive any delivery Begini might still retry, and JOURNEY_MAX_EVENT_AGE.
  TEMPORAL_RETENTION_DAYS: intFrom(30),
});

export function loadSetupConfig(rawEnv: Env = process.env): { retentionDays: number } {
  return { retentionDays: parseEnv(setupEnvSchema, rawEnv).TEMPORAL_RETENTION_DAYS };
}
