import { Context } from '@temporalio/activity';
import { uidRef, type Logger } from '../src/logger';
import type { HandoffRequest } from '../workflows/handoffRequests';
import { handOff, type HandoffTarget } from './handoff';
import { decideBy, decideInExperiment, type Challenger } from './experiment';
import type { PolicyEvaluation, PolicyInput } from './policy';
import type { PolicySource } from './policySource';
import { principalReasons, unknownReasonCodes } from './principalReasons';
import type { PolicyArm, PrincipalReason } from '../workflows/definitions';

export type { HandoffResult, HandoffTarget } from './handoff';
export type { HandoffRequest } from '../workflows/handoffRequests';
export type { Policy, PolicyDecision, PolicyEvaluation, PolicyInput } from './policy';
export type { Challenger } from './experiment';

export interface ActivityDeps {
  /** The policy in force at each call: a reload takes effect for the next decision. */
  policies: PolicySource;
  /** A challenger policy run beside the champion (activities/experiment.ts); none by default. */
  challenger?: Challenger | null;
  handoff: HandoffTarget | null;
  logger: Logger;
}

export function createActivities({ policies, challenger = null, handoff, logger }: ActivityDeps) {
  /** The policy a journey's arm decides by; a challenger since removed leaves the champion. */
  const policyOf = (arm: PolicyArm | undefined) =>
    (arm === 'challenger' && challenger ? challenger.policies : policies).active();
  return {
    // An activity, not workflow code, so a policy change never breaks replay of open journeys.
    // `subject` names the applicant for the challenger's assignment; callers without it get the champion.
    async evaluatePolicy(input: PolicyInput, subject?: { uid: string }): Promise<PolicyEvaluation> {
      const champion = policies.active();
      if (challenger && subject) {
        const { decision, experiment } = decideInExperiment(champion, challenger, uidRef(subject.uid), input);
        return { ...decision, experiment, input };
      }
      return { ...decideBy(champion, input), input };
    },
    /**
     * A reviewer's reason codes in the words of the policy that decided (`arm`); `unknown` lists
     * codes that policy lacks.
     */
    async explainReasons(
      codes: string[],
      arm?: PolicyArm,
    ): Promise<{ principalReasons: PrincipalReason[]; unknown: string[] }> {
      const { policy } = policyOf(arm);
      return { principalReasons: principalReasons(policy, codes), unknown: unknownReasonCodes(policy, codes) };
    },
    async handOff(request: HandoffRequest) {
      return handOff(handoff, request, logger, Context.current().cancellationSignal);
    },
  };
}

export type JourneyActivities = ReturnType<typeof createActivities>;
