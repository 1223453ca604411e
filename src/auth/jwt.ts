/**
 * Operators signed in with the lender's identity provider: a JWT verified with `jose` against the
 * provider's JWKS (a URL, fetched with bounds by ./remoteJwks, or a file), with issuer, audience and expiry
 * required. The name is a claim (`sub` by default); the role comes from a claim holding a role name
 * or a list of them (`roles` by default), the highest one counting.
 */
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { AuthFailure, highestRole, type Principal } from './principal';
import { boundedRemoteJwks, JwksUnavailable, type RemoteJwksLimits } from './remoteJwks';

export interface JwtSettings {
  /** `limits` default to JWKS_LIMITS. */
  jwks: { url: string; limits?: RemoteJwksLimits } | { keys: JSONWebKeySet };
  issuer: string;
  audience: string;
  nameClaim: string;
  rolesClaim: string;
}

/** Asymmetric signatures only: a shared-secret algorithm would let a key holder mint tokens. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const CONTROL = /[\p{Cc}\p{Cf}]/u;

/** Seconds of clock skew tolerated between the identity provider and this host. */
const CLOCK_TOLERANCE_S = 30;

export type JwtVerifier = (token: string) => Promise<Principal>;

export function jwtVerifier(settings: JwtSettings): JwtVerifier {
  const keys =
    'url' in settings.jwks
      ? boundedRemoteJwks(new URL(settings.jwks.url), settings.jwks.limits)
      : createLocalJWKSet(settings.jwks.keys);
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: settings.issuer,
        audience: settings.audience,
        requiredClaims: ['exp', settings.nameClaim],
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
      }));
    } catch (err) {
      throw failureOf(err);
    }
    const name = payload[settings.nameClaim];
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200 || CONTROL.test(name))
      throw new AuthFailure(
        'invalid_token',
        `the ${settings.nameClaim} claim must be a name of at most 200 characters, without control characters`,
      );
    const claimed = payload[settings.rolesClaim];
    const role = highestRole(Array.isArray(claimed) ? claimed : [claimed]);
    if (!role)
      throw new AuthFailure('insufficient_role', `the token's ${settings.rolesClaim} claim names no operator role`);
    return { name, role, method: 'jwt' };
  };
}

function failureOf(err: unknown): AuthFailure {
  if (err instanceof errors.JWTExpired) return new AuthFailure('expired_token', 'the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed)
    return new AuthFailure('invalid_token', `the token's ${err.claim} claim is not accepted`);
  // Whatever is not jose's verdict on the token (a refused connection, a DNS failure, a timeout)
  // is about reaching the provider, and can clear. (Not `instanceof Error`: Node's network errors
  // come from another realm under a test runner's sandbox.)
  if (err instanceof JwksUnavailable || err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError))
    return new AuthFailure('jwks_unavailable', 'the identity provider’s keys could not be fetched; retry later');
  return new AuthFailure('invalid_token', 'the token is not a valid signed JWT from the configured identity provider');
}
