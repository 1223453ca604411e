/**
 * Judging a policy by the loans it produced: with the outcomes the LOS knows (`--outcomes`), the
 * approval rate and the bad rate among approved journeys of the recorded policy, the candidate and,
 * when the worker ran a shadow challenger, the shadow; the swap sets between the recorded decision
 * and each of them; and, when the worker split traffic, each arm's own rates. Pure arithmetic.
 *
 * Only journeys approved in reality can have a known outcome: a journey the candidate approves and
 * reality declined (the swap-in set) was never a loan. No reject inference is attempted: its bad
 * rate is unknown, and the report says so rather than guessing one.
 */
import type { Outcome, PolicyExperiment } from '../../workflows/definitions';
import type { Outcomes, Performance } from './outcomes';

/**
 * What the recorded evaluation carries when the worker ran a challenger (the lead's PolicyExperiment
 * in workflows/definitions.ts, the fields read here): `arm` decided the journey; in shadow mode
 * `shadow` is the challenger's verdict recorded beside the real decision.
 */
/** What the journey recorded of a champion/challenger experiment (workflows/definitions.ts). */
export type RecordedExperiment = Pick<PolicyExperiment, 'arm' | 'mode'> & {
  shadow?: Pick<NonNullable<PolicyExperiment['shadow']>, 'outcome' | 'policyVersion'>;
};

export const REJECT_INFERENCE =
  'Not attempted. Journeys declined in reality were never loans, so the bad rate of the swap-in set (approved by the policy, declined in reality) is unknown and not estimated.';

/** n out of `of`; null when there is nothing to divide by (never NaN). */
export const rate = (n: number, of: number): number | null => (of === 0 ? null : n / of);

export interface SwapSummary {
  journeys: number;
  /** Of them, with a known outcome. */
  withOutcome: number;
  bad: number;
  badRate: number | null;
}

/** How a set of decisions approves, and how its approved loans did. */
export interface Approvals {
  decided: number;
  approved: number;
  approvalRate: number | null;
  /** Approved journeys whose outcome is known (approved in reality too, and in the file). */
  approvedWithOutcome: number;
  approvedBad: number;
  /** Bad among `approvedWithOutcome`. */
  badRate: number | null;
}

export interface PolicyPerformance extends Approvals {
  /** `recorded` (what decided the journeys), `candidate` (--policy) or `shadow` (the shadow challenger). */
  policy: 'recorded' | 'candidate' | 'shadow';
  versions: string[];
  /** Approved in reality, not approved by this policy (declined or referred): their outcomes are known. Null for `recorded`. */
  swapOut: SwapSummary | null;
  /** Not approved in reality, approved by this policy: never loans, so outcomes unknown. Null for `recorded`. */
  swapIn: SwapSummary | null;
}

/** The recorded decisions of one arm of a split experiment. */
export interface ArmPerformance extends Approvals {
  arm: 'champion' | 'challenger';
}

/** One journey of a swap set, with what became of it when that is known. */
export interface SwapJourney {
  uidRef: string;
  runId: string;
  decidedAt: string;
  policy: 'candidate' | 'shadow';
  /** `out`: approved in reality, not by the policy; `in`: the other way round. */
  direction: 'out' | 'in';
  recorded: Outcome;
  verdict: Outcome;
  performance: Performance | null;
}

export interface PerformanceReport {
  label: Outcomes['label'];
  badDpd: number | null;
  coverage: {
    decided: number;
    /** Decided journeys with an outcome in the file. */
    withOutcome: number;
    rate: number | null;
    /** Rows of the file that match no journey of this backtest (other filters, other deployments). */
    unmatchedRows: number;
  };
  policies: PolicyPerformance[];
  /** Per arm of a split experiment, the recorded decisions' own rates; null when no journey ran one. */
  arms: ArmPerformance[] | null;
  swaps: SwapJourney[];
  rejectInference: string;
}

/** What is read here of a recorded decision (compare.ts's RecordedDecision). */
interface RecordedDecision {
  uidRef: string;
  runId: string;
  decidedAt: string;
  current: { outcome: Outcome; policyVersion: string; experiment?: RecordedExperiment };
}

/** A journey with the candidate's outcome beside its recorded one. */
export interface Judged {
  journey: RecordedDecision;
  candidate: Outcome;
}

type Row = { reality: Outcome; verdict: Outcome; performance: Performance | undefined };

