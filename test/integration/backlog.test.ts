/**
 * Admission by backlog against a real dev server: a worker that polled once and never came back
 * (a worker far behind) lets the journeys' workflow tasks pile up; past WEBHOOK_DEFER_BACKLOG an
 * application is answered 503 without the spool, or spooled and held there with it (a real
 * PostgreSQL), and starts nothing, while a score or a cancellation still goes straight in. Once a
 * worker catches up, applications are taken again, the spool drains, and the scored journey
 * decides without its application. With no worker polling at all, nothing is deferred.
 */
import { mkdirSync } from 'node:fs';
import { Pool } from 'pg';
import { ensure } from '../../dev/cluster';
import { startPostgres, type Postgres } from '../../dev/postgres';
import { SPOOL_TABLE } from '../../src/spool/store';
import { createJourneyWorker } from '../../src/worker/worker';
import { loadWorkerConfig } from '../../src/config/worker';
import { createLogger } from '../../src/logger';
import { temporalSettings } from '../../src/temporal/connection';
import { startLos, type Los } from '../../dev/losStandIn';
import { delivery, newUid } from '../support/begini';
import { TEST_DATA_DIR, WORKFLOW_BUNDLE } from '../support/paths';
import { startStack, type Stack } from '../support/stack';
import { waitForAsync } from '../support/until';

const BOUND = '300ms';

let los: Los;
let postgres: Postgres;
let db: Pool;
let stack: Stack;
let spooling: Stack;
let idle: Stack;
const workers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  los = await startLos();
  const logDir = `${TEST_DATA_DIR}/backlog-pg`;
  mkdirSync(logDir, { recursive: true });
  postgres = await startPostgres(ensure('ensure-postgres', 'PostgreSQL'), logDir);
  db = new Pool({ connectionString: postgres.url });
  const env = { WEBHOOK_DEFER_BACKLOG: BOUND };
  stack = await startStack({ name: 'backlog', los, worker: false, env });
  spooling = await startStack({
    name: 'backlog-spool',
    los,
    worker: false,
    env: { ...env, SPOOL_DATABASE_URL: postgres.url },
  });
  idle = await startStack({ name: 'backlog-idle', los, worker: false, env });
});
afterAll(async () => {
  for (const stop of workers) await stop();
  await stack?.stop();
  await spooling?.stop();
  await idle?.stop();
  await db?.end();
  await postgres?.stop();
  await los?.close();
});

async function metric(of: Stack, series: string): Promise<number> {
  const metrics = await (await fetch(`${of.receiver.internalUrl}/metrics`)).text();
  const line = metrics.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.split(' ').pop()) : 0;
}
const backlogGauge = (of: Stack = stack) => metric(of, 'begini_journey_backlog_seconds{namespace="default"}');

/** A worker on the stack's task queue, as the stack would have started it. */
async function startWorker(of: Stack): Promise<void> {
  const { worker, connection, closePolicies } = await createJourneyWorker({
    config: loadWorkerConfig(of.env),
    temporal: temporalSettings(of.env),
    logger: createLogger('backlog-worker', 'warn'),
    workflowBundle: { codePath: WORKFLOW_BUNDLE },
  });
  const run = worker.run();
  workers.push(async () => {
    worker.shutdown();
    await run;
    closePolicies();
    await connection.close();
  });
}

/** One poll that takes a task and never answers: a worker is there, and far behind. */
async function pollOnceAndStall(of: Stack): Promise<void> {
  const { connection } = of.client;
  await connection.withDeadline(Date.now() + 10_000, () =>
    connection.workflowService.pollWorkflowTaskQueue({
      namespace: 'default',
      taskQueue: { name: of.env.TEMPORAL_TASK_QUEUE! },
      identity: 'stalled-worker',
    }),
  );
}

/** Applications for new uids until one is not taken straight in: the gate has seen the backlog. */
async function untilDeferred(of: Stack, taken: (status: number) => boolean) {
  let uid = '';
  let result: Awaited<ReturnType<Stack['send']>> | undefined;
  await waitForAsync(async () => {
    uid = newUid();
    result = await of.send(delivery('application.complete', uid));
    return !(await of.exists(uid)) || !taken(result.status);
  });
  return { uid, result: result! };
}

