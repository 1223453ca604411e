/**
 * `npm run backtest` on recorded journeys: the applicants in test/fixtures/backtest/journeys.json
 * go through the real stack (receiver, worker, default policy) against the dev server, then the
 * command, run as an operator runs it, re-evaluates them under candidate-policy.yaml. Its counts
 * are checked against counts made in this test from the fixture's hand-worked labels, and nothing
 * in Temporal may change.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseCodecKeys } from '../../src/codec/aesGcm';
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
}

let stack: Stack;
const uids = new Map<string, string>();

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
  const undecided = newUid('BT-undecided');
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
  keyUidRefs(parseCodecKeys(TEST_CODEC_KEYS));
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
