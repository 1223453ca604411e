/** The operators' journey API (auth, validation, query, list, review) and the metrics behind alerts. */
import { delivery, newUid } from '../support/begini';
import { OPERATORS, operatorsEnv } from '../support/operators';
import { startStack, workerMetricsUrl, type Stack } from '../support/stack';

const TOKEN = OPERATORS.reviewer.token;
let stack: Stack;
let api: string;

beforeAll(async () => {
  stack = await startStack({
    name: 'journeys-api',
    env: { ...operatorsEnv('journeys-api'), METRICS_VISIBILITY_REFRESH: '200ms' },
  });
  api = `${stack.receiver.internalUrl}/journeys`;
});
afterAll(async () => {
  await stack.stop();
});

async function call(path: string, init: RequestInit & { token?: string | null } = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
  if (init.body) headers['content-type'] = 'application/json';
  const response = await fetch(`${api}${path}`, { ...init, headers });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function referredJourney(): Promise<string> {
  const uid = newUid();
  await stack.send(delivery('psychometric_score.complete', uid, { details: { calculated: { risk_band: 'C' } } }));
  await stack.waitForJourney(uid, (v) => v.stage === 'in_review');
  return uid;
}

describe('auth', () => {
  test('a DECLINE must name reason codes the policy knows: 400, and the journey stays in review', async () => {
    const uid = await referredJourney();
    const review = (body: unknown) => call(`/${uid}/review`, { method: 'POST', body: JSON.stringify(body) });
    const unexplained = await review({ outcome: 'DECLINE', note: 'no' });
    expect(unexplained.status).toBe(400);
    expect(unexplained.body).toMatchObject({ reason: 'invalid_review' });
    expect(unexplained.body.detail).toContain('reasons');
    const unknown = await review({ outcome: 'DECLINE', reasons: ['high_risk_band', 'vibes'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ reason: 'unknown_reason_code' });
    expect(unknown.body.detail).toContain('vibes');
    // A code the policy has, but with no text an applicant's notice could give (an APPROVE rule's).
    const untold = await review({ outcome: 'DECLINE', reasons: ['low_risk_band'] });
    expect(untold.status).toBe(400);
    expect(untold.body).toMatchObject({ reason: 'unknown_reason_code' });
    expect(untold.body.detail).toContain('no applicant-facing text');
    expect((await stack.journey(uid)).stage).toBe('in_review');
  });

  test.each([
    ['no token', null, 'missing_credentials'],
    ['a wrong token', `${TOKEN.slice(0, -4)}XXXX`, 'invalid_token'],
    ['a prefix of the token', TOKEN.slice(0, 10), 'invalid_token'],
  ])('%s gets 401', async (_name, token, reason) => {
    const result = await call('/anything', { token });
    expect(result.status).toBe(401);
    expect(result.body).toMatchObject({ reason });
  });

  test('the API does not exist when no operator authentication is configured', async () => {
    const closed = await startStack({ name: 'journeys-api-off', worker: false });
    try {
      const response = await fetch(`${closed.receiver.internalUrl}/journeys`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(404);
    } finally {
      await closed.stop();
    }
  });
});

describe('GET /journeys/:uid', () => {
  test('returns the journey query', async () => {
    const uid = newUid();
    await stack.send(delivery('application.complete', uid));
    const result = await call(`/${encodeURIComponent(uid)}`);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ stage: 'awaiting_scores', decision: null, application: 'complete' });
  });

  test('an unknown uid gets 404', async () => {
    const result = await call(`/${newUid()}`);
    expect(result.status).toBe(404);
    expect(result.body).toMatchObject({ reason: 'unknown_journey' });
  });
});

describe('GET /journeys', () => {
  test('lists by stage and decision through visibility', async () => {
    const uid = await referredJourney();
    let found = false;
    for (let i = 0; i < 50 && !found; i++) {
      const result = await call('?stage=in_review&decision=REFER');
      expect(result.status).toBe(200);
      found = result.body.journeys.some((j: { uid: string }) => j.uid === uid);
      if (!found) await new Promise((r) => setTimeout(r, 100));
    }
    expect(found).toBe(true);
    const later = await call(`?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
    expect(later.body.journeys.some((j: { uid: string }) => j.uid === uid)).toBe(false);
  });

  test.each([
    ['an unknown stage', '?stage=sideways'],
    ['an unknown decision', '?decision=MAYBE'],
    ['a malformed since', '?since=yesterday'],
    ['an unknown parameter', '?uid=x'],
  ])('%s gets 400', async (_name, query) => {
    const result = await call(query);
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ reason: 'invalid_query' });
  });
});

describe('POST /journeys/:uid/review', () => {
  test('a valid review decides the referred journey', async () => {
    const uid = await referredJourney();
    const result = await call(`/${uid}/review`, {
      method: 'POST',
      body: JSON.stringify({ outcome: 'DECLINE', reasons: ['high_risk_band'], note: 'inconsistent answers' }),
    });
    expect(result.status).toBe(200);
    expect(result.body.decision).toMatchObject({
      outcome: 'DECLINE',
      decidedBy: 'review',
      reviewer: OPERATORS.reviewer.name,
      principalReasons: [{ code: 'high_risk_band', text: 'Your assessment result is outside our lending criteria.' }],
    });
    const view = await stack.waitForJourney(uid, (v) => v.stage === 'decided');
    expect(view.review).toMatchObject({ reviewer: OPERATORS.reviewer.name, note: 'inconsistent answers' });
  });

  test.each([
    ['a missing outcome', { note: 'ana' }],
    ['REFER as an outcome', { outcome: 'REFER' }],
    ['a typed reviewer', { outcome: 'APPROVE', reviewer: 'ana' }],
    ['an unknown field', { outcome: 'APPROVE', score: 1 }],
  ])('%s gets 400 and changes nothing', async (_name, body) => {
    const uid = await referredJourney();
    const result = await call(`/${uid}/review`, { method: 'POST', body: JSON.stringify(body) });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ reason: 'invalid_review' });
    expect((await stack.journey(uid)).stage).toBe('in_review');
  });

  test('a journey not in review gets 409', async () => {
    const uid = newUid();
    await stack.send(delivery('application.complete', uid));
    const result = await call(`/${uid}/review`, {
      method: 'POST',
      body: JSON.stringify({ outcome: 'APPROVE' }),
    });
    expect(result.status).toBe(409);
    expect(result.body).toMatchObject({ reason: 'not_in_review' });
  });

  test('an unknown uid gets 404', async () => {
    const result = await call(`/${newUid()}/review`, {
      method: 'POST',
      body: JSON.stringify({ outcome: 'APPROVE' }),
    });
    expect(result.status).toBe(404);
  });
});

describe('input that can never succeed gets a 4xx, never a 5xx', () => {
  test.each([
    ['a date before year 1', '?since=0000-01-01T00:00:00%2B01:00', 'invalid_query'],
    ['a date in year 1', '?since=0001-01-01T00:00:00Z', 'invalid_query'],
    ['an unknown integration', '?integration=nobody', 'unknown_integration'],
    ['bad percent-encoding in the uid', '/%E0%A4%A', 'bad_request'],
    ['a uid with a control character', '/a%00b', 'invalid_uid'],
    ['a uid longer than any journey', `/${'x'.repeat(2_000)}`, 'invalid_uid'],
  ])('%s', async (_name, path, reason) => {
    const result = await call(path);
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.status).toBeLessThan(500);
    expect(result.body).toMatchObject({ reason });
  });

  test('a review body that is not JSON gets 400 invalid_json', async () => {
    const result = await call(`/${newUid()}/review`, { method: 'POST', body: '{"outcome": APPROVE' });
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ reason: 'invalid_json' });
  });
});

describe('monitoring', () => {
  test('the receiver counts journeys needing attention from visibility', async () => {
    await referredJourney();
    let value = 0;
    for (let i = 0; i < 50 && value < 1; i++) {
      const metrics = await (await fetch(`${stack.receiver.internalUrl}/metrics`)).text();
      value = Number(
        /begini_journeys_needing_attention\{namespace="default",condition="in_review"\} (\d+)/.exec(metrics)?.[1] ?? 0,
      );
      if (value < 1) await new Promise((r) => setTimeout(r, 100));
    }
    expect(value).toBeGreaterThanOrEqual(1);
  });

  test('the worker serves the SDK’s Prometheus metrics', async () => {
    const metrics = await (await fetch(workerMetricsUrl)).text();
    expect(metrics).toMatch(/^temporal_worker_task_slots_available/m);
    expect(metrics).toMatch(/^temporal_workflow_task_execution_latency/m);
    // The policy runs as a local activity (issue #16); a decision's hand-off is an activity (issue #20).
    expect(metrics).toMatch(/^temporal_local_activity_execution_latency_count\{activity_type="evaluatePolicy"/m);
    expect(metrics).toMatch(/^temporal_activity_execution_latency_count\{activity_type="handOff"/m);
  });
});
