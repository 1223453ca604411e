import { Context } from '@temporalio/activity';
import type { Logger } from '../src/logger';
import type { HandoffRequest } from '../workflows/handoffRequests';
import { handOff, type HandoffTarget } from './handoff';
import { evaluatePolicy, type Policy, type PolicyEvaluation, type PolicyInput } from './policy';

export type { HandoffResult, HandoffTarget } from './handoff';
export type { HandoffRequest } from '../workflows/handoffRequests';
export type { Policy, PolicyDecision, PolicyEvaluation, PolicyInput } from './policy';

export interface ActivityDeps {
  policy: Policy;
  handoff: HandoffTarget | null;
  logger: Logger;
}

export function createActivities({ policy, handoff, logger }: ActivityDeps) {
  return {
    // An activity, not workflow code, so a policy change never breaks replay of open journeys.
    async evaluatePolicy(input: PolicyInput): Promise<PolicyEvaluation> {
      return { ...evaluatePolicy(policy, input), input };
    },
    async handOff(request: HandoffRequest) {
      return handOff(handoff, request, logger, Context.current().cancellationSignal);
    },
  };
}

export type JourneyActivities = ReturnType<typeof createActivities>;
