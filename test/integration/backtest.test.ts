/**
 * `npm run backtest` on recorded journeys: the applicants in test/fixtures/backtest/journeys.json
 * go through the real stack (receiver, worker, default policy) against the dev server, then the
 * command, run as an operator runs it, re-evaluates them under candidate-policy.yaml. Its counts
 * are checked against counts made in this test from the fixture's hand-worked labels, and nothing
 * in Temporal may change.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { PayloadCodec } from '@temporalio/common';
import type { PolicyPerformance } from '../../src/backtest/performance';
import { readDecidedJourneys } from '../../src/backtest/read';
import { parseCodecKeys } from '../../src/codec/aesGcm';
import { payloadCodec } from '../../src/codec/payloadCodec';
import { keyUidRefs, uidRef } from '../../src/logger';
import { WORKFLOW_TYPES, type Outcome } from '../../workflows/definitions';
import { delivery, newUid, TEST_CODEC_KEYS } from '../support/begini';
import { TEST_DATA_DIR } from '../support/paths';
import { startStack, type Stack } from '../support/stack';

const FIXTURES = resolve(__dirname, '..', 'fixtures', 'backtest');
const CANDIDATE = resolve(FIXTURES, 'candidate-policy.yaml');
const OUT = resolve(TEST_DATA_DIR, 'backtest');
const TSX = resolve(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
const MAIN = resolve(__dirname, '..', '..', 'src', 'backtest', 'main.ts');
const OUTCOMES: Outcome[] = ['APPROVE', 'REFER', 'DECLINE'];

interface Labelled {
  name: string;
  score?: Record<string, unknown>;
  event?: string;
  current: [Outcome, ...string[]];
  candidate: [Outcome, ...string[]];
}
const { journeys } = JSON.parse(readFileSync(resolve(FIXTURES, 'journeys.json'), 'utf8')) as { journeys: Labelled[] };

interface Report {
  journeys: number;
  candidateVersion: string;
  currentVersions: string[];
  matrix: Record<Outcome, Record<Outcome, number>>;
  reasons: { current: Record<string, number>; candidate: Record<string, number> };
  changed: Array<{ uidRef: string; runId: string; current: { outcome: Outcome }; candidate: { outcome: Outcome } }>;
  skipped: number;
  truncated: boolean;
  performance?: {
    coverage: { decided: number; withOutcome: number; unmatchedRows: number };
    policies: PolicyPerformance[];
    swaps: Array<{ uidRef: string; direction: 'in' | 'out'; performance: { bad: boolean } | null }>;
  };
  pace: { journeys: number; journeysPerSecond: number | null; concurrency: number };
}

let stack: Stack;
const uids = new Map<string, string>();
let undecided: string;

async function backtest(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME!,
    TEMPORAL_ADDRESS: stack.env.TEMPORAL_ADDRESS!,
    TEMPORAL_NAMESPACE: 'default',
    PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS,
  };
  try {
    const { stdout, stderr } = await promisify(execFile)(TSX, [MAIN, ...args], { env, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const onlyThisStack = () => `TaskQueue = '${stack.env.TEMPORAL_TASK_QUEUE}'`;

beforeAll(async () => {
  keyUidRefs(parseCodecKeys(TEST_CODEC_KEYS));
  rmSync(OUT, { recursive: true, force: true });
  stack = await startStack({ name: 'backtest' });
  for (const journey of journeys) {
    const uid = newUid(`BT-${journey.name}`);
    uids.set(journey.name, uid);
    const body = journey.event
      ? delivery(journey.event, uid)
      : delivery('psychometric_score.complete', uid, { details: { calculated: journey.score! } });
    expect((await stack.send(body)).status).toBe(200);
  }
  for (const uid of uids.values()) await stack.waitForJourney(uid, (view) => view.decision !== null);
  // A journey still waiting for its score has decided nothing: it must not be counted.
  undecided = newUid('BT-undecided');
  expect((await stack.send(delivery('application.complete', undecided))).status).toBe(200);
  await stack.waitForJourney(undecided, (view) => view.stage === 'awaiting_scores');
  // Visibility is eventually consistent: wait until every decided journey is listed with its decision.
  const listed = `${onlyThisStack()} AND BeginiDecision IN ('APPROVE', 'DECLINE', 'REFER')`;
  for (let i = 0; i < 100 && (await stack.client.workflow.count(listed)).count < journeys.length; i++)
    await new Promise((r) => setTimeout(r, 200));
});

afterAll(async () => {
  await stack?.stop();
});

test('the report counts what the hand-worked labels count', async () => {
  const histories = await Promise.all([...uids.values()].map((uid) => stack.handle(uid).fetchHistory()));
  const { code, stdout, stderr } = await backtest(['--policy', CANDIDATE, '--query', onlyThisStack(), '--out', OUT]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const report = JSON.parse(readFileSync(resolve(OUT, 'report.json'), 'utf8')) as Report;

  // Independent counts, from the labels alone.
  const matrix = Object.fromEntries(
    OUTCOMES.map((r) => [r, Object.fromEntries(OUTCOMES.map((c) => [c, 0]))]),
  ) as Record<Outcome, Record<Outcome, number>>;
  const reasons = { current: {} as Record<string, number>, candidate: {} as Record<string, number> };
  for (const j of journeys) {
    matrix[j.current[0]][j.candidate[0]] += 1;
    for (const r of j.current.slice(1)) reasons.current[r] = (reasons.current[r] ?? 0) + 1;
    for (const r of j.candidate.slice(1)) reasons.candidate[r] = (reasons.candidate[r] ?? 0) + 1;
  }
  expect(report.journeys).toBe(journeys.length);
  expect(report.matrix).toEqual(matrix);
  expect(report.reasons).toEqual(reasons);
  expect(report.candidateVersion).toBe('candidate-2026-12');
  expect(report.currentVersions).toEqual(['reference-2026-11']);
  expect({ skipped: report.skipped, truncated: report.truncated }).toEqual({ skipped: 0, truncated: false });

  // The journeys that change, by uidRef and run id: never a uid.
  const changing = journeys.filter((j) => j.current[0] !== j.candidate[0]);
  expect(changing.length).toBeGreaterThan(0);
  const expected = await Promise.all(
    changing.map(async (j) => {
      const uid = uids.get(j.name)!;
      const { runId } = await stack.handle(uid).describe();
      return { uidRef: uidRef(uid), runId, from: j.current[0], to: j.candidate[0] };
    }),
  );
  const got = report.changed.map((c) => ({
    uidRef: c.uidRef,
    runId: c.runId,
    from: c.current.outcome,
    to: c.candidate.outcome,
  }));
  const byRef = (a: { uidRef: string }, b: { uidRef: string }) => a.uidRef.localeCompare(b.uidRef);
  expect(got.sort(byRef)).toEqual(expected.sort(byRef));

  const files = [
    readFileSync(resolve(OUT, 'report.json'), 'utf8'),
    readFileSync(resolve(OUT, 'report.html'), 'utf8'),
    stdout,
  ];
  for (const uid of uids.values()) for (const text of files) expect(text).not.toContain(uid);

  const html = files[1]!;
  expect(html).toContain('<svg');
  for (const { uidRef: ref } of expected) expect(html).toContain(ref);
  expect(stdout).toContain(`${changing.length} journeys would change`);

  // Read-only: no journey gained a single history event.
  const after = await Promise.all([...uids.values()].map((uid) => stack.handle(uid).fetchHistory()));
  expect(after.map((h) => h.events?.length)).toEqual(histories.map((h) => h.events?.length));
});

test('a --query that closes its parenthesis to OR past the journey clause still reads journeys only', async () => {
  const stranger = await stack.client.workflow.start('notAJourney', {
    taskQueue: `nobody-${process.pid}`,
    workflowId: newUid('BT-STRANGER'),
  });
  try {
    const query = `${onlyThisStack()}) OR (WorkflowId = '${stranger.workflowId}'`;
    // Temporal itself lists the stranger too: without the reader's own check it would be read.
    const filter = `WorkflowType = '${WORKFLOW_TYPES.journey}' AND BeginiDecision IN ('APPROVE', 'DECLINE', 'REFER') AND (${query})`;
    while (Number((await stack.client.workflow.count(filter)).count) < journeys.length + 1)
      await new Promise((r) => setTimeout(r, 100));
    const { code, stderr } = await backtest(['--policy', CANDIDATE, '--query', query, '--out', `${OUT}-or`]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const report = JSON.parse(readFileSync(resolve(`${OUT}-or`, 'report.json'), 'utf8')) as Report;
    expect({ journeys: report.journeys, skipped: report.skipped }).toEqual({ journeys: journeys.length, skipped: 0 });
  } finally {
    await stranger.terminate('test: not a journey');
  }
});

test('--since after every journey started finds none', async () => {
  const { code, stdout } = await backtest([
    '--policy',
    CANDIDATE,
    '--query',
    onlyThisStack(),
    '--since',
    new Date(Date.now() + 60_000).toISOString(),
    '--out',
    `${OUT}-since`,
  ]);
  expect(code).toBe(0);
  expect(stdout).toContain('on 0 decided journeys');
});

test('bad input is refused with a one-line reason and its own exit status', async () => {
  const missing = await backtest([]);
  expect(missing.code).toBe(64);
  expect(missing.stderr).toMatch(/^backtest: --policy is required/);

  const badQuery = await backtest(['--policy', CANDIDATE, '--query', "BeginiStage = = 'x'", '--out', `${OUT}-bad`]);
  expect(badQuery.code).toBe(64);
  expect(badQuery.stderr).toMatch(/^backtest: --query: Temporal refused the filter/);

  const badPolicy = await backtest(['--policy', resolve(FIXTURES, 'journeys.json'), '--out', `${OUT}-bad`]);
  expect(badPolicy.code).toBe(78);
  expect(badPolicy.stderr).toMatch(/^backtest: invalid configuration: /);

  const badSince = await backtest(['--policy', CANDIDATE, '--since', 'yesterday']);
  expect(badSince.code).toBe(64);
  expect(badSince.stderr).toMatch(/^backtest: --since: expected a date/);
});

/** The report's JSON after a run that must succeed. */
async function reportOf(args: string[], out: string): Promise<{ report: Report; stdout: string; html: string }> {
  const { code, stdout, stderr } = await backtest([
    '--policy',
    CANDIDATE,
    '--query',
    onlyThisStack(),
    '--out',
    out,
    ...args,
  ]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const report = JSON.parse(readFileSync(resolve(out, 'report.json'), 'utf8')) as Report;
  return { report, stdout, html: readFileSync(resolve(out, 'report.html'), 'utf8') };
}

const byName = (performance: Report['performance'], policy: string) =>
  performance!.policies.find((p) => p.policy === policy)!;

test("with the loans' outcomes (uid, defaulted): approval and bad rates per policy, hand-worked", async () => {
  // The six journeys the recorded policy (reference-2026-11) approved are the loans; two went bad.
  // A row for the undecided journey matches no decided one.
  const defaulted: Record<string, boolean> = {
    'band-a': false,
    'band-b': true,
    'band-a-2': false,
    'band-b-2': false,
    'band-b-low-score': true,
    'band-a-low-score': false,
  };
  const file = resolve(TEST_DATA_DIR, 'backtest-outcomes.csv');
  const rows = Object.entries(defaulted).map(([name, bad]) => `${uids.get(name)},${bad}`);
  writeFileSync(file, `uid,defaulted\n${rows.join('\n')}\n${undecided},false\n`);
  const { report, stdout, html } = await reportOf(['--outcomes', file], `${OUT}-outcomes`);
  const perf = report.performance!;
  // 16 decided journeys, 6 with an outcome: coverage 6/16; 1 row unmatched.
  expect(perf.coverage).toEqual({ decided: 16, withOutcome: 6, rate: 6 / 16, unmatchedRows: 1 });
  // Recorded: approved band-a, band-b, band-a-2, band-b-2, band-b-low-score, band-a-low-score:
  // 6/16 = 37.5 %; all 6 known, 2 bad (band-b, band-b-low-score): 2/6 = 33.3 %.
  expect(byName(perf, 'recorded')).toMatchObject({ approved: 6, decided: 16, approvedWithOutcome: 6, approvedBad: 2 });
  expect(byName(perf, 'recorded').badRate).toBeCloseTo(1 / 3);
  // Candidate: approves band-a, band-b, band-a-2, band-b-2 and band-c-good, band-a-low-confidence,
  // band-c-low-confidence: 7/16 = 43.75 %. Known: the first four, 1 bad (band-b): 1/4 = 25 %.
  // Swap-out (approved in reality, referred by the candidate): band-b-low-score (bad),
  // band-a-low-score (good): 1/2 = 50 %. Swap-in: the three others, never loans: no rate.
  const candidate = byName(perf, 'candidate');
  expect(candidate).toMatchObject({ approved: 7, approvedWithOutcome: 4, approvedBad: 1, badRate: 0.25 });
  expect(candidate.approvalRate).toBe(7 / 16);
  expect(candidate.swapOut).toEqual({ journeys: 2, withOutcome: 2, bad: 1, badRate: 0.5 });
  expect(candidate.swapIn).toEqual({ journeys: 3, withOutcome: 0, bad: 0, badRate: null });
  const ref = (name: string) => uidRef(uids.get(name)!);
  const swaps = perf.swaps.map((s) => [s.uidRef, s.direction, s.performance?.bad ?? null]);
  expect(swaps.sort()).toEqual(
    [
      [ref('band-b-low-score'), 'out', true],
      [ref('band-a-low-score'), 'out', false],
      [ref('band-c-good'), 'in', null],
      [ref('band-a-low-confidence'), 'in', null],
      [ref('band-c-low-confidence'), 'in', null],
    ].sort(),
  );
  expect(stdout).toMatch(/recorded \(reference-2026-11\)\s+6\/16 37\.5%\s+2\/6 33\.3%/);
  expect(stdout).toMatch(/candidate \(candidate-2026-12\)\s+7\/16 43\.8%\s+1\/4 25\.0%\s+1\/2 50\.0%\s+3/);
  expect(html).toContain('Reject inference: not attempted.');
  expect(html).toContain('bad rate among approved');
  for (const uid of [...uids.values(), undecided])
    for (const text of [stdout, html, JSON.stringify(report)]) expect(text).not.toContain(uid);
});

test('with uidRef and days_past_due: --bad-dpd sets the line, at the threshold is bad', async () => {
  const dpd: Record<string, number> = {
    'band-a': 0,
    'band-b': 95,
    'band-a-2': 45,
    'band-b-2': 30,
    'band-b-low-score': 120,
    'band-a-low-score': 29,
  };
  const file = resolve(TEST_DATA_DIR, 'backtest-dpd.csv');
  const rows = Object.entries(dpd).map(([name, days]) => `${days},${uidRef(uids.get(name)!)}`);
  writeFileSync(file, `days_past_due,uidRef\n${rows.join('\n')}\n`);
  // 30+ dpd bad: band-b, band-a-2, band-b-2, band-b-low-score. Recorded: 4/6 = 66.7 %.
  // Candidate, known band-a, band-b, band-a-2, band-b-2: 3 bad, 3/4 = 75 %. Swap-out: 120 bad, 29 good: 1/2.
  const at30 = (await reportOf(['--outcomes', file, '--bad-dpd', '30'], `${OUT}-dpd`)).report.performance!;
  expect([byName(at30, 'recorded').approvedBad, byName(at30, 'candidate').approvedBad]).toEqual([4, 3]);
  expect(byName(at30, 'candidate').badRate).toBe(0.75);
  expect(byName(at30, 'candidate').swapOut).toMatchObject({ withOutcome: 2, bad: 1 });
  // The default line, 90+: band-b and band-b-low-score only. Recorded 2/6, candidate 1/4.
  const at90 = (await reportOf(['--outcomes', file], `${OUT}-dpd90`)).report.performance!;
  expect([byName(at90, 'recorded').approvedBad, byName(at90, 'candidate').approvedBad]).toEqual([2, 1]);
});

test('a malformed outcomes file is refused before Temporal is read: reason code and line, never the uid', async () => {
  const file = resolve(TEST_DATA_DIR, 'backtest-bad.csv');
  const [a, b] = [uids.get('band-a')!, uids.get('band-b')!];
  writeFileSync(file, `uid,defaulted,amount\n${a},true,1\n`);
  const unknown = await backtest(['--policy', CANDIDATE, '--outcomes', file]);
  expect(unknown.code).toBe(65);
  expect(unknown.stderr).toMatch(/^backtest: --outcomes: .* has 1 problem\n {2}line 1: unknown_column: /);
  writeFileSync(file, `uid,defaulted\n${a},true\n${b},maybe\n${a},false\n`);
  const rows = await backtest(['--policy', CANDIDATE, '--outcomes', file]);
  expect(rows.code).toBe(65);
  expect(rows.stderr).toContain('line 3: bad_value: defaulted is true or false');
  expect(rows.stderr).toContain('line 4: duplicate_uid: the same applicant as line 2');
  expect(rows.stderr).not.toContain(a);
  const noFile = await backtest(['--policy', CANDIDATE, '--bad-dpd', '30']);
  expect(noFile.code).toBe(64);
  expect(noFile.stderr).toMatch(/^backtest: --bad-dpd needs --outcomes/);
});

test('--resume: an interrupted read continues from its checkpoint and ends with what one run reads', async () => {
  const codec = payloadCodec({ codecKeys: parseCodecKeys(TEST_CODEC_KEYS) });
  const checkpoint = resolve(TEST_DATA_DIR, 'backtest-checkpoint.json');
  rmSync(checkpoint, { force: true });
  const read = (c: PayloadCodec) =>
    readDecidedJourneys({
      client: stack.client,
      codec: c,
      query: onlyThisStack(),
      limit: 100,
      concurrency: 3,
      resume: checkpoint,
      pageSize: 5,
    });
  // Decrypting fails from the 8th history on: the first page of 5 is checkpointed, the second is not.
  let decoded = 0;
  const failing: PayloadCodec = {
    encode: (p) => codec.encode(p),
    decode: async (p) => {
      if (++decoded > 7) throw new Error('interrupted');
      return codec.decode(p);
    },
  };
  await expect(read(failing)).rejects.toThrow('interrupted');
  const saved = readFileSync(checkpoint, 'utf8');
  // Encrypted: neither a uid nor a policy input in the clear.
  for (const uid of uids.values()) expect(saved).not.toContain(uid);
  expect(saved).not.toMatch(/riskBand|scores_complete/);
  const resumed = await read(codec);
  expect(resumed.pace).toMatchObject({ journeys: journeys.length - 5, resumed: true, concurrency: 3 });
  const fresh = await readDecidedJourneys({
    client: stack.client,
    codec,
    query: onlyThisStack(),
    limit: 100,
    concurrency: 16,
  });
  const key = (d: { uidRef: string; runId: string }) => `${d.uidRef} ${d.runId}`;
  expect(resumed.decisions.map(key).sort()).toEqual(fresh.decisions.map(key).sort());
  expect(resumed.decisions).toHaveLength(journeys.length);
  // A checkpoint of another listing is not continued.
  await expect(
    readDecidedJourneys({
      client: stack.client,
      codec,
      query: "BeginiRiskBand = 'A'",
      limit: 100,
      concurrency: 1,
      resume: checkpoint,
    }),
  ).rejects.toThrow(/--resume: .* continues another listing/);
});
