/**
 * Champion/challenger. The arm is a pure function of the applicant's uidRef and the share, so a
 * retried evaluation, a replay and a redelivery all land in the same arm, and raising the share
 * from 10 to 20 % keeps the first 10 % where they were (a bucket below the old share is below the
 * new one). uidRef is an HMAC under the deployment's key, so an applicant cannot pick their arm.
 */
import {
  EXPERIMENT_BUCKETS,
  type ExperimentMode,
  type PolicyArm,
  type PolicyExperiment,
  type PolicyRef,
} from '../workflows/definitions';
import { evaluatePolicy, type PolicyDecision, type PolicyInput } from './policy';
import type { ActivePolicy, PolicySource } from './policySource';
import { principalReasons } from './principalReasons';

export interface Challenger {
  policies: PolicySource;
  /** Percent of new journeys the challenger decides (split mode). */
  share: number;
  mode: ExperimentMode;
}

/** A policy's decision on one input, explained in its own words and named by its content hash. */
export type ExplainedDecision = PolicyDecision & {
  principalReasons: ReturnType<typeof principalReasons>;
  policySha256: string;
};

/** The uidRef's bucket, 0 ≤ bucket < 100: a uidRef is HMAC output in hex, so its digits are uniform. */
export function bucketOf(uidRef: string): number {
  return Number.parseInt(uidRef.slice(0, 8), 16) % EXPERIMENT_BUCKETS;
}

export function armFor(bucket: number, share: number, mode: ExperimentMode): PolicyArm {
  return mode === 'split' && bucket < share ? 'challenger' : 'champion';
}

export function decideBy({ policy, sha256 }: ActivePolicy, input: PolicyInput): ExplainedDecision {
  const decision = evaluatePolicy(policy, input);
  return { ...decision, policySha256: sha256, principalReasons: principalReasons(policy, decision.reasons) };
}

const refOf = ({ policy, sha256 }: ActivePolicy): PolicyRef => ({ version: policy.version, sha256 });

/**
 * Decides by the arm's policy and records the assignment with both policies' hashes; in shadow mode
 * the challenger's verdict rides beside the champion's decision, which alone is acted on.
 */
export function decideInExperiment(
  champion: ActivePolicy,
  challenger: Challenger,
  uidRef: string,
  input: PolicyInput,
): { decision: ExplainedDecision; experiment: PolicyExperiment } {
  const contender = challenger.policies.active();
  const bucket = bucketOf(uidRef);
  const arm = armFor(bucket, challenger.share, challenger.mode);
  const decision = decideBy(arm === 'challenger' ? contender : champion, input);
  const experiment: PolicyExperiment = {
    arm,
    mode: challenger.mode,
    share: challenger.share,
    bucket,
    champion: refOf(champion),
    challenger: refOf(contender),
  };
  if (challenger.mode === 'shadow') {
    const { outcome, reasons, principalReasons, policyVersion, policySha256 } = decideBy(contender, input);
    experiment.shadow = { outcome, reasons, principalReasons, policyVersion, policySha256 };
  }
  return { decision, experiment };
}
