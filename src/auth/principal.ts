/** Who an operator is once authenticated, what their role allows, and how a request is refused. */
import { OPERATOR_ROLES, type OperatorRole } from '../../workflows/definitions';
import { IntegrationError } from '../errors';

export interface Principal {
  /** The token's name in the tokens file, or the JWT's name claim (`sub` by default). */
  name: string;
  role: OperatorRole;
  /** How they proved it. */
  method: 'token' | 'jwt';
}

/** Roles include the ones below them: an admin may review, a reviewer may read. */
export function allows(role: OperatorRole, needed: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(needed);
}

/** The highest role among claimed values; unknown values are ignored. */
export function highestRole(claimed: readonly unknown[]): OperatorRole | null {
  let best: OperatorRole | null = null;
  for (const value of claimed) {
    const role = OPERATOR_ROLES.find((r) => r === value);
    if (role && (best === null || allows(role, best))) best = role;
  }
  return best;
}

export type AuthFailureReason =
  'missing_credentials' | 'invalid_token' | 'expired_token' | 'insufficient_role' | 'jwks_unavailable';

/** A refused credential: 401 (who are you?), 403 (not allowed), 503 (the identity provider's keys are out of reach). */
export class AuthFailure extends IntegrationError<AuthFailureReason> {
  get status(): 401 | 403 | 503 {
    if (this.reason === 'insufficient_role') return 403;
    if (this.reason === 'jwks_unavailable') return 503;
    return 401;
  }
}
