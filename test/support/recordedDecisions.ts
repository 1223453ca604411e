/** Recorded decisions made up for the backtest's unit tests: what the reader would return from history. */
import { policySchema, type Policy, type PolicyInput } from '../../activities/policy';
import type { RecordedDecision } from '../../src/backtest/compare';
import type { Outcome, ScoreFacts } from '../../workflows/definitions';

const score = (riskBand: string): ScoreFacts => ({
  kind: 'psychometric',
  score: 50,
  riskBand,
  scoreConfidence: 'HIGH',
  scoredAt: 0,
  platform: 'WEB',
  traits: [],
  permissionsGranted: [],
  permissionsDenied: [],
});

export const policyInput = (band: string): PolicyInput => ({
  trigger: 'scores_complete',
  application: 'complete',
  scores: { psychometric: score(band) },
  requiredScores: ['psychometric'],
  malformed: false,
});

/** Journey `i` (ref `ref<i>`, decided on day i of November), its band's input, and `outcome` as recorded. */
export const recordedDecision = (
  band: string,
  outcome: Outcome,
  i: number,
  extra: Record<string, unknown> = {},
): RecordedDecision => ({
  uidRef: `ref${i}`,
  runId: `run-${i}`,
  decidedAt: `2026-11-${String(i).padStart(2, '0')}T00:00:00.000Z`,
  input: policyInput(band),
  current: { outcome, reasons: [`was_${outcome.toLowerCase()}`], policyVersion: 'old', review: null, ...extra },
});

/** A candidate for the unit tests: band A approves, band B refers (with `bandBText`), anything else declines. */
export const bandPolicy = (version: string, bandBText: string): Policy =>
  policySchema.parse({
    version,
    defaultOutcome: 'DECLINE',
    defaultText: 'No rule approved it.',
    review: { deadline: '1h', fallback: 'DECLINE' },
    rules: [
      { reason: 'band_a', outcome: 'APPROVE', when: { riskBandIn: ['A'] } },
      { reason: 'band_b', text: bandBText, outcome: 'REFER', when: { riskBandIn: ['B'] } },
    ],
  });
