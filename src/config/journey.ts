/**
 * A journey's required scores and timers: the JOURNEY_* variables are the receiver's defaults, and a
 * deployment's `journey:` block in the deployments file overrides them field by field.
 */
import { z } from 'zod';
import type { JourneySettings } from '../../workflows/definitions';
import { durationSchema } from '../duration';
import { commaList } from './env';

const scoreKinds = z.array(z.string().regex(/^[a-z0-9_]+$/, 'score kinds look like psychometric, android, ios')).min(1);

export const journeyEnvSchema = z.object({
  JOURNEY_REQUIRED_SCORES: commaList('psychometric').pipe(scoreKinds),
  JOURNEY_SCORE_GRACE: durationSchema.default(15 * 60_000),
  // Begini's session limit is 24 h by default (2 h on older pages); wait comfortably longer.
  JOURNEY_EXPIRY: durationSchema.default(48 * 3_600_000),
  JOURNEY_SETTLE: durationSchema.default(30 * 86_400_000),
  JOURNEY_HANDOFF_RETRY_INITIAL: durationSchema.default(1_000),
  // At most the namespace retention (30 d by default): past it, a closed journey that would
  // absorb a replayed delivery may already be gone.
  JOURNEY_MAX_EVENT_AGE: durationSchema.default(30 * 86_400_000),
});
export type JourneyEnv = z.infer<typeof journeyEnvSchema>;

/** What a deployment may set for itself; the hand-off retry is the receiver's alone. */
export const journeyOverridesSchema = z.strictObject({
  requiredScores: scoreKinds.optional(),
  scoreGrace: durationSchema.optional(),
  expiry: durationSchema.optional(),
  settle: durationSchema.optional(),
  maxEventAge: durationSchema.optional(),
});
export type JourneyOverrides = z.infer<typeof journeyOverridesSchema>;

/** A deployment's journey settings: its own overrides, else the receiver's JOURNEY_* defaults. */
export function journeySettings(defaults: JourneyEnv, overrides: JourneyOverrides = {}): JourneySettings {
  return {
    requiredScores: overrides.requiredScores ?? defaults.JOURNEY_REQUIRED_SCORES,
    scoreGraceMs: overrides.scoreGrace ?? defaults.JOURNEY_SCORE_GRACE,
    expiryMs: overrides.expiry ?? defaults.JOURNEY_EXPIRY,
    settleMs: overrides.settle ?? defaults.JOURNEY_SETTLE,
    handoffRetryInitialMs: defaults.JOURNEY_HANDOFF_RETRY_INITIAL,
    maxEventAgeMs: overrides.maxEventAge ?? defaults.JOURNEY_MAX_EVENT_AGE,
  };
}
