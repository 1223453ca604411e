/** A tokens file with one operator per role, for stacks whose journey API the tests call. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { newToken, tokenDigest } from '../../src/auth/tokensFile';
import type { OperatorRole } from '../../workflows/definitions';
import { TEST_DATA_DIR } from './paths';

export const OPERATORS: Record<OperatorRole, { name: string; token: string }> = {
  viewer: { name: 'vera@lender', token: newToken() },
  reviewer: { name: 'rui@lender', token: newToken() },
  admin: { name: 'ada@lender', token: newToken() },
};

/** The env that enables the journey API for OPERATORS. */
export function operatorsEnv(name: string): { OPERATOR_TOKENS_FILE: string } {
  const path = resolve(TEST_DATA_DIR, `operators-${name}-${process.pid}.yaml`);
  const lines = Object.entries(OPERATORS).map(
    ([role, o]) => `  - name: ${o.name}\n    role: ${role}\n    sha256: ${tokenDigest(o.token).toString('hex')}`,
  );
  writeFileSync(path, `operators:\n${lines.join('\n')}\n`);
  return { OPERATOR_TOKENS_FILE: path };
}
