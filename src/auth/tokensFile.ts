/**
 * Named operator tokens for teams without an identity provider: a YAML file of
 * `{ name, role, sha256 }`, holding only each token's SHA-256.
 *
 * Why SHA-256 and not a password hash: the tokens are 256 random bits (`npm run operator-token`
 * makes them), so the file, if stolen, gives nothing to guess: a slow hash (scrypt, argon2) only
 * helps against low-entropy secrets such as passwords, and would make every API request pay for it.
 * A short or reused secret must not be put in the file; the generator is the way in.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { OPERATOR_ROLES } from '../../workflows/definitions';
import { AuthFailure, type Principal } from './principal';

const CONTROL = /[\p{Cc}\p{Cf}]/u;

export const tokensFileSchema = z.strictObject({
  operators: z
    .array(
      z.strictObject({
        name: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .refine((v) => !CONTROL.test(v), 'must not contain control characters'),
        role: z.enum(OPERATOR_ROLES),
        sha256: z
          .string()
          .regex(/^[0-9a-f]{64}$/, 'must be the lowercase hex SHA-256 of the token (npm run operator-token prints it)'),
      }),
    )
    .min(1, 'lists no operator'),
});

export interface OperatorToken {
  name: string;
  role: Principal['role'];
  sha256: Buffer;
}

/** The file's tokens, or the problems that must stop the receiver from starting. */
export function readTokensFile(path: string): { tokens: OperatorToken[]; problems: string[] } {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    return { tokens: [], problems: [`OPERATOR_TOKENS_FILE ${path}: ${(err as Error).message.split('\n')[0]}`] };
  }
  const parsed = tokensFileSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      tokens: [],
      problems: parsed.error.issues.map(
        (i) => `OPERATOR_TOKENS_FILE ${path}: ${i.path.join('.') || '(root)'}: ${i.message}`,
      ),
    };
  }
  const problems: string[] = [];
  const names = new Set<string>();
  const hashes = new Set<string>();
  for (const entry of parsed.data.operators) {
    if (names.has(entry.name)) problems.push(`OPERATOR_TOKENS_FILE ${path}: ${entry.name} is listed twice`);
    if (hashes.has(entry.sha256))
      problems.push(`OPERATOR_TOKENS_FILE ${path}: ${entry.name} shares a token with another operator`);
    names.add(entry.name);
    hashes.add(entry.sha256);
  }
  return {
    tokens: parsed.data.operators.map((o) => ({ name: o.name, role: o.role, sha256: Buffer.from(o.sha256, 'hex') })),
    problems,
  };
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Compares against every entry in constant time, so timing says nothing about which one matched. */
export function verifyToken(tokens: readonly OperatorToken[], presented: string): Principal {
  const digest = tokenDigest(presented);
  let found: OperatorToken | undefined;
  for (const entry of tokens) {
    if (timingSafeEqual(digest, entry.sha256) && !found) found = entry;
  }
  if (!found) throw new AuthFailure('invalid_token', 'the token is not one of the configured operator tokens');
  return { name: found.name, role: found.role, method: 'token' };
}

/** 32 random bytes, base64url, with a prefix that says what it is (and lets secret scanners find it). */
export function newToken(): string {
  return `bop_${randomBytes(32).toString('base64url')}`;
}
