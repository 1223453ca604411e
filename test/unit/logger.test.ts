/** Log handles for uids: keyed, so a guessable uid cannot be found by hashing candidates. */
import { createHash } from 'node:crypto';
import { keyUidRefs, uidRef } from '../../src/logger';

test('uidRef refuses to run unkeyed, and is keyed by the deployment secret', () => {
  expect(() => uidRef('APP00012345')).toThrow(/needs a key/);
  keyUidRefs([{ key: Buffer.alloc(32, 1) }]);
  const ref = uidRef('APP00012345');
  expect(ref).toMatch(/^[0-9a-f]{16}$/);
  expect(uidRef('APP00012345')).toBe(ref);
  // Not the unkeyed hash an attacker could compute over every loan number.
  expect(ref).not.toBe(createHash('sha256').update('begini-uid:APP00012345').digest('hex').slice(0, 16));
  expect(ref).not.toBe(createHash('sha256').update('APP00012345').digest('hex').slice(0, 16));
  keyUidRefs([{ key: Buffer.alloc(32, 2) }]);
  expect(uidRef('APP00012345')).not.toBe(ref);
});
