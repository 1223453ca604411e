/**
 * The spool's table on a real PostgreSQL: one applicant's rows in arrival order, a row held by one
 * drainer never taken by another, a dead-lettered row not holding its uid's queue, the caps, bodies
 * sealed at rest across a codec key rotation, and a drained row rebuilt into exactly the delivery
 * the receiver verified.
 */
import { mkdirSync } from 'node:fs';
import { Pool } from 'pg';
import { AesGcmCodec, parseCodecKeys } from '../../src/codec/aesGcm';
import { parseDelivery } from '../../src/begini/events';
import { loadReceiverConfig } from '../../src/config/receiver';
import { keyUidRefs, uidRef } from '../../src/logger';
import { toDelivery, type Verified } from '../../src/receiver/deliver';
import { rebuild } from '../../src/spool/drain';
import { isDeferrable } from '../../src/receiver/backlog';
import { SPOOL_TABLE, SpoolStore, type SpooledRow, type SpoolEntry } from '../../src/spool/store';
import { ensure } from '../../dev/cluster';
import { startPostgres, type Postgres } from '../../dev/postgres';
import { delivery, newUid, TEST_CODEC_KEYS, TEST_KEY } from '../support/begini';
import { TEST_DATA_DIR } from '../support/paths';

const config = loadReceiverConfig({ PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS, BEGINI_API_KEY: TEST_KEY });
const codec = new AesGcmCodec(config.codecKeys);
const LIMITS = { maxRows: 1_000, maxBytes: 10_000_000 };
let postgres: Postgres;
let db: Pool;

beforeAll(async () => {
  keyUidRefs(config.codecKeys);
  const logDir = `${TEST_DATA_DIR}/spool-pg`;
  mkdirSync(logDir, { recursive: true });
  postgres = await startPostgres(ensure('ensure-postgres', 'PostgreSQL'), logDir);
  db = new Pool({ connectionString: postgres.url });
});

afterAll(async () => {
  await db?.end();
  await postgres?.stop();
});

beforeEach(async () => {
  await db.query(`DROP TABLE IF EXISTS ${SPOOL_TABLE}`);
});

function verified(type: string, uid: string): Verified {
  const raw = JSON.stringify(delivery(type, uid));
  const parsed = parseDelivery(JSON.parse(raw));
  if (!parsed.ok) throw new Error(parsed.message);
  return {
    uid,
    integrationId: parsed.integrationId,
    deployment: config.fallback!,
    keyId: 'BEGINI_API_KEY',
    event: parsed.event,
    rawBody: Buffer.from(raw),
    receivedAt: new Date(Date.now() - 3_600_000),
  };
}

const entry = (v: Verified): SpoolEntry => ({
  uidRef: uidRef(v.uid),
  integrationId: v.integrationId,
  signingKeyId: v.keyId,
  rawBody: v.rawBody,
  receivedAt: v.receivedAt,
  deferrable: isDeferrable(v.event.type),
});

const bodies = (rows: SpooledRow[]) => rows.map((r) => Buffer.from(r.rawBody).toString());

test('one uid in arrival order; a row one drainer holds is never taken by another', async () => {
  const store = new SpoolStore(postgres.url, codec, LIMITS);
  const [a, b] = [newUid('A'), newUid('B')];
  const [a1, b1, a2] = [
    verified('application.complete', a),
    verified('application.complete', b),
    verified('psychometric_score.complete', a),
  ];
  for (const v of [a1, b1, a2]) expect(await store.enqueue(entry(v))).toBe('spooled');

  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let first: string[] = [];
  const holding = store.withBatch(10, async (rows, tx) => {
    first = bodies(rows);
    await held;
    await tx.remove(rows[0]!.id);
  });
  try {
    while (first.length === 0) await new Promise((r) => setTimeout(r, 10));
    // The heads of both uids are held; a2 waits behind a1 whoever holds a1.
    expect(first).toEqual([a1, b1].map((v) => Buffer.from(v.rawBody).toString()));
    expect(bodies(await store.withBatch(10, async (rows) => rows))).toEqual([]);
  } finally {
    // A failed expectation must not leave the batch's locks held (the next test drops the table).
    release();
    await holding;
  }
  // a1 is gone, b1 was released unsettled: b1 again, then a's next row.
  expect(bodies(await store.withBatch(10, async (rows) => rows))).toEqual(
    [b1, a2].map((v) => Buffer.from(v.rawBody).toString()),
  );
  await store.close();
});