describe('while the journeys are behind, without the spool', () => {
  const scored = newUid();
  let deferred: string;

  test('an application is answered 503 journeys_backlogged and starts nothing, once the backlog passes the bound', async () => {
    // The first application starts its journey: nothing waits yet.
    const first = newUid();
    expect((await stack.send(delivery('application.complete', first))).status).toBe(200);
    expect(await stack.exists(first)).toBe(true);
    await pollOnceAndStall(stack);

    const { uid, result: refused } = await untilDeferred(stack, (status) => status === 200);
    deferred = uid;
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ reason: 'journeys_backlogged' });
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await stack.exists(deferred)).toBe(false);
    expect(await backlogGauge()).toBeGreaterThan(0.3);
  });

  test('a score, or a cancellation, still starts its journey at once', async () => {
    const result = await stack.send(delivery('psychometric_score.complete', scored));
    expect(result.status).toBe(200);
    expect(await stack.exists(scored)).toBe(true);
    const cancelled = newUid();
    expect((await stack.send(delivery('application.cancelled', cancelled))).status).toBe(200);
    expect(await stack.exists(cancelled)).toBe(true);
    // And the gate is still closed to events without a score.
    expect((await stack.send(delivery('application.complete', newUid()))).status).toBe(503);
  });

  test('once a worker catches up, applications are taken again and the scored journey decides', async () => {
    await startWorker(stack);
    await stack.waitForJourney(scored, (view) => view.stage === 'decided');
    // New uids until one is taken (the server's task-queue stats lag by seconds): then Begini's
    // retry of the refused application lands too.
    await waitForAsync(async () => (await stack.send(delivery('application.complete', newUid()))).status === 200);
    expect((await stack.send(delivery('application.complete', deferred))).status).toBe(200);
    expect(await stack.exists(deferred)).toBe(true);
  });
});

describe('while the journeys are behind, with the spool on', () => {
  const scored = newUid();
  const spooled = async () => Number((await db.query(`SELECT count(*) AS n FROM ${SPOOL_TABLE}`)).rows[0].n);
  let deferred: string;

  test('an application is answered 200, held in the spool and not drained while the backlog lasts', async () => {
    expect((await spooling.send(delivery('application.complete', newUid()))).status).toBe(200);
    await pollOnceAndStall(spooling);
    const { uid, result } = await untilDeferred(spooling, () => true);
    deferred = uid;
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ status: 'accepted' });
    expect(await spooled()).toBe(1);
    expect(await metric(spooling, 'begini_webhook_requests_total{status="200",reason="deferred"}')).toBe(1);
    // A score still goes straight in.
    expect((await spooling.send(delivery('psychometric_score.complete', scored))).status).toBe(200);
    expect(await spooling.exists(scored)).toBe(true);
    // The drainer would have taken the row within a second (50 a second); it holds it while the
    // journeys are behind. Absence cannot be awaited: two seconds of it.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await backlogGauge(spooling)).toBeGreaterThan(0.3);
    expect(await spooled()).toBe(1);
    expect(await spooling.exists(deferred)).toBe(false);
  });

  test('once a worker catches up, the spool drains into its journey and the scored journey decides', async () => {
    await startWorker(spooling);
    await spooling.waitForJourney(scored, (view) => view.stage === 'decided');
    await waitForAsync(async () => (await spooled()) === 0);
    await spooling.waitForJourney(deferred, (view) => view.stage === 'awaiting_scores');
  });
});

test('with no worker polling at all, nothing is deferred: the workers are down, not behind, and Temporal holds the event', async () => {
  // Each application makes the gate read the backlog: every one is taken while it grows past the bound.
  await waitForAsync(async () => {
    expect((await idle.send(delivery('application.complete', newUid()))).status).toBe(200);
    return (await backlogGauge(idle)) > 0.3;
  });
  const uid = newUid();
  expect((await idle.send(delivery('application.complete', uid))).status).toBe(200);
  expect(await idle.exists(uid)).toBe(true);
});
