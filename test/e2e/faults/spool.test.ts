/**
 * The intake spool on a real PostgreSQL and a real Temporal dev server: a Temporal outage longer
 * than Begini's retries loses no applicant. Deliveries are sent once each (no retries), as a sender
 * whose retries are spent would; every one must be answered 200 and, once Temporal is back,
 * every journey decided and handed off exactly once.
 */
import { mkdirSync } from 'node:fs';
import { Pool } from 'pg';
import { ensure } from '../../../dev/cluster';
import { startPostgres, type Postgres } from '../../../dev/postgres';
import { SPOOL_TABLE } from '../../../src/spool/store';
import { delivery, post, newUid } from '../../support/begini';
import { check, completeThenScore, drive, formatTable, untilProgress, type Row } from '../../support/journeyLoad';
import { TEST_DATA_DIR } from '../../support/paths';
import { freePort } from '../../../src/freePort';
import { startFaultStack, type FaultStack } from './faultStack';

const JOURNEYS = 200;
const DRAIN_PER_SECOND = 100;
const rows: Row[] = [];
let postgres: Postgres;
let db: Pool;
let stack: FaultStack;

const depth = async () => Number((await db.query(`SELECT count(*) AS n FROM ${SPOOL_TABLE}`)).rows[0].n);
const until = async (what: string, condition: () => Promise<boolean>, ms = 120_000) => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

beforeAll(async () => {
  const logDir = `${TEST_DATA_DIR}/faults/spool-pg`;
  mkdirSync(logDir, { recursive: true });
  postgres = await startPostgres(ensure('ensure-postgres', 'PostgreSQL'), logDir);
  db = new Pool({ connectionString: postgres.url });
  // Its idle clients drop when the spool-down test stops PostgreSQL; the next query reconnects.
  db.on('error', () => undefined);
  stack = await startFaultStack('spool', {
    SPOOL_DATABASE_URL: postgres.url,
    SPOOL_DRAIN_PER_SECOND: String(DRAIN_PER_SECOND),
    // An outage costs each delivery this long before it is spooled.
    TEMPORAL_ACK_TIMEOUT_MS: '1000',
  });
});

afterAll(async () => {
  if (rows.length) console.log(formatTable(rows));
  await stack?.stop();
  await db?.end();
  await postgres?.stop();
});

test(`Temporal SIGKILLed while ${JOURNEYS} journeys are sent once each: every delivery 200, every journey decided once after it returns`, async () => {
  let killedAt = 0;
  const { sent, uids } = await drive(
    stack,
    JOURNEYS,
    completeThenScore,
    async (progress) => {
      await untilProgress(progress, JOURNEYS * 0.3);
      await stack.killServer();
      killedAt = progress();
    },
    0,
  );
  const spooled = await depth();
  await stack.startServer();
  const restarted = Date.now();
  await until('the spool drained', async () => (await depth()) === 0);
  const drainSeconds = (Date.now() - restarted) / 1000;
  const row = await check(stack, 'Temporal SIGKILL, no retries', sent, uids);
  const decidedSeconds = (Date.now() - restarted) / 1000;
  expect(spooled).toBeGreaterThan(0);
  rows.push({
    ...row,
    'sent before kill': killedAt,
    spooled,
    'drain s': drainSeconds.toFixed(1),
    'all decided s': decidedSeconds.toFixed(1),
  });
  console.log(
    `spool: ${spooled} deliveries spooled; drained in ${drainSeconds.toFixed(1)} s once Temporal was back ` +
      `(${(spooled / drainSeconds).toFixed(0)}/s at SPOOL_DRAIN_PER_SECOND=${DRAIN_PER_SECOND}); all ${JOURNEYS} decided after ${decidedSeconds.toFixed(1)} s`,
  );
});

test('two receivers drain one spool, one SIGKILLed mid-drain: nothing lost, nothing decided twice', async () => {
  const metricsPort = await freePort();
  const second = await stack.spawnReceiver({ SPOOL_DRAIN_PER_SECOND: '10', INTERNAL_PORT: String(metricsPort) });
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
  };
  try {
    await stack.killServer();
    let turn = 0;
    const journeys = 40;
    const { sent, uids } = await drive(
      { ...stack, name: 'spool-two', webhookUrl: () => (turn++ % 2 ? second.webhookUrl : stack.webhookUrl) },
      journeys,
      completeThenScore,
      undefined,
      0,
    );
    const spooled = await depth();
    expect(spooled).toBe(journeys * 2);
    expect(await metric('begini_spool_depth')).toBe(spooled);
    expect(await metric('begini_spool_oldest_seconds')).toBeGreaterThan(0);
    await stack.startServer();
    // Slow drainers (10/s each), so the kill lands while rows are still waiting.
    await until('the drain started', async () => (await depth()) < spooled - 5);
    await stack.killReceiver();
    const afterKill = await depth();
    expect(afterKill).toBeGreaterThan(0);
    await until('the second receiver drained the rest', async () => (await depth()) === 0);
    expect(await metric('begini_spool_drained_total')).toBeGreaterThan(0);
    await until('/metrics shows the spool empty', async () => (await metric('begini_spool_depth')) === 0, 5_000);
    rows.push({
      ...(await check(stack, 'two receivers, one SIGKILLed mid-drain', sent, uids)),
      'sent before kill': 0,
      spooled,
      'drain s': '-',
      'all decided s': '-',
    });
  } finally {
    await second.kill();
    await stack.startReceiver();
  }
});

test('invalid input while spooling keeps its 4xx and is never spooled; spool and Temporal both down: 503 with Retry-After', async () => {
  await stack.killServer();
  try {
    const before = await depth();
    const uid = newUid('SPOOL-BAD');
    const forged = await post(stack.webhookUrl, delivery('application.complete', uid), { key: 'not-the-key' });
    expect([forged.status, forged.body.reason]).toEqual([403, 'signature_mismatch']);
    const invalid = await post(stack.webhookUrl, { uid, event_type: 'application.complete' });
    expect(invalid.status).toBe(400);
    expect(await depth()).toBe(before);

    const valid = await post(stack.webhookUrl, delivery('application.complete', uid));
    expect(valid.status).toBe(200);
    expect(await depth()).toBe(before + 1);
    // Temporal down, the spool up: still ready, a load balancer keeps sending.
    expect((await fetch(stack.webhookUrl.replace('/webhooks/begini', '/readyz'))).status).toBe(200);

    postgres.stopNow();
    try {
      const refused = await post(stack.webhookUrl, delivery('application.complete', newUid('SPOOL-DOWN')));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    } finally {
      await postgres.start();
    }
  } finally {
    await stack.startServer();
  }
  await until('the spool drained', async () => (await depth()) === 0);
});

test('a full spool answers 503 with Retry-After', async () => {
  // Caps below one sealed body: every delivery finds the spool full.
  const tight = await stack.spawnReceiver({ SPOOL_MAX_BYTES: '1' });
  await stack.killServer();
  try {
    const full = await post(tight.webhookUrl, delivery('application.complete', newUid('SPOOL-FULL')));
    expect([full.status, full.body.reason]).toEqual([503, 'spool_full']);
    expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
  } finally {
    await tight.kill();
    await stack.startServer();
  }
});
