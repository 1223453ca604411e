/**
 * The backtest itself, pure: each recorded policy input re-evaluated under the candidate policy
 * with the worker's own `evaluatePolicy`, compared with the decision the policy of the day made.
 */
import { evaluatePolicy, type Policy, type PolicyEvaluation, type PolicyInput } from '../../activities/policy';
import { principalReasons } from '../../activities/principalReasons';
import type { Outcome, PrincipalReason } from '../../workflows/definitions';
import type { Outcomes } from './outcomes';
import { performance, type Judged, type PerformanceReport } from './performance';

/** The outcomes from most to least favourable to the applicant: the order the report's rows and columns read. */
export const OUTCOMES_BY_SEVERITY: readonly Outcome[] = ['APPROVE', 'REFER', 'DECLINE'];

/** One decided journey as its history recorded it. */
export interface RecordedDecision {
  /** The keyed ref the logs use for this uid; never the uid itself. */
  uidRef: string;
  /** Finds the journey in Temporal (`RunId = "…"`) for whoever may read it there. */
  runId: string;
  decidedAt: string;
  /** Exactly what the worker's policy activity received. */
  input: PolicyInput;
  /** What it answered. */
  current: Omit<PolicyEvaluation, 'input'>;
}

export interface Verdict {
  outcome: Outcome;
  reasons: string[];
  /** What the applicant's notice would say; empty for decisions recorded before principal reasons existed. */
  principalReasons: PrincipalReason[];
  policyVersion: string;
}

export interface ChangedJourney {
  uidRef: string;
  runId: string;
  decidedAt: string;
  current: Verdict;
  candidate: Verdict;
}

export interface BacktestReport {
  generatedAt: string;
  /** The visibility filter the journeys were listed with. */
  filter: string;
  candidateVersion: string;
  /** The policy versions that made the recorded decisions. */
  currentVersions: string[];
  journeys: number;
  /** matrix[current][candidate]: how many journeys went from one outcome to the other. */
  matrix: Record<Outcome, Record<Outcome, number>>;
  /** Journeys per reason (a decision with two reasons counts under both). */
  reasons: { current: Record<string, number>; candidate: Record<string, number> };
  changed: ChangedJourney[];
  /** With `--outcomes`: approval and bad rates per policy, swap sets, coverage. */
  performance?: PerformanceReport;
}

const verdict = (d: RecordedDecision['current']): Verdict => ({
  outcome: d.outcome,
  reasons: d.reasons,
  principalReasons: d.principalReasons ?? [],
  policyVersion: d.policyVersion,
});

function emptyMatrix(): Record<Outcome, Record<Outcome, number>> {
  const row = () => Object.fromEntries(OUTCOMES_BY_SEVERITY.map((o) => [o, 0])) as Record<Outcome, number>;
  return { APPROVE: row(), REFER: row(), DECLINE: row() };
}

export function backtest(
  recorded: readonly RecordedDecision[],
  candidate: Policy,
  meta: { filter: string; now?: Date; outcomes?: Outcomes },
): BacktestReport {
  const matrix = emptyMatrix();
  const reasons = { current: {} as Record<string, number>, candidate: {} as Record<string, number> };
  const count = (into: Record<string, number>, keys: string[]) => {
    for (const key of new Set(keys)) into[key] = (into[key] ?? 0) + 1;
  };
  const changed: ChangedJourney[] = [];
  const judged: Judged[] = [];
  for (const journey of recorded) {
    const evaluated = evaluatePolicy(candidate, journey.input);
    const next = { ...evaluated, principalReasons: principalReasons(candidate, evaluated.reasons) };
    matrix[journey.current.outcome][next.outcome] += 1;
    count(reasons.current, journey.current.reasons);
    count(reasons.candidate, next.reasons);
    judged.push({ journey, candidate: next.outcome });
    if (next.outcome !== journey.current.outcome) {
      changed.push({
        uidRef: journey.uidRef,
        runId: journey.runId,
        decidedAt: journey.decidedAt,
        current: verdict(journey.current),
        candidate: verdict(next),
      });
    }
  }
  return {
    generatedAt: (meta.now ?? new Date()).toISOString(),
    filter: meta.filter,
    candidateVersion: candidate.version,
    currentVersions: [...new Set(recorded.map((r) => r.current.policyVersion))].sort(),
    journeys: recorded.length,
    matrix,
    reasons,
    changed: changed.sort((a, b) => a.decidedAt.localeCompare(b.decidedAt)),
    ...(meta.outcomes && { performance: performance(judged, meta.outcomes, candidate.version) }),
  };
}