function approvals(rows: Row[]): Approvals {
  const approved = rows.filter((r) => r.verdict === 'APPROVE');
  const known = approved.filter((r) => r.performance);
  const bad = known.filter((r) => r.performance!.bad).length;
  return {
    decided: rows.length,
    approved: approved.length,
    approvalRate: rate(approved.length, rows.length),
    approvedWithOutcome: known.length,
    approvedBad: bad,
    badRate: rate(bad, known.length),
  };
}

function swap(rows: Row[]): SwapSummary {
  const known = rows.filter((r) => r.performance);
  const bad = known.filter((r) => r.performance!.bad).length;
  return { journeys: rows.length, withOutcome: known.length, bad, badRate: rate(bad, known.length) };
}

function policyPerformance(policy: PolicyPerformance['policy'], versions: string[], rows: Row[]): PolicyPerformance {
  const against = policy !== 'recorded';
  return {
    policy,
    versions,
    ...approvals(rows),
    swapOut: against ? swap(rows.filter((r) => r.reality === 'APPROVE' && r.verdict !== 'APPROVE')) : null,
    swapIn: against ? swap(rows.filter((r) => r.reality !== 'APPROVE' && r.verdict === 'APPROVE')) : null,
  };
}

const experimentOf = (j: RecordedDecision): RecordedExperiment | undefined => j.current.experiment;

export function performance(
  judged: readonly Judged[],
  outcomes: Outcomes,
  candidateVersion: string,
): PerformanceReport {
  const known = (j: RecordedDecision) => outcomes.byRef.get(j.uidRef);
  const recordedRows = judged.map(({ journey }) => ({
    reality: journey.current.outcome,
    verdict: journey.current.outcome,
    performance: known(journey),
  }));
  const policies = [
    policyPerformance(
      'recorded',
      [...new Set(judged.map((j) => j.journey.current.policyVersion))].sort(),
      recordedRows,
    ),
    policyPerformance(
      'candidate',
      [candidateVersion],
      judged.map(({ journey, candidate }) => ({
        reality: journey.current.outcome,
        verdict: candidate,
        performance: known(journey),
      })),
    ),
  ];
  const swaps: SwapJourney[] = [];
  const listSwap = (journey: RecordedDecision, policy: SwapJourney['policy'], verdict: Outcome) => {
    const recorded = journey.current.outcome;
    if ((recorded === 'APPROVE') === (verdict === 'APPROVE')) return;
    const { uidRef, runId, decidedAt } = journey;
    const direction = recorded === 'APPROVE' ? 'out' : 'in';
    swaps.push({ uidRef, runId, decidedAt, policy, direction, recorded, verdict, performance: known(journey) ?? null });
  };
  for (const { journey, candidate } of judged) listSwap(journey, 'candidate', candidate);
  const shadowed = judged.filter(({ journey }) => experimentOf(journey)?.shadow);
  if (shadowed.length > 0) {
    policies.push(
      policyPerformance(
        'shadow',
        [...new Set(shadowed.map(({ journey }) => experimentOf(journey)!.shadow!.policyVersion))].sort(),
        shadowed.map(({ journey }) => ({
          reality: journey.current.outcome,
          verdict: experimentOf(journey)!.shadow!.outcome,
          performance: known(journey),
        })),
      ),
    );
    for (const { journey } of shadowed) listSwap(journey, 'shadow', experimentOf(journey)!.shadow!.outcome);
  }
  const inExperiment = judged.filter(({ journey }) => experimentOf(journey));
  const arms =
    inExperiment.length === 0
      ? null
      : (['champion', 'challenger'] as const).map((arm) => ({
          arm,
          ...approvals(recordedRows.filter((_, i) => experimentOf(judged[i]!.journey)?.arm === arm)),
        }));
  const refs = new Set(judged.map(({ journey }) => journey.uidRef));
  const withOutcome = recordedRows.filter((r) => r.performance).length;
  return {
    label: outcomes.label,
    badDpd: outcomes.badDpd,
    coverage: {
      decided: judged.length,
      withOutcome,
      rate: rate(withOutcome, judged.length),
      unmatchedRows: [...outcomes.byRef.keys()].filter((ref) => !refs.has(ref)).length,
    },
    policies,
    arms,
    swaps: swaps.sort((a, b) => a.decidedAt.localeCompare(b.decidedAt)),
    rejectInference: REJECT_INFERENCE,
  };
}
