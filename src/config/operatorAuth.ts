/**
 * Who may use the journey API (src/auth): operators authenticate as themselves, with named tokens
 * (OPERATOR_TOKENS_FILE), an identity provider's JWTs (OPERATOR_JWKS_*, OPERATOR_JWT_*), or both.
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { z } from 'zod';
import type { OperatorAuthSettings } from '../auth/authenticator';
import { readTokensFile } from '../auth/tokensFile';
import { issuesOf } from './errors';

export const operatorAuthEnvSchema = z.object({
  OPERATOR_TOKENS_FILE: z.string().min(1).optional(),
  // Whoever can alter the key fetch can mint admin tokens: https, or plain http on loopback only.
  OPERATOR_JWKS_URL: z
    .url({ protocol: /^https?$/ })
    .refine(
      (url) => url.startsWith('https:') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(url),
      'must be https (plain http only on loopback)',
    )
    .optional(),
  OPERATOR_JWKS_FILE: z.string().min(1).optional(),
  OPERATOR_JWT_ISSUER: z.string().min(1).optional(),
  OPERATOR_JWT_AUDIENCE: z.string().min(1).optional(),
  OPERATOR_JWT_NAME_CLAIM: z.string().min(1).default('sub'),
  OPERATOR_JWT_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** Replaced by named principals; set, it stops the receiver rather than silently closing the API. */
  OPERATOR_API_TOKEN: z.string().optional(),
});
type OperatorAuthEnv = z.infer<typeof operatorAuthEnvSchema>;

/**
 * Nothing configured: no API (null). Anything half-configured or unreadable goes to `problems`,
 * which stop the receiver: never an API that is silently open or silently off.
 */
export function operatorAuthOf(e: OperatorAuthEnv, problems: string[]): OperatorAuthSettings | null {
  if (e.OPERATOR_API_TOKEN !== undefined) {
    problems.push(
      'OPERATOR_API_TOKEN is no longer read: operators authenticate as themselves, with OPERATOR_TOKENS_FILE (npm run operator-token) or OPERATOR_JWKS_URL / OPERATOR_JWKS_FILE (see docs/configuration.md)',
    );
  }
  let tokens: OperatorAuthSettings['tokens'] = null;
  if (e.OPERATOR_TOKENS_FILE) {
    const read = readTokensFile(e.OPERATOR_TOKENS_FILE);
    problems.push(...read.problems);
    tokens = read.tokens;
  }
  let jwt: OperatorAuthSettings['jwt'] = null;
  const jwtAsked = [e.OPERATOR_JWKS_URL, e.OPERATOR_JWKS_FILE, e.OPERATOR_JWT_ISSUER, e.OPERATOR_JWT_AUDIENCE].some(
    (v) => v !== undefined,
  );
  if (jwtAsked) {
    if ((e.OPERATOR_JWKS_URL === undefined) === (e.OPERATOR_JWKS_FILE === undefined))
      problems.push('operator JWTs need exactly one of OPERATOR_JWKS_URL or OPERATOR_JWKS_FILE');
    if (!e.OPERATOR_JWT_ISSUER) problems.push('operator JWTs need OPERATOR_JWT_ISSUER (the identity provider’s iss)');
    if (!e.OPERATOR_JWT_AUDIENCE) problems.push('operator JWTs need OPERATOR_JWT_AUDIENCE (this API’s aud)');
    const keys = e.OPERATOR_JWKS_FILE ? readJwksFile(e.OPERATOR_JWKS_FILE, problems) : null;
    if (e.OPERATOR_JWT_ISSUER && e.OPERATOR_JWT_AUDIENCE && (e.OPERATOR_JWKS_URL || keys)) {
      jwt = {
        jwks: e.OPERATOR_JWKS_URL ? { url: e.OPERATOR_JWKS_URL } : { keys: keys! },
        issuer: e.OPERATOR_JWT_ISSUER,
        audience: e.OPERATOR_JWT_AUDIENCE,
        nameClaim: e.OPERATOR_JWT_NAME_CLAIM,
        rolesClaim: e.OPERATOR_JWT_ROLES_CLAIM,
      };
    }
  }
  return tokens || jwt ? { tokens, jwt } : null;
}

const jwksFileSchema = z.object({
  keys: z
    .array(z.looseObject({ kty: z.string() }))
    .min(1, 'holds no key')
    .refine((keys) => keys.every((k) => k.d === undefined), 'must hold public keys only')
    // A symmetric key would let anyone who reads this file sign tokens.
    .refine((keys) => keys.every((k) => k.kty !== 'oct' && k.k === undefined), 'must hold no symmetric (oct) key'),
});

function readJwksFile(path: string, problems: string[]): JSONWebKeySet | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`OPERATOR_JWKS_FILE ${path}: ${(err as Error).message.split('\n')[0]}`);
    return null;
  }
  const parsed = jwksFileSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...issuesOf(parsed.error).map((p) => `OPERATOR_JWKS_FILE ${path}: ${p}`));
    return null;
  }
  return parsed.data as JSONWebKeySet;
}
