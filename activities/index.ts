import { Context } from '@temporalio/activity';
import type { Logger } from '../src/logger';
import type { HandoffRequest } from '../workflows/handoffRequests';
import { handOff, type HandoffTarget } from './handoff';
import { evaluatePolicy, type PolicyEvaluation, type PolicyInput } from './policy';
import type { PolicySource } from './policySource';
import { principalReasons, unknownReasonCodes } from './principalReasons';
import type { PrincipalReason } from '../workflows/definitions';

export type { HandoffResult, HandoffTarget } from './handoff';
export type { HandoffRequest } from '../workflows/handoffRequests';
export type { Policy, PolicyDecision, PolicyEvaluation, PolicyInput } from './policy';

export interface ActivityDeps {
  /** The policy in force at each call: a reload takes effect for the next decision. */
  policies: PolicySource;
  handoff: HandoffTarget | null;
  logger: Logger;
}

export function createActivities({ policies, handoff, logger }: ActivityDeps) {
  return {
    // An activity, not workflow code, so a policy change never breaks replay of open journeys.
    async evaluatePolicy(input: PolicyInput): Promise<PolicyEvaluation> {
      const { policy, sha256 } = policies.active();
      const decision = evaluatePolicy(policy, input);
      return {
        ...decision,
        policySha256: sha256,
        principalReasons: principalReasons(policy, decision.reasons),
        input,
      };
    },
    /** A reviewer's reason codes in the policy's words; `unknown` lists codes the policy lacks. */
    async explainReasons(codes: string[]): Promise<{ principalReasons: PrincipalReason[]; unknown: string[] }> {
      const { policy } = policies.active();
      return { principalReasons: principalReasons(policy, codes), unknown: unknownReasonCodes(policy, codes) };
    },
    async handOff(request: HandoffRequest) {
      return handOff(handoff, request, logger, Context.current().cancellationSignal);
    },
  };
}

export type JourneyActivities = ReturnType<typeof createActivities>;
