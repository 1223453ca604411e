/**
 * Champion/challenger on a real worker, receiver and LOS. With a 50 % split each journey is decided
 * by its own arm's policy (the shipped one approves band A, the challenger declines it), the arm
 * follows the uidRef and stays put when Begini redelivers, and the Web UI can filter by arm. In
 * shadow mode the champion decides every journey and the challenger's verdict is recorded beside
 * it, never sent to the LOS.
 */
import { resolve } from 'node:path';
import { loadPolicy } from '../../activities/policy';
import { policySha256 } from '../../activities/policySource';
import { armFor, bucketOf } from '../../activities/experiment';
import { startLos, type Los } from '../../dev/losStandIn';
import { uidRef } from '../../src/logger';
import { searchAttributes as sa, type PolicyArm } from '../../workflows/definitions';
import { delivery, newUid } from '../support/begini';
import { startStack, type Stack } from '../support/stack';
import { waitForAsync } from '../support/until';

const ROOT = resolve(__dirname, '..', '..');
const SHIPPED = resolve(ROOT, 'activities', 'default-policy.yaml');
const DECLINES = resolve(ROOT, 'test', 'fixtures', 'policy-declines-low-risk.yaml');
const champion = loadPolicy(SHIPPED);
const challenger = loadPolicy(DECLINES);

/** Where RECORD_HISTORIES=1 writes this file's journeys (test/fixtures/histories). */
const EXPERIMENT_FIXTURES = 'policy-experiment';

let los: Los;
let split: Stack;
let shadow: Stack;

beforeAll(async () => {
  los = await startLos();
  const env = { POLICY_FILE: SHIPPED, CHALLENGER_POLICY_FILE: DECLINES };
  split = await startStack({ name: 'challenger-split', los, env: { ...env, CHALLENGER_SHARE: '50' } });
  shadow = await startStack({ name: 'challenger-shadow', los, env: { ...env, CHALLENGER_MODE: 'shadow' } });
});

afterAll(async () => {
  await split?.stop();
  await shadow?.stop();
  await los?.close();
});

const scoreA = (uid: string) =>
  delivery('psychometric_score.complete', uid, { details: { calculated: { risk_band: 'A' } } });

/** uids whose uidRef puts them in `arm` at a 50 % share: known before the journeys start. */
function uidsIn(arm: PolicyArm, count: number): string[] {
  const uids: string[] = [];
  while (uids.length < count) {
    const uid = newUid('ARM');
    if (armFor(bucketOf(uidRef(uid)), 50, 'split') === arm) uids.push(uid);
  }
  return uids;
}

test('a 50 % challenger: each arm decides by its own policy, the split holds under redelivery, the UI filters by arm', async () => {
  const arms = { champion: uidsIn('champion', 3), challenger: uidsIn('challenger', 3) };
  const all = [...arms.champion, ...arms.challenger];
  const bodies = new Map(all.map((uid) => [uid, scoreA(uid)]));
  for (const uid of all) expect((await split.send(bodies.get(uid)!)).status).toBe(200);
  for (const uid of all) await split.waitForJourney(uid, (v) => v.handoff.status === 'delivered');

  const expected = {
    champion: { outcome: 'APPROVE', policyVersion: champion.version, policySha256: policySha256(champion) },
    challenger: { outcome: 'DECLINE', policyVersion: challenger.version, policySha256: policySha256(challenger) },
  };
  for (const arm of ['champion', 'challenger'] as const) {
    for (const uid of arms[arm]) {
      const view = await split.journey(uid);
      expect(view.decision).toMatchObject(expected[arm]);
      expect(view.experiment).toEqual({
        arm,
        mode: 'split',
        share: 50,
        bucket: bucketOf(uidRef(uid)),
        champion: { version: champion.version, sha256: policySha256(champion) },
        challenger: { version: challenger.version, sha256: policySha256(challenger) },
      });
      expect(los.acceptedFor(uid, 'decision').map((r) => r.body.decision)).toEqual([
        expect.objectContaining(expected[arm]),
      ]);
    }
  }

  // Begini retries every delivery, and re-serialises one: the arm, the decision and the LOS's one
  // decision per applicant stay as they were.
  for (const uid of all) {
    expect((await split.send(bodies.get(uid)!)).status).toBe(200);
    expect((await split.send(JSON.stringify(bodies.get(uid)!, null, 1))).status).toBe(200);
  }
  for (const uid of all) await split.waitForJourney(uid, (v) => v.counts.deliveries === 3);
  for (const arm of ['champion', 'challenger'] as const) {
    for (const uid of arms[arm]) {
      const view = await split.journey(uid);
      expect(view.experiment?.arm).toBe(arm);
      expect(view.decision).toMatchObject(expected[arm]);
      expect(los.acceptedFor(uid, 'decision')).toHaveLength(1);
    }
  }

  const listed = async (arm: PolicyArm) => {
    const ids = new Set<string>();
    const query = `${sa.policyArm.name} = '${arm}' AND TaskQueue = '${split.env.TEMPORAL_TASK_QUEUE}'`;
    for await (const run of split.client.workflow.list({ query })) ids.add(run.workflowId);
    return [...ids].sort();
  };
  // Replay fixtures (test/unit/replay.test.ts), with RECORD_HISTORIES=1.
  await split.recordHistory(arms.challenger[0]!, `${EXPERIMENT_FIXTURES}/split-challenger`);
  await split.recordHistory(arms.champion[0]!, `${EXPERIMENT_FIXTURES}/split-champion`);
  await waitForAsync(async () => (await listed('challenger')).length === arms.challenger.length);
  expect(await listed('challenger')).toEqual([...arms.challenger].sort());
  expect(await listed('champion')).toEqual([...arms.champion].sort());
});

test('shadow mode: the champion decides, the challenger only records its verdict, and the LOS never sees it', async () => {
  const uids = [newUid('SHADOW'), newUid('SHADOW')];
  for (const uid of uids) expect((await shadow.send(scoreA(uid))).status).toBe(200);
  for (const uid of uids) {
    const view = await shadow.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
    expect(view.decision).toMatchObject({ outcome: 'APPROVE', policySha256: policySha256(champion) });
    expect(view.experiment).toMatchObject({
      arm: 'champion',
      mode: 'shadow',
      share: 0,
      shadow: {
        outcome: 'DECLINE',
        reasons: ['low_risk_band'],
        principalReasons: [{ code: 'low_risk_band', text: 'Your assessment result is outside our lending criteria.' }],
        policyVersion: challenger.version,
        policySha256: policySha256(challenger),
      },
    });
    expect(view.flags).toContain('shadow_disagrees');
    const sent = los.forUid(uid);
    expect(sent.map((r) => r.body.decision?.outcome)).toEqual(['APPROVE']);
    // Neither the challenger's verdict nor its policy reaches the LOS.
    expect(sent[0]!.raw).not.toContain(policySha256(challenger));
    expect(sent[0]!.raw).not.toContain(challenger.version);
    expect(sent[0]!.raw).not.toContain('outside our lending criteria');
    expect(sent[0]!.raw).not.toContain('shadow');
  }
  await shadow.recordHistory(uids[0]!, `${EXPERIMENT_FIXTURES}/shadow`);
});
