/**
 * Principal reasons for an adverse-action notice: Regulation B asks for at most four, the most
 * important first. Built from the policy's rules so the text an applicant reads is the lender's.
 */
import { MAX_PRINCIPAL_REASONS, type PrincipalReason } from '../workflows/definitions';
import { NO_RULE_MATCHED, type Policy } from './policy';

/** The texts of the given reason codes, ordered by rule priority (lowest first), capped at four. */
export function principalReasons(policy: Policy, codes: readonly string[]): PrincipalReason[] {
  const wanted = new Set(codes);
  return explainedCodes(policy)
    .filter((r) => wanted.has(r.code) && r.text !== undefined)
    .filter((r, i, all) => all.findIndex((o) => o.code === r.code) === i)
    .sort((a, b) => a.priority - b.priority)
    .slice(0, MAX_PRINCIPAL_REASONS)
    .map((r) => ({ code: r.code, text: r.text as string }));
}

/** Codes a reviewer named that the policy does not know: a reviewer's DECLINE must use the policy's. */
export function unknownReasonCodes(policy: Policy, codes: readonly string[]): string[] {
  const known = new Set(explainedCodes(policy).map((r) => r.code));
  return codes.filter((c) => !known.has(c));
}

/** The policy's rules, and its default (`no_rule_matched`, last) when it has a text. */
function explainedCodes(policy: Policy): Array<{ code: string; text?: string; priority: number }> {
  const fallback = policy.defaultText
    ? [{ code: NO_RULE_MATCHED, text: policy.defaultText, priority: Number.MAX_SAFE_INTEGER }]
    : [];
  return [...policy.rules, ...fallback];
}
