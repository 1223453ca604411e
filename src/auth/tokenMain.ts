/**
 * `npm run operator-token -- <name> <role>`: a new operator token, printed once, and the line for
 * OPERATOR_TOKENS_FILE, which holds only its SHA-256.
 */
import { OPERATOR_ROLES } from '../../workflows/definitions';
import { EXIT } from '../failures';
import { newToken, tokenDigest, tokensFileSchema } from './tokensFile';

const [name, role] = process.argv.slice(2);
const entry = tokensFileSchema.shape.operators.element.safeParse({ name, role, sha256: '0'.repeat(64) });
if (!entry.success) {
  console.error(`usage: npm run operator-token -- <name> <${OPERATOR_ROLES.join('|')}>`);
  process.exit(EXIT.usage);
}
const token = newToken();
console.log(`token for ${entry.data.name} (give it to them; it is not stored anywhere):\n\n  ${token}\n`);
console.log(`add to OPERATOR_TOKENS_FILE under operators:\n`);
console.log(
  `  - name: ${JSON.stringify(entry.data.name)}\n    role: ${entry.data.role}\n    sha256: ${tokenDigest(token).toString('hex')}`,
);