test('a dead-lettered row leaves the queue of its uid, and is counted', async () => {
  const store = new SpoolStore(postgres.url, codec, LIMITS);
  const uid = newUid('D');
  const [first, second] = [verified('application.complete', uid), verified('psychometric_score.complete', uid)];
  await store.enqueue(entry(first));
  await store.enqueue(entry(second));
  await store.withBatch(10, async (rows, tx) => tx.deadLetter(rows[0]!.id, 'rejected_by_temporal'));
  expect(bodies(await store.withBatch(10, async (rows) => rows))).toEqual([Buffer.from(second.rawBody).toString()]);
  expect(await store.stats()).toMatchObject({ waiting: 1, dead: 1 });
  await store.close();
});

test('while the journeys are behind, held applications are skipped and hold nothing behind them', async () => {
  const store = new SpoolStore(postgres.url, codec, LIMITS);
  const [a, b] = [newUid('A'), newUid('B')];
  const [a1, a2, b1, b2] = [
    verified('application.complete', a),
    verified('psychometric_score.complete', a),
    verified('application.complete', b),
    verified('application.cancelled', b),
  ];
  for (const v of [a1, a2, b1, b2]) await store.enqueue(entry(v));
  const text = (...vs: Verified[]) => vs.map((v) => Buffer.from(v.rawBody).toString());
  // Behind: only what is not an application, each uid's earliest of those, even past a limit of 1.
  expect(bodies(await store.withBatch(1, async (rows) => rows, true))).toEqual(text(a2));
  expect(bodies(await store.withBatch(10, async (rows) => rows, true))).toEqual(text(a2, b2));
  // Caught up: arrival order per uid again.
  expect(bodies(await store.withBatch(10, async (rows) => rows))).toEqual(text(a1, b1));
  await store.close();
});

test('past its row or byte cap the spool is full', async () => {
  const byRows = new SpoolStore(postgres.url, codec, { maxRows: 2, maxBytes: LIMITS.maxBytes });
  const v = verified('application.complete', newUid('C'));
  expect([await byRows.enqueue(entry(v)), await byRows.enqueue(entry(v)), await byRows.enqueue(entry(v))]).toEqual([
    'spooled',
    'spooled',
    'full',
  ]);
  const { bytes } = await byRows.stats();
  const byBytes = new SpoolStore(postgres.url, codec, { maxRows: 100, maxBytes: bytes + 1 });
  expect(await byBytes.enqueue(entry(v))).toBe('full');
  await Promise.all([byRows.close(), byBytes.close()]);
});

test('bodies are sealed at rest, and a row sealed before a key rotation still opens', async () => {
  const before = new SpoolStore(postgres.url, codec, LIMITS);
  const v = verified('psychometric_score.complete', newUid('S'));
  await before.enqueue(entry(v));
  await before.close();
  const { rows } = await db.query(`SELECT sealed, codec_key_id FROM ${SPOOL_TABLE}`);
  expect(rows[0].codec_key_id).toBe(config.codecKeys[0]!.id);
  expect(Buffer.from(rows[0].sealed).includes(Buffer.from(v.uid))).toBe(false);

  const rotated = new AesGcmCodec([
    ...parseCodecKeys(`next-key:${Buffer.alloc(32, 9).toString('base64')}`),
    ...config.codecKeys,
  ]);
  const after = new SpoolStore(postgres.url, rotated, LIMITS);
  expect(bodies(await after.withBatch(10, async (rows) => rows))).toEqual([Buffer.from(v.rawBody).toString()]);
  await after.close();

  // With the old key gone the row can never open: it is dead-lettered, not retried for ever.
  const withoutOld = new SpoolStore(
    postgres.url,
    new AesGcmCodec(parseCodecKeys(`next-key:${Buffer.alloc(32, 9).toString('base64')}`)),
    LIMITS,
  );
  expect(await withoutOld.withBatch(10, async (rows, _tx, unreadable) => [rows.length, unreadable])).toEqual([0, 1]);
  expect(await withoutOld.stats()).toMatchObject({ waiting: 0, dead: 1 });
  await withoutOld.close();
});

test('a drained row rebuilds exactly the delivery the receiver verified (receivedAt, fingerprint, key id)', async () => {
  const store = new SpoolStore(postgres.url, codec, LIMITS);
  const v = verified('psychometric_score.complete', newUid('R'));
  await store.enqueue(entry(v));
  const [row] = await store.withBatch(10, async (rows) => rows);
  const rebuilt = rebuild(config, row!);
  expect('dead' in rebuilt).toBe(false);
  expect(toDelivery(rebuilt as Verified)).toEqual(toDelivery(v));
  await store.close();
});
