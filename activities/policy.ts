/**
 * The lender's decision policy: configuration, validated at worker start, evaluated by a pure
 * function. Begini publishes no enumerations, so bands and confidences here are whatever the
 * lender's file says; nothing in code knows what "B" means.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, issuesOf } from '../src/config/errors';
import { durationSchema } from '../src/duration';
import {
  FINAL_OUTCOMES,
  OUTCOMES,
  REASON_CODE,
  type ApplicationStatus,
  type DecisionTrigger,
  type FinalOutcome,
  type Outcome,
  type PolicyExperiment,
  type PrincipalReason,
  type ScoreFacts,
} from '../workflows/definitions';

const outcome = z.enum(OUTCOMES);
const strings = z.array(z.string().min(1)).min(1);

const condition = z.strictObject({
  /** Why the journey stopped waiting: cancelled, incomplete, expired_no_score, grace_elapsed, … */
  trigger: strings.optional(),
  noScore: z.boolean().optional(),
  malformed: z.boolean().optional(),
  /** Required score kinds that never arrived. */
  missingScore: strings.optional(),
  /** Which score the score conditions below read; psychometric unless said. */
  scoreKind: z.string().min(1).default('psychometric'),
  scoreAtLeast: z.number().optional(),
  scoreAtMost: z.number().optional(),
  riskBandIn: strings.optional(),
  scoreConfidenceIn: strings.optional(),
  trait: z.strictObject({ key: z.string().min(1), riskBandIn: strings }).optional(),
  permissionsDeniedAnyOf: strings.optional(),
  permissionsGrantedAllOf: strings.optional(),
});

/**
 * A rule names its reason by `code` (for machines) and `text` (applicant-facing, for an adverse-action
 * notice); `priority` orders principal reasons, lowest first. The older `reason` field is still read as
 * the code so lenders' existing policy files keep loading.
 */
const rule = z.preprocess(
  (raw) => {
    if (raw && typeof raw === 'object' && 'reason' in raw && !('code' in raw)) {
      const { reason, ...rest } = raw as Record<string, unknown>;
      return { ...rest, code: reason };
    }
    return raw;
  },
  z.strictObject({
    code: z.string().regex(REASON_CODE, 'must be letters, digits, _ . : or -, at most 100'),
    text: z.string().min(1).optional(),
    priority: z.number().int().default(100),
    outcome,
    when: condition,
  }),
);

export const policySchema = z
  .strictObject({
    version: z.string().min(1),
    /** When no rule matches (reason code `no_rule_matched`). */
    defaultOutcome: outcome,
    /** The applicant-facing text of `no_rule_matched`: required when the default can decline. */
    defaultText: z.string().min(1).optional(),
    review: z.strictObject({
      deadline: durationSchema,
      /** What a referred journey becomes when no reviewer acts before the deadline. */
      fallback: z.enum(FINAL_OUTCOMES),
    }),
    rules: z.array(rule),
  })
  .superRefine((policy, ctx) => {
    // A decline must be explainable to the applicant, including one a lapsed referral falls back to.
    const declines = (o: Outcome) => o === 'DECLINE' || (o === 'REFER' && policy.review.fallback === 'DECLINE');
    if (declines(policy.defaultOutcome) && !policy.defaultText) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultText'],
        message: `the default outcome ${policy.defaultOutcome} can decline but has no text`,
      });
    }
    policy.rules.forEach((r, i) => {
      if (declines(r.outcome) && !r.text) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'text'],
          message: `rule ${r.code} can decline but has no text`,
        });
      }
    });
  });

export type Policy = z.infer<typeof policySchema>;
type Condition = z.infer<typeof condition>;

export interface PolicyInput {
  trigger: DecisionTrigger;
  application: ApplicationStatus;
  scores: Record<string, ScoreFacts>;
  requiredScores: string[];
  malformed: boolean;
}

export interface PolicyDecision {
  outcome: Outcome;
  reasons: string[];
  policyVersion: string;
  /** Set when the outcome is REFER. */
  review: { deadlineMs: number; fallback: FinalOutcome } | null;
}

/**
 * What the policy activity returns: the decision and the input it was made on. A local activity's
 * marker records only its result, so the input rides along for the audit and the backtest.
 */
