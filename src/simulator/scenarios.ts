/** Named sequences of deliveries, as Begini would send them for one applicant. */
import type { Signing } from './sender';

export interface Step {
  type: string;
  /** Seconds added to "now" for the event's own timestamps (a later re-score, say). */
  at?: number;
  details?: Record<string, unknown>;
  signing?: Signing;
  /** Sent this many times at once. */
  copies?: number;
  /** Wait before this step, as a late event would. */
  pauseMs?: number;
}

export interface Scenario {
  description: string;
  steps: Step[];
  /** What Begini would see: every delivery acknowledged, or every one refused. */
  accepted: boolean;
}

const score = (type = 'psychometric_score.complete', extra: Partial<Step> = {}): Step => ({ type, ...extra });

export const scenarios: Record<string, Scenario> = {
  happy: {
    description: 'application completes, the psychometric score follows',
    steps: [{ type: 'application.complete' }, score()],
    accepted: true,
  },
  device: {
    description: 'psychometric plus an Android device score',
    steps: [{ type: 'application.complete' }, score('android_score.complete'), score()],
    accepted: true,
  },
  ios: {
    description: 'psychometric plus an iOS device score',
    steps: [{ type: 'application.complete' }, score('ios_score.complete'), score()],
    accepted: true,
  },
  expired: {
    description: 'the session expires; the journey waits (expiry is not terminal)',
    steps: [{ type: 'application.expired' }],
    accepted: true,
  },
  reopened: {
    description: 'expired, re-opened in the dashboard, then completed and scored',
    steps: [{ type: 'application.expired' }, { type: 'application.complete' }, score()],
    accepted: true,
  },
  incomplete: {
    description: 'the application ends incomplete',
    steps: [{ type: 'application.incomplete' }],
    accepted: true,
  },
  cancelled: {
    description: 'the applicant rejects the privacy policy',
    steps: [{ type: 'application.cancelled' }],
    accepted: true,
  },
  'duplicate-storm': {
    description: 'the score delivered 20 times at once',
    steps: [score('psychometric_score.complete', { copies: 20 })],
    accepted: true,
  },
  'out-of-order': {
    description: 'the score arrives before application.complete, and a stale expiry after both',
    steps: [score(), { type: 'application.complete' }, { type: 'application.expired' }],
    accepted: true,
  },
  'late-rescore': {
    description: 'decided, then re-scored from the dashboard',
    steps: [
      score(),
      score('psychometric_score.complete', {
        at: 3600,
        pauseMs: 2_000,
        details: { calculated: { score: 88, risk_band: 'E' } },
      }),
    ],
    accepted: true,
  },
  'bad-signature': {
    description: 'a missing, a malformed and a wrongly keyed signature',
    steps: [
      score('psychometric_score.complete', { signing: 'missing' }),
      score('psychometric_score.complete', { signing: 'malformed' }),
      score('psychometric_score.complete', { signing: 'other-key' }),
    ],
    accepted: false,
  },
  'wrong-environment-key': {
    description: 'signed with the other environment’s key (Test against Production)',
    steps: [score('psychometric_score.complete', { signing: 'wrong-environment' })],
    accepted: false,
  },
};
