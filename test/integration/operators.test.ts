/**
 * Operators as named principals against the real stack: who may do what (401/403 with reasons), the
 * reviewer on a decision is the authenticated principal, reviews from the Web UI or CLI are recorded
 * as such, and a referred, reviewed and redriven journey shows every step with its actor.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startLos, type Los } from '../../dev/losStandIn';
import { UsageError } from '../../src/failures';
import { redrive as redriveCli } from '../../src/operator/redrive';
import {
  redriveUpdate,
  reviewUpdate,
  WORKFLOW_TYPES,
  type AuditEntry,
  type OperatorRole,
} from '../../workflows/definitions';
import { delivery, newUid } from '../support/begini';
import { markdownText } from '../../workflows/markdown';
import { OPERATORS, operatorsEnv } from '../support/operators';
import { startStack, type Stack } from '../support/stack';

let los: Los;
let stack: Stack;
let api: string;

beforeAll(async () => {
  los = await startLos();
  stack = await startStack({ name: 'operators', los, env: operatorsEnv('operators') });
  api = `${stack.receiver.internalUrl}/journeys`;
});
afterAll(async () => {
  await stack.stop();
  await los.close();
});
afterEach(() => {
  los.respond = () => 200;
});

async function call(path: string, init: RequestInit & { as?: OperatorRole | null; token?: string } = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  const token = init.token ?? (init.as === null ? undefined : OPERATORS[init.as ?? 'viewer'].token);
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body) headers['content-type'] = 'application/json';
  const response = await fetch(`${api}${path}`, { ...init, headers });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, any>,
  };
}

const post = (path: string, as: OperatorRole, body: unknown) =>
  call(path, { method: 'POST', as, body: JSON.stringify(body) });

async function referredJourney(): Promise<string> {
  const uid = newUid();
  await stack.send(delivery('psychometric_score.complete', uid, { details: { calculated: { risk_band: 'C' } } }));
  await stack.waitForJourney(uid, (v) => v.stage === 'in_review');
  return uid;
}

const trail = (audit: AuditEntry[] | undefined) =>
  (audit ?? []).map((e) => `${e.action} ${e.what} by ${e.actor} ${e.role ?? '-'} via ${e.via}`);

describe('contest: a delivered decision reopened by one operator and reviewed anew by another', () => {
  test('the LOS gets the new DECLINE under a new key with supersedes, valid 2026-12, and the trail names both', async () => {
    const uid = newUid();
    await stack.send(delivery('psychometric_score.complete', uid));
    await stack.waitForJourney(uid, (v) => v.stage === 'decided');
    const [approved] = los.acceptedFor(uid, 'decision');
    expect(approved!.body.decision).toMatchObject({ outcome: 'APPROVE' });

    const viewerTry = await post(`/${uid}/reopen`, 'viewer', { reason: 'contested' });
    expect(viewerTry.status).toBe(403);
    const unexplained = await post(`/${uid}/reopen`, 'reviewer', {});
    expect(unexplained).toMatchObject({ status: 400, body: { reason: 'invalid_reopen' } });
    const reopened = await post(`/${uid}/reopen`, 'reviewer', { reason: 'applicant contests', reviewWithin: '72h' });
    expect(reopened.status).toBe(200);
    expect(reopened.body.review).toMatchObject({ reason: 'reopened', supersedes: approved!.idempotencyKey });
    expect(Date.parse(reopened.body.review.deadline) - Date.parse(reopened.body.review.since)).toBe(72 * 3_600_000);
    const again = await post(`/${uid}/reopen`, 'reviewer', { reason: 'twice' });
    expect(again).toMatchObject({ status: 409, body: { reason: 'not_reopenable' } });

    const review = await post(`/${uid}/review`, 'admin', { outcome: 'DECLINE', reasons: ['high_risk_band'] });
    expect(review.status).toBe(200);
    const view = await stack.waitForJourney(uid, (v) => v.stage === 'decided' && v.handoff.status === 'delivered');
    const [, declined] = los.acceptedFor(uid, 'decision');
    expect(declined!.idempotencyKey).not.toBe(approved!.idempotencyKey);
    expect(declined!.signatureValid).toBe(true);
    expect(declined!.body).toMatchObject({
      schemaVersion: '2026-12',
      decision: {
        outcome: 'DECLINE',
        reviewer: OPERATORS.admin.name,
        supersedes: approved!.idempotencyKey,
        principalReasons: [{ code: 'high_risk_band', text: 'Your assessment result is outside our lending criteria.' }],
      },
    });
    expect(trail(view.audit)).toEqual([
      'decided APPROVE by policy - via system',
      'handoff_delivered APPROVE by los - via system',
      `reopen APPROVE by ${OPERATORS.reviewer.name} reviewer via journey-api`,
      `review DECLINE by ${OPERATORS.admin.name} admin via journey-api`,
      'handoff_delivered DECLINE by los - via system',
    ]);
    const lines = (await stack.logText())
      .split('\n')
      .filter((l) => l.includes('"audit":true') && l.includes('"reopen"'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.join('\n')).not.toContain(uid);
  });
});

describe('who may do what', () => {
  test('no credential is 401 missing_credentials, with a Bearer challenge', async () => {
    const result = await call('', { as: null });
    expect(result.status).toBe(401);
    expect(result.body).toMatchObject({ reason: 'missing_credentials' });
    expect(result.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });

  test('a token that is not an operator’s is 401 invalid_token', async () => {
    const result = await call('', { token: `${OPERATORS.admin.token}x` });
    expect(result.status).toBe(401);
    expect(result.body).toMatchObject({ reason: 'invalid_token' });
  });

  test('a viewer reads but cannot review; a reviewer cannot redrive: 403 insufficient_role, nothing changes', async () => {
    const uid = await referredJourney();
    expect((await call(`/${uid}`, { as: 'viewer' })).status).toBe(200);
    const review = await post(`/${uid}/review`, 'viewer', { outcome: 'APPROVE' });
    expect(review.status).toBe(403);
    expect(review.body).toMatchObject({ reason: 'insufficient_role' });
    const redrive = await post(`/${uid}/redrive`, 'reviewer', { reason: 'try' });
    expect(redrive.status).toBe(403);
    expect(redrive.body).toMatchObject({ reason: 'insufficient_role' });
    const bulk = await post(`/redrive`, 'reviewer', { filter: {}, reason: 'try', dryRun: true });
    expect(bulk.status).toBe(403);
    const view = await stack.journey(uid);
    expect(view.stage).toBe('in_review');
    expect(trail(view.audit)).toEqual(['decided REFER by policy - via system']);
  });
});

describe('the reviewer on a decision is the authenticated principal', () => {
  test('a caller cannot name the reviewer: the field is refused, and the principal is recorded', async () => {
    const uid = await referredJourney();
    const forged = await post(`/${uid}/review`, 'reviewer', { outcome: 'APPROVE', reviewer: 'the-ceo@lender' });
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({ reason: 'invalid_review' });
    expect((await stack.journey(uid)).stage).toBe('in_review');

    const result = await post(`/${uid}/review`, 'reviewer', { outcome: 'APPROVE', note: 'documents checked' });
    expect(result.status).toBe(200);
    expect(result.body.decision).toMatchObject({ reviewer: OPERATORS.reviewer.name, reviewedVia: 'journey-api' });
    const view = await stack.waitForJourney(uid, (v) => v.stage === 'decided');
    expect(view.review).toMatchObject({ reviewer: OPERATORS.reviewer.name });
    expect(view.audit!.find((e) => e.action === 'review')).toMatchObject({
      actor: OPERATORS.reviewer.name,
      role: 'reviewer',
      via: 'journey-api',
      what: 'APPROVE',
      why: 'documents checked',
      requestId: result.headers.get('x-request-id'),
    });
    // The audit log line names the principal and the journey by ref, never by uid.
    const line = (await stack.logText())
      .split('\n')
      .find((l) => l.includes('"operator action"') && l.includes(String(result.headers.get('x-request-id'))));
    expect(JSON.parse(line!)).toMatchObject({
      audit: true,
      principal: OPERATORS.reviewer.name,
      role: 'reviewer',
      action: 'review',
    });
    expect(line).not.toContain(uid);
  });

  test('an update sent to Temporal directly (Web UI, CLI) is recorded as temporal-ui with its update id', async () => {
    const uid = await referredJourney();
    const decision = await stack.handle(uid).executeUpdate(reviewUpdate, {
      args: [{ outcome: 'DECLINE', reviewer: 'typed in the UI', reasons: ['high_risk_band'] }],
      updateId: 'ui-update-1',
    });
    expect(decision).toMatchObject({ reviewer: 'typed in the UI', reviewedVia: 'temporal-ui' });
    const view = await stack.journey(uid);
    expect(view.audit!.find((e) => e.action === 'review')).toMatchObject({
      via: 'temporal-ui',
      actor: 'typed in the UI',
      role: null,
      requestId: 'ui-update-1',
    });
  });

  test('an actor that claims a role which may not review is refused by the journey itself', async () => {
    const uid = await referredJourney();
    const attempt = stack.handle(uid).executeUpdate(reviewUpdate, {
      args: [{ outcome: 'APPROVE', actor: { name: 'vera', role: 'viewer', requestId: 'r1' } }],
    });
    await expect(attempt).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    expect((await stack.journey(uid)).stage).toBe('in_review');
  });
});

describe('redrive', () => {
  test('referred, reviewed, delivered, redriven: the trail shows every step with its actor; the LOS gets the same key again', async () => {
    const uid = await referredJourney();
    expect((await post(`/${uid}/review`, 'reviewer', { outcome: 'APPROVE' })).status).toBe(200);
    await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');

    const result = await post(`/${uid}/redrive`, 'admin', { reason: 'LOS restored from backup' });
    expect(result.status).toBe(200);
    expect(result.body.redrive).toEqual({ action: 'resend', outcome: 'APPROVE' });
    const view = await stack.waitForJourney(
      uid,
      (v) =>
        v.handoff.status === 'delivered' &&
        (v.audit ?? []).filter((e) => e.action === 'handoff_delivered').length === 2,
    );
    expect(trail(view.audit)).toEqual([
      'decided REFER by policy - via system',
      `review APPROVE by ${OPERATORS.reviewer.name} reviewer via journey-api`,
      'handoff_delivered APPROVE by los - via system',
      `redrive resend APPROVE by ${OPERATORS.admin.name} admin via journey-api`,
      'handoff_delivered APPROVE by los - via system',
    ]);
    expect(view.audit![3]).toMatchObject({
      why: 'LOS restored from backup',
      requestId: result.headers.get('x-request-id'),
    });
    const sent = los.forUid(uid, 'decision');
    expect(sent).toHaveLength(2);
    expect(sent[1]!.idempotencyKey).toBe(sent[0]!.idempotencyKey);
    expect(sent[1]!.body.decision).toMatchObject({ outcome: 'APPROVE' });
    expect(view.stage).toBe('decided');
    // The Web UI's Current Details (the SDK's metadata query) show the latest steps with their actors.
    const metadata = await stack.handle(uid).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toContain(
      `redrive by ${markdownText(OPERATORS.admin.name)} (admin) via journey-api: resend APPROVE`,
    );
    expect(metadata.currentDetails).toContain(
      `review by ${markdownText(OPERATORS.reviewer.name)} (reviewer) via journey-api`,
    );
    await stack.recordHistory(uid, 'operator-review-redrive');
  });

  test('a decision the LOS refused goes back to delivery under a new key', async () => {
    const uid = newUid();
    los.respond = (request) => (request.body.uid === uid && los.forUid(uid, 'decision').length === 0 ? 422 : 200);
    await stack.send(delivery('psychometric_score.complete', uid));
    await stack.waitForJourney(uid, (v) => v.handoff.status === 'rejected');

    const result = await post(`/${uid}/redrive`, 'admin', { reason: 'LOS schema bug fixed' });
    expect(result.status).toBe(200);
    expect(result.body.redrive).toMatchObject({ action: 'redeliver' });
    const view = await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
    expect(view.flags).not.toContain('handoff_rejected');
    const [refused, accepted] = los.forUid(uid, 'decision');
    expect(refused!.answered).toBe(422);
    expect(accepted!.answered).toBe(200);
    expect(accepted!.idempotencyKey).not.toBe(refused!.idempotencyKey);
    expect(trail(view.audit).slice(-3)).toEqual([
      expect.stringMatching(/^handoff_rejected .* by los/),
      `redrive redeliver ${view.decision!.outcome} by ${OPERATORS.admin.name} admin via journey-api`,
      expect.stringMatching(/^handoff_delivered .* by los/),
    ]);
  });

  test('a failing hand-off retries at once instead of waiting out its pause', async () => {
    const uid = newUid();
    let down = true;
    los.respond = (request) => (request.body.uid === uid && down ? 503 : 200);
    await stack.send(delivery('psychometric_score.complete', uid));
    // A whole round of retries fails first (about 13 s at the tests' 100 ms initial interval).
    await stack.waitForJourney(uid, (v) => v.handoff.status === 'failing', 60_000);
    down = false;
    const asked = Date.now();
    const result = await post(`/${uid}/redrive`, 'admin', { reason: 'LOS is back' });
    expect(result.status).toBe(200);
    expect(result.body.redrive).toMatchObject({ action: 'retry_now' });
    const view = await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
    // The pause after a failed round is 64 × 100 ms; the redrive cut it short.
    expect(Date.now() - asked).toBeLessThan(3_000);
    expect(view.audit!.find((e) => e.action === 'handoff_retry')).toMatchObject({ actor: OPERATORS.admin.name });
  });

  test('a journey with nothing to hand off is 409 not_redrivable; a missing reason is 400', async () => {
    const uid = newUid();
    await stack.send(delivery('application.complete', uid));
    const result = await post(`/${uid}/redrive`, 'admin', { reason: 'why not' });
    expect(result.status).toBe(409);
    expect(result.body).toMatchObject({ reason: 'not_redrivable' });
    for (const body of [{}, { reason: '   ' }, { reason: 'x', extra: 1 }]) {
      const refused = await post(`/${uid}/redrive`, 'admin', body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ reason: 'invalid_redrive' });
    }
  });

  test('a closed journey takes no redrive and cannot be reopened: 409 journey_closed', async () => {
    const uid = newUid();
    await stack.send(delivery('psychometric_score.complete', uid));
    await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
    await stack.handle(uid).terminate('test: the settle period is over');
    for (const [action, as] of [
      ['redrive', 'admin'],
      ['reopen', 'reviewer'],
    ] as const) {
      const result = await post(`/${uid}/${action}`, as, { reason: 'too late' });
      expect(result.status).toBe(409);
      expect(result.body).toMatchObject({ reason: 'journey_closed' });
    }
  });

  test('a redrive sent through Temporal directly is recorded as temporal-ui, with the operator it names', async () => {
    const uid = newUid();
    await stack.send(delivery('psychometric_score.complete', uid));
    await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
    await stack
      .handle(uid)
      .executeUpdate(redriveUpdate, { args: [{ reason: 'from the UI', operator: 'ops on call' }] });
    const view = await stack.waitForJourney(uid, (v) => (v.audit ?? []).some((e) => e.action === 'redrive'));
    expect(view.audit!.find((e) => e.action === 'redrive')).toMatchObject({
      via: 'temporal-ui',
      actor: 'ops on call',
      role: null,
      why: 'from the UI',
    });
  });

  test('in bulk by a visibility filter: a dry run changes nothing, then each selected journey is redriven, paced', async () => {
    const uids = [newUid('BULK'), newUid('BULK')];
    for (const uid of uids) await stack.send(delivery('psychometric_score.complete', uid));
    for (const uid of uids) await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
    const filter = { query: `WorkflowId IN (${uids.map((u) => `'${u}'`).join(', ')})`, handoff: 'delivered' };
    let dry: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 50; i++) {
      dry = await post('/redrive', 'admin', { filter, reason: 'LOS outage 10:00-11:00', dryRun: true });
      if (dry.body.journeys?.length === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(dry!.status).toBe(200);
    expect(dry!.body.journeys.map((j: { uid: string }) => j.uid).sort()).toEqual([...uids].sort());
    expect(dry!.body.journeys.every((j: { result: string }) => j.result === 'would_redrive')).toBe(true);
    for (const uid of uids) expect(los.forUid(uid, 'decision')).toHaveLength(1);

    const started = Date.now();
    const real = await post('/redrive', 'admin', { filter, reason: 'LOS outage 10:00-11:00', perSecond: 2 });
    expect(real.status).toBe(200);
    expect(real.body.journeys.map((j: { result: string }) => j.result)).toEqual(['resend', 'resend']);
    // Two journeys at two a second: the second waits half a second after the first.
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    for (const uid of uids) {
      await stack.waitForJourney(uid, () => los.forUid(uid, 'decision').length === 2);
      const view = await stack.journey(uid);
      expect(view.audit!.filter((e) => e.action === 'redrive')).toHaveLength(1);
    }
  });

  test('a redrive retried with the same X-Request-Id is applied once, and the retry gets the first answer', async () => {
    const uid = newUid();
    await stack.send(delivery('psychometric_score.complete', uid));
    await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
    const send = (requestId: string) =>
      call(`/${uid}/redrive`, {
        method: 'POST',
        as: 'admin',
        headers: { 'x-request-id': requestId },
        body: JSON.stringify({ reason: 'LOS restored' }),
      });
    const first = await send(`first-${uid}`);
    const retry = await send(`first-${uid}`);
    expect([first.status, retry.status]).toEqual([200, 200]);
    expect(retry.body.redrive).toEqual(first.body.redrive);
    const once = await stack.waitForJourney(
      uid,
      (v) => (v.audit ?? []).filter((e) => e.action === 'handoff_delivered').length === 2,
    );
    expect(once.audit!.filter((e) => e.action === 'redrive')).toHaveLength(1);
    expect(los.forUid(uid, 'decision')).toHaveLength(2);

    // Another request id is another redrive.
    expect((await send(`second-${uid}`)).status).toBe(200);
    const twice = await stack.waitForJourney(
      uid,
      (v) => (v.audit ?? []).filter((e) => e.action === 'handoff_delivered').length === 3,
    );
    expect(twice.audit!.filter((e) => e.action === 'redrive').map((e) => e.requestId)).toEqual([
      `first-${uid}`,
      `second-${uid}`,
    ]);
  });

  test('another principal sending the same X-Request-Id gets an update of its own, never the first one’s answer', async () => {
    const uid = await referredJourney();
    const requestId = `shared-${uid}`;
    const review = (as: OperatorRole, outcome: string) =>
      call(`/${uid}/review`, {
        method: 'POST',
        as,
        headers: { 'x-request-id': requestId },
        body: JSON.stringify({ outcome, ...(outcome === 'DECLINE' && { reasons: ['high_risk_band'] }) }),
      });
    const first = await review('reviewer', 'APPROVE');
    expect(first.status).toBe(200);
    expect(first.body.decision).toMatchObject({ outcome: 'APPROVE', reviewer: OPERATORS.reviewer.name });
    // The admin's own DECLINE is a new update, refused by the journey (no longer in review).
    const second = await review('admin', 'DECLINE');
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ reason: 'not_in_review' });
    const lines = (await stack.logText())
      .split('\n')
      .filter((l) => l.includes('"operator action"') && l.includes(requestId))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.principal, l.outcome ?? null, l.refused ?? null])).toEqual([
      [OPERATORS.reviewer.name, 'APPROVE', null],
      [OPERATORS.admin.name, null, 'not_in_review'],
    ]);
    const view = await stack.journey(uid);
    expect(view.audit!.filter((e) => e.action === 'review').map((e) => e.actor)).toEqual([OPERATORS.reviewer.name]);
    // The same principal retrying the same request id still joins its own update.
    const retry = await review('reviewer', 'APPROVE');
    expect(retry.status).toBe(200);
    expect(retry.body.decision).toEqual(first.body.decision);
  });

  test('a filter cannot close its parenthesis and OR its way past the journey clause: only journeys are listed', async () => {
    const uid = newUid();
    await stack.send(delivery('application.complete', uid));
    const stranger = await stack.client.workflow.start('notAJourney', {
      taskQueue: `nobody-${process.pid}`,
      workflowId: newUid('STRANGER'),
    });
    try {
      const query = `WorkflowId = '${uid}') OR (WorkflowId = '${stranger.workflowId}'`;
      // Temporal itself matches both: without the API's own check the stranger would be listed.
      const both = `WorkflowType = '${WORKFLOW_TYPES.journey}' AND (${query})`;
      while (Number((await stack.client.workflow.count(both)).count) < 2) await new Promise((r) => setTimeout(r, 100));
      const listed = await call(`?query=${encodeURIComponent(query)}`);
      expect(listed.status).toBe(200);
      expect(listed.body.journeys.map((j: { uid: string }) => j.uid)).toEqual([uid]);
    } finally {
      await stranger.terminate('test: not a journey');
    }
  });

  test('a visibility filter Temporal refuses is 400 invalid_query, not a 5xx', async () => {
    const result = await call(`?query=${encodeURIComponent("BeginiStage === 'x' AND")}`);
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ reason: 'invalid_query' });
  });
});

describe('npm run redrive', () => {
  const env = () => ({ OPERATOR_TOKEN: OPERATORS.admin.token, OPERATOR_API_URL: stack.receiver.internalUrl });

  test('by query: a dry run lists and changes nothing; the run redrives each with progress', async () => {
    const uid = newUid('CLI');
    await stack.send(delivery('psychometric_score.complete', uid));
    await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
    const args = ['--reason', 'LOS lost the batch', '--query', `WorkflowId = '${uid}'`];
    let dry: Awaited<ReturnType<typeof redriveCli>> = [];
    for (let i = 0; i < 50 && dry.length === 0; i++) {
      dry = await redriveCli([...args, '--dry-run'], env(), () => {});
      if (dry.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(dry).toEqual([{ uid, result: 'would_redrive', status: 0 }]);
    expect(los.forUid(uid, 'decision')).toHaveLength(1);

    const lines: string[] = [];
    const done = await redriveCli(args, env(), (line) => lines.push(line));
    expect(done).toEqual([{ uid, result: 'resend', status: 200 }]);
    expect(lines).toContain(`[1/1] ${uid}: resend`);
    await stack.waitForJourney(uid, () => los.forUid(uid, 'decision').length === 2);
    await stack.recordHistory(uid, 'operator-redrive');
  });

  test('a reason is required, and a non-admin token is refused per journey', async () => {
    await expect(redriveCli(['--uid', 'x'], env(), () => {})).rejects.toBeInstanceOf(UsageError);
    const uid = newUid('CLI');
    const refused = await redriveCli(
      ['--uid', uid, '--reason', 'r'],
      { ...env(), OPERATOR_TOKEN: OPERATORS.reviewer.token },
      () => {},
    );
    expect(refused).toEqual([{ uid, result: 'insufficient_role', status: 403 }]);
  });
});

describe('operators signed in with the identity provider (JWKS URL)', () => {
  test('the provider unreachable is 503; a JWT verified against its JWKS passes; expired is 401', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'ES256' }] });
    const idp = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(jwks));
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    const port = (idp.address() as AddressInfo).port;
    // Down at first: the receiver starts anyway (the keys are fetched when a JWT arrives).
    await new Promise<void>((r) => idp.close(() => r()));
    const sso = await startStack({
      name: 'operators-jwt',
      worker: false,
      env: {
        OPERATOR_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
        OPERATOR_JWT_ISSUER: 'https://idp.test',
        OPERATOR_JWT_AUDIENCE: 'journeys',
      },
    });
    const jwt = (expiresAt: number) =>
      new SignJWT({ roles: ['viewer'] })
        .setProtectedHeader({ alg: 'ES256', kid: 'idp-1' })
        .setIssuer('https://idp.test')
        .setAudience('journeys')
        .setSubject('sam@lender')
        .setExpirationTime(expiresAt)
        .sign(privateKey);
    const get = async (token: string) => {
      const response = await fetch(`${sso.receiver.internalUrl}/journeys/${newUid()}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    try {
      const now = Math.floor(Date.now() / 1000);
      expect(await get(await jwt(now + 300))).toMatchObject({ status: 503, body: { reason: 'jwks_unavailable' } });
      await new Promise<void>((r) => idp.listen(port, '127.0.0.1', r));
      // Authenticated as a viewer: the journey simply does not exist.
      expect(await get(await jwt(now + 300))).toMatchObject({ status: 404, body: { reason: 'unknown_journey' } });
      expect(await get(await jwt(now - 300))).toMatchObject({ status: 401, body: { reason: 'expired_token' } });
      // No tokens file here: a named token is not a credential this receiver takes.
      expect(await get(OPERATORS.admin.token)).toMatchObject({ status: 401, body: { reason: 'invalid_token' } });
    } finally {
      await sso.stop();
      idp.closeAllConnections();
      if (idp.listening) await new Promise<void>((r) => idp.close(() => r()));
    }
  });
});