export interface PolicyEvaluation extends PolicyDecision {
  input: PolicyInput;
  /** The texts of `reasons` for a notice. Absent in evaluations recorded before they existed. */
  principalReasons?: PrincipalReason[];
  /** sha256 of the policy's canonical content (activities/policySource.ts). Absent in older ones. */
  policySha256?: string;
  /** The champion/challenger assignment, when the worker ran a challenger (activities/experiment.ts). */
  experiment?: PolicyExperiment;
}

/** A policy file the worker refuses: it names the file, and every problem in it. */
export class PolicyConfigError extends ConfigError {
  constructor(source: string, problems: string[]) {
    super(problems, 'invalid_policy', `policy ${source}`);
  }
}

export function loadPolicy(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyConfigError(path, [(err as Error).message]);
  }
  return parsePolicy(text, path);
}

/** A policy file's text (YAML, or JSON) validated in full; `source` names it in the error. */
export function parsePolicy(text: string, source: string): Policy {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new PolicyConfigError(source, [(err as Error).message]);
  }
  const result = policySchema.safeParse(raw);
  if (!result.success) {
    throw new PolicyConfigError(source, issuesOf(result.error));
  }
  return result.data;
}

/** The reason code of a decision no rule made: the policy's `defaultOutcome`, explained by `defaultText`. */
export const NO_RULE_MATCHED = 'no_rule_matched';

const SEVERITY: Record<Outcome, number> = { APPROVE: 0, REFER: 1, DECLINE: 2 };

/** Every rule is checked; the most severe matching outcome wins, with the reasons that gave it. */
export function evaluatePolicy(policy: Policy, input: PolicyInput): PolicyDecision {
  const matched = policy.rules.filter((r) => matches(r.when, input));
  let outcome: Outcome = policy.defaultOutcome;
  let reasons = [NO_RULE_MATCHED];
  if (matched.length > 0) {
    outcome = matched.reduce<Outcome>(
      (worst, r) => (SEVERITY[r.outcome] > SEVERITY[worst] ? r.outcome : worst),
      'APPROVE',
    );
    reasons = matched.filter((r) => r.outcome === outcome).map((r) => r.code);
  }
  return {
    outcome,
    reasons,
    policyVersion: policy.version,
    review: outcome === 'REFER' ? { deadlineMs: policy.review.deadline, fallback: policy.review.fallback } : null,
  };
}

function matches(when: Condition, input: PolicyInput): boolean {
  const checks: boolean[] = [];
  const noScore = !input.requiredScores.some((kind) => input.scores[kind]);
  if (when.trigger) checks.push(when.trigger.includes(input.trigger));
  if (when.noScore !== undefined) checks.push(when.noScore === noScore);
  if (when.malformed !== undefined) checks.push(when.malformed === input.malformed);
  if (when.missingScore) checks.push(when.missingScore.some((kind) => !input.scores[kind]));

  const usesScore =
    when.scoreAtLeast !== undefined ||
    when.scoreAtMost !== undefined ||
    when.riskBandIn ||
    when.scoreConfidenceIn ||
    when.trait ||
    when.permissionsDeniedAnyOf ||
    when.permissionsGrantedAllOf;
  if (usesScore) {
    const score = input.scores[when.scoreKind];
    if (!score) return false;
    if (when.scoreAtLeast !== undefined) checks.push(score.score >= when.scoreAtLeast);
    if (when.scoreAtMost !== undefined) checks.push(score.score <= when.scoreAtMost);
    if (when.riskBandIn) checks.push(when.riskBandIn.includes(score.riskBand));
    if (when.scoreConfidenceIn)
      checks.push(score.scoreConfidence !== null && when.scoreConfidenceIn.includes(score.scoreConfidence));
    if (when.trait) {
      const { key, riskBandIn } = when.trait;
      checks.push(score.traits.some((t) => t.key === key && t.riskBand !== null && riskBandIn.includes(t.riskBand)));
    }
    if (when.permissionsDeniedAnyOf)
      checks.push(when.permissionsDeniedAnyOf.some((p) => score.permissionsDenied.includes(p)));
    if (when.permissionsGrantedAllOf)
      checks.push(when.permissionsGrantedAllOf.every((p) => score.permissionsGranted.includes(p)));
  }
  // A rule with no conditions would match everything; the schema allows it as an explicit catch-all.
  return checks.every(Boolean);
}
