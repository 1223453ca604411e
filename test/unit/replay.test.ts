/**
 * Recorded histories (test/fixtures/histories, written by `RECORD_HISTORIES=1 npm run
 * test:workflow` and `RECORD_HISTORIES=1 npx jest --selectProjects integration
 * test/integration/journey.test.ts`) replayed against today's workflow
 * code, bundled in memory once for the file: no server, no build, never a stale bundle. A change
 * that is not deterministic, or not behind `patched()`, fails here. The top folder holds journeys
 * recorded before the `one-publish-per-task` patch (issue #16); `one-publish-per-task/` the same
 * journeys recorded after it, moved there by hand; `decision-durable-before-handoff/` journeys
 * recorded after that patch (issue #20), likewise. `review-closes-at-deadline/` holds reviews
 * recorded by test/integration/reviewDeadline.test.ts around that patch (issue #20), and one late
 * review accepted before it, recorded with the deadline check removed. `applicant-rights/` holds
 * journeys recorded by test/workflow/journeyTimers.test.ts since decisions give principal reasons
 * (issue #23): a reviewer's codes explained by the worker's policy, a fallback with the referral's,
 * a delivered decision reopened and reviewed anew. `policy-experiment/` holds journeys recorded by
 * test/integration/challenger.test.ts with a challenger running (issue #24); its `before-patch/` one
 * was recorded with the patch's branch removed, as an older worker's code would have run it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { parseCodecKeys, type AesGcmCodec } from '../../src/codec/aesGcm';
import { payloadCodec } from '../../src/codec/payloadCodec';
import { workflowBundleCode } from '../../src/worker/bundle';
import { TEST_CODEC_KEYS } from '../support/begini';
import { HISTORY_FIXTURES } from '../support/paths';

// Encrypted histories, and ones recorded before payload encryption was on: both must replay.
const PATCHED = 'one-publish-per-task';
const DURABLE = 'decision-durable-before-handoff';
const REVIEW_PATCH = 'review-closes-at-deadline';
const RIGHTS = 'applicant-rights';
const EXPERIMENT = 'policy-experiment';
const files = [
  '.',
  PATCHED,
  DURABLE,
  REVIEW_PATCH,
  RIGHTS,
  EXPERIMENT,
  `${EXPERIMENT}/before-patch`,
  'before-encryption',
]
  .flatMap((dir) =>
    readdirSync(resolve(HISTORY_FIXTURES, dir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => `${dir}/${f}`),
  )
  .sort();
const encrypted = files.filter((f) => !f.startsWith('before-encryption/'));
const patchedRecordings = files.filter((f) => f.startsWith(`${PATCHED}/`));
const durableRecordings = files.filter((f) => f.startsWith(`${DURABLE}/`));
const patchMarker = (id: string) => Buffer.from(JSON.stringify({ id, deprecated: false })).toString('base64');
const beforeEncryption = files.filter((f) => f.startsWith('before-encryption/'));

const keys = parseCodecKeys(TEST_CODEC_KEYS);
// What a worker runs with: plaintext refused.
const workerCodec = () => payloadCodec({ codecKeys: keys });
// The documented migration allowance, as a deployment still reading pre-encryption histories sets it.
const migratingCodec = () =>
  payloadCodec({ codecKeys: keys, acceptPlaintextUntil: new Date(Date.now() + 24 * 3_600_000) });

// Bundling is most of this file's time: once, not once per replay.
let workflowBundle: { code: string };
beforeAll(async () => {
  workflowBundle = { code: await workflowBundleCode() };
});

/** One replay worker per call: `runReplayHistories` takes a single data converter. */
async function replay(
  list: readonly string[],
  codec: AesGcmCodec,
): Promise<{ replayed: string[]; failures: Map<string, string> }> {
  async function* histories() {
    for (const file of list) {
      yield {
        workflowId: file,
        history: historyFromJSON(JSON.parse(readFileSync(resolve(HISTORY_FIXTURES, file), 'utf8'))),
      };
    }
  }
  const replayed: string[] = [];
  const failures = new Map<string, string>();
  for await (const result of Worker.runReplayHistories(
    { workflowBundle, dataConverter: { payloadCodecs: [codec] } },
    histories(),
  )) {
    replayed.push(result.workflowId);
    if (result.error) failures.set(result.workflowId, result.error.message);
  }
  return { replayed, failures };
}

test('there are enough recorded histories to mean something', () => {
  expect(encrypted.length).toBeGreaterThanOrEqual(5);
  expect(beforeEncryption.length).toBeGreaterThanOrEqual(5);
});

