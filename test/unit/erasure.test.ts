/**
 * The pure pieces of erasure: which refused bodies name the uid, the refs a tombstone is looked up
 * under across a codec key rotation, the CLI's refusals before it opens anything, and what the
 * route answers for each failure.
 */
import { keyUidRefs, uidRef, uidRefsUnderEveryKey } from '../../src/logger';
import { bodyNamesUid, ErasureError } from '../../src/operator/erase';
import { eraseCli } from '../../src/operator/eraseCli';
import { erasureRejection } from '../../src/receiver/eraseRoute';
import { Rejection } from '../../src/receiver/rejection';
import { delivery, TEST_CODEC_KEYS, TEST_KEY } from '../support/begini';

const body = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

test('a refused body names the uid only as its envelope uid', () => {
  expect(bodyNamesUid(body(delivery('application.complete', 'APP-1')), 'APP-1')).toBe(true);
  expect(bodyNamesUid(body(delivery('application.complete', 'APP-12')), 'APP-1')).toBe(false);
  // Named elsewhere in the body is not the applicant's envelope.
  expect(bodyNamesUid(body({ uid: 'OTHER', details: { uid: 'APP-1' } }), 'APP-1')).toBe(false);
  for (const junk of ['not json', 'null', '["APP-1"]', '"APP-1"'])
    expect(bodyNamesUid(body(junk), 'APP-1')).toBe(false);
  expect(bodyNamesUid(Buffer.from([0xff, 0xfe]), 'APP-1')).toBe(false);
});

test('a tombstone written before a codec key rotation is still looked up under the old key', () => {
  const [old, next] = [{ key: Buffer.alloc(32, 1) }, { key: Buffer.alloc(32, 2) }];
  keyUidRefs([old]);
  const before = uidRef('APP-1');
  expect(uidRefsUnderEveryKey('APP-1')).toEqual([before]);
  keyUidRefs([next, old]);
  const refs = uidRefsUnderEveryKey('APP-1');
  expect(refs).toEqual([uidRef('APP-1'), before]);
  expect(refs[0]).not.toBe(before);
});

describe('npm run erase refuses before opening anything', () => {
  const env = { BEGINI_API_KEY: TEST_KEY, PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS };
  const run = async (argv: string[], environment: Record<string, string> = env) => {
    const printed: string[] = [];
    const { exitCode } = await eraseCli(argv, environment, (line) => printed.push(line));
    return { exitCode, printed: printed.join('\n') };
  };

  test('a wrong command line is EX_USAGE', async () => {
    expect(await run(['--uid', 'APP-1'])).toMatchObject({ exitCode: 64, printed: expect.stringContaining('--reason') });
    expect(await run(['--uid', 'APP-1', '--reason', '  '])).toMatchObject({ exitCode: 64 });
    expect(await run(['--reason', 'r'])).toMatchObject({ exitCode: 64 });
    expect(await run(['--uid', 'APP-1', '--reason', 'r', '--force'])).toMatchObject({ exitCode: 64 });
  });

  test('no SPOOL_DATABASE_URL, or an invalid configuration, is EX_CONFIG with its reason', async () => {
    expect(await run(['--uid', 'APP-1', '--reason', 'r'])).toMatchObject({
      exitCode: 78,
      printed: expect.stringContaining('erasure_needs_database'),
    });
    expect(await run(['--uid', 'APP-1', '--reason', 'r'], { PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS })).toMatchObject({
      exitCode: 78,
      printed: expect.stringContaining('invalid configuration'),
    });
  });
});

test('what an erasure that failed answers: only the missing database is final', () => {
  const needs = erasureRejection(new ErasureError('erasure_needs_database', 'no database'));
  expect(needs).toMatchObject({ status: 409, reason: 'erasure_needs_database' });
  const incomplete = erasureRejection(new ErasureError('erasure_incomplete', 'runs left'));
  expect(incomplete).toMatchObject({ status: 503, reason: 'erasure_incomplete', headers: { 'retry-after': '5' } });
  // A database or Temporal that did not answer can clear: erase again.
  expect(erasureRejection(new Error('connect ECONNREFUSED'))).toMatchObject({
    status: 503,
    reason: 'erasure_unavailable',
  });
  // A fault of ours stays one (a 500), never blamed on the database.
  const bug = new TypeError('x is undefined');
  expect(erasureRejection(bug)).toBe(bug);
  expect(erasureRejection(new Error('x'))).toBeInstanceOf(Rejection);
});