test('journeys recorded before and after the one-publish-per-task patch both replay, and the new ones use it', () => {
  expect(patchedRecordings.length).toBeGreaterThanOrEqual(10);
  for (const file of patchedRecordings) {
    const json = readFileSync(resolve(HISTORY_FIXTURES, file), 'utf8');
    const before = readFileSync(resolve(HISTORY_FIXTURES, file.replace(`${PATCHED}/`, '')), 'utf8');
    const patchData = patchMarker(PATCHED);
    // Every journey that gets past its first workflow task carries the patch marker; none of the old ones does.
    if (!file.endsWith('/after-close.json')) expect(json).toContain(patchData);
    expect(before).not.toContain(patchData);
  }
});

test('journeys recorded after the decision-durable-before-handoff patch use it, and none recorded before it does', () => {
  expect(durableRecordings.length).toBeGreaterThanOrEqual(1);
  for (const file of durableRecordings)
    expect(readFileSync(resolve(HISTORY_FIXTURES, file), 'utf8')).toContain(patchMarker(DURABLE));
  for (const file of patchedRecordings)
    expect(readFileSync(resolve(HISTORY_FIXTURES, file), 'utf8')).not.toContain(patchMarker(DURABLE));
});

test('a late review accepted before the review-closes-at-deadline patch replays as it was; reviews after it carry its marker', () => {
  const marker = patchMarker(REVIEW_PATCH);
  const history = (name: string) => readFileSync(resolve(HISTORY_FIXTURES, REVIEW_PATCH, `${name}.json`), 'utf8');
  expect(history('review-late-accepted-before-patch')).not.toContain(marker);
  // The handler asks patched() only for a review the validator let through.
  expect(history('review-in-time')).toContain(marker);
  expect(encrypted).toEqual(expect.arrayContaining([`${REVIEW_PATCH}/review-late-accepted-before-patch.json`]));
});

test('a review recorded since the review-gives-principal-reasons patch carries its marker, and none before it does', () => {
  const marker = patchMarker('review-gives-principal-reasons');
  const history = (file: string) => readFileSync(resolve(HISTORY_FIXTURES, file), 'utf8');
  expect(history(`${RIGHTS}/review-declined-with-reasons.json`)).toContain(marker);
  for (const file of encrypted.filter((f) => !f.startsWith(`${RIGHTS}/`))) expect(history(file)).not.toContain(marker);
});

test('policy decisions recorded since the decision-principal-reasons patch carry its marker; older ones do not', () => {
  const marker = patchMarker('decision-principal-reasons');
  const history = (file: string) => readFileSync(resolve(HISTORY_FIXTURES, file), 'utf8');
  for (const name of ['review-deadline', 'review-declined-with-reasons', 'reopened-declined'])
    expect(history(`${RIGHTS}/${name}.json`)).toContain(marker);
  const older = encrypted.filter((f) => !f.startsWith(`${RIGHTS}/`) && !f.startsWith(`${EXPERIMENT}/`));
  for (const file of older) expect(history(file)).not.toContain(marker);
});

test('a decision made while a challenger ran carries the policy-experiment marker and the arm; one whose code ignored it carries neither', () => {
  const marker = patchMarker('policy-experiment');
  const history = (file: string) => readFileSync(resolve(HISTORY_FIXTURES, file), 'utf8');
  for (const name of ['split-challenger', 'split-champion', 'shadow']) {
    expect(history(`${EXPERIMENT}/${name}.json`)).toContain(marker);
    expect(history(`${EXPERIMENT}/${name}.json`)).toContain('BeginiPolicyArm');
  }
  // Recorded with the patch's branch removed: its activity's result holds an experiment (the marker
  // is encrypted, so only the replay below can tell), which today's code must not act on.
  const ignored = history(`${EXPERIMENT}/before-patch/split-challenger.json`);
  expect(ignored).not.toContain(marker);
  expect(ignored).not.toContain('BeginiPolicyArm');
  expect(encrypted).toEqual(expect.arrayContaining([`${EXPERIMENT}/before-patch/split-challenger.json`]));
  // Nothing else recorded a challenger.
  for (const file of encrypted.filter((f) => !f.startsWith(`${EXPERIMENT}/`)))
    expect(history(file)).not.toContain(marker);
});

test('every encrypted history replays without non-determinism, through the worker’s plaintext-refusing codec', async () => {
  const { replayed, failures } = await replay(encrypted, workerCodec());
  expect([...failures].map(([file, message]) => `${file}: ${message}`)).toEqual([]);
  expect(replayed).toEqual(encrypted);
});

test('every history recorded before encryption replays through the time-boxed plaintext allowance', async () => {
  const { replayed, failures } = await replay(beforeEncryption, migratingCodec());
  expect([...failures].map(([file, message]) => `${file}: ${message}`)).toEqual([]);
  expect(replayed).toEqual(beforeEncryption);
});

test('without the allowance, no history recorded before encryption replays: the worker’s decode refuses plaintext', async () => {
  const { replayed, failures } = await replay(beforeEncryption, workerCodec());
  expect(replayed).toEqual(beforeEncryption);
  expect([...failures.keys()]).toEqual(beforeEncryption);
  for (const message of failures.values()) expect(message).toContain('plaintext payloads are refused');
});
