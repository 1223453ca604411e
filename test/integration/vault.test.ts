/**
 * The refused-delivery vault on a real PostgreSQL and Temporal dev server: deliveries Begini signs
 * with a key the receiver does not have yet are answered 403 and vaulted; once the key is configured,
 * replay-refused decides each journey exactly once; a forged or tampered row is never replayed;
 * the per-integration cap drops the oldest; a missing signature or an unknown integration id is not
 * vaulted; the per-second bound and the retention hold; the 403 never waits for the insert; a dry run
 * replays nothing.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { sign } from '../../src/begini/verifier';
import { AesGcmCodec } from '../../src/codec/aesGcm';
import { loadReceiverConfig } from '../../src/config/receiver';
import { startLos, type Los } from '../../dev/losStandIn';
import { replayRefused } from '../../src/spool/replayRefused';
import { SpoolStore } from '../../src/spool/store';
import { FALLBACK_VAULT, RefusedVault, VAULT_TABLE } from '../../src/spool/vault';
import { ensure } from '../../dev/cluster';
import { startPostgres, type Postgres } from '../../dev/postgres';
import { delivery, newUid, TEST_KEY } from '../support/begini';
import { TEST_DATA_DIR } from '../support/paths';
import { startStack, type Stack } from '../support/stack';
import { waitFor, waitForAsync } from '../support/until';

const NEW_KEY = 'rotated-begini-key-2026-12-a41c';
let postgres: Postgres;
let db: Pool;
let los: Los;
let stack: Stack;

const vaulted = async (integrationId = FALLBACK_VAULT) =>
  Number(
    (await db.query(`SELECT count(*) AS n FROM ${VAULT_TABLE} WHERE integration_id = $1`, [integrationId])).rows[0].n,
  );

/** The receiver's count of vault attempts by outcome: the vault is written after the 403 is sent. */
async function vaultOutcomes(target: Stack = stack): Promise<Record<string, number>> {
  const metrics = await (await fetch(`${target.receiver.internalUrl}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const [, outcome, n] of metrics.matchAll(/^begini_vault_refused_total\{outcome="(\w+)"\} (\d+)$/gm))
    counts[outcome!] = Number(n);
  return counts;
}

/** Waits until `more` further vault attempts of this outcome have finished since `before`. */
async function vaultSettled(before: Record<string, number>, more: number, outcome = 'vaulted', target = stack) {
  await waitForAsync(async () => ((await vaultOutcomes(target))[outcome] ?? 0) >= (before[outcome] ?? 0) + more);
}

beforeAll(async () => {
  const logDir = `${TEST_DATA_DIR}/vault-pg`;
  mkdirSync(logDir, { recursive: true });
  postgres = await startPostgres(ensure('ensure-postgres', 'PostgreSQL'), logDir);
  db = new Pool({ connectionString: postgres.url });
  los = await startLos();
  stack = await startStack({
    name: 'vault',
    los,
    env: { SPOOL_DATABASE_URL: postgres.url, SPOOL_VAULT_MAX_ROWS: '4' },
  });
});

afterAll(async () => {
  await stack?.stop();
  await los?.close();
  await db?.end();
  await postgres?.stop();
});

beforeEach(async () => {
  await db.query(`DELETE FROM ${VAULT_TABLE}`).catch(() => undefined);
});

/** The operator's configuration after the fix: the key Begini now signs with. */
function replayDeps(key: string) {
  const config = loadReceiverConfig({ ...stack.env, BEGINI_API_KEY: key });
  const codec = new AesGcmCodec(config.codecKeys);
  const spool = new SpoolStore(postgres.url, codec, config.spool!);
  const vault = new RefusedVault(spool.pool, codec, config.spool!.vault);
  const connection = stack.receiver.connection;
  return { config, connection, clients: new Map([['default', stack.client]]), vault, spool };
}

test('signed with a key not yet configured: 403 and vaulted; after the fix, replay-refused decides each journey once, a forged row never', async () => {
  const uid = newUid();
  const bodies = ['application.complete', 'psychometric_score.complete'].map((type) =>
    JSON.stringify(delivery(type, uid)),
  );
  const before = await vaultOutcomes();
  for (const body of bodies) {
    const result = await stack.send(body, { key: NEW_KEY });
    expect(result.status).toBe(403);
    expect(result.body).toMatchObject({ reason: 'signature_mismatch' });
  }
  await vaultSettled(before, 2);
  expect(await vaulted()).toBe(2);
  expect(await stack.exists(uid)).toBe(false);

  // A forged row: a body for another applicant signed with a key Begini never had.
  const forgedUid = newUid();
  const deps = replayDeps(NEW_KEY);
  const forged = JSON.stringify(delivery('application.complete', forgedUid));
  await deps.vault.keep({
    integrationId: FALLBACK_VAULT,
    signature: sign(forged, 'not-a-key-begini-ever-had-9c1e'),
    rawBody: Buffer.from(forged),
    receivedAt: new Date(),
  });

  try {
    const dry = await replayRefused(deps, { integrationId: FALLBACK_VAULT, dryRun: true, print: () => undefined });
    expect(dry).toMatchObject({ replayed: 2, unverifiable: 1, failed: 0 });
    expect(await stack.exists(uid)).toBe(false);
    expect(await vaulted()).toBe(3);

    const lines: string[] = [];
    const summary = await replayRefused(deps, {
      integrationId: FALLBACK_VAULT,
      dryRun: false,
      print: (l) => lines.push(l),
    });
    expect(summary).toMatchObject({ replayed: 2, unverifiable: 1, invalid: 0, failed: 0 });
    expect(lines.join('\n')).not.toContain(uid);
    await stack.waitForJourney(uid, (view) => view.stage === 'decided');
    // Only the forged row is left; running again replays nothing more.
    expect(await vaulted()).toBe(1);
    expect(
      await replayRefused(deps, { integrationId: FALLBACK_VAULT, dryRun: false, print: () => undefined }),
    ).toMatchObject({
      replayed: 0,
      unverifiable: 1,
    });
    await waitFor(() => los.acceptedFor(uid, 'decision').length === 1);
    expect(los.acceptedFor(uid, 'decision')).toHaveLength(1);
    expect(await stack.exists(forgedUid)).toBe(false);
  } finally {
    await deps.spool.close();
  }
});

test('a body altered in the table is never replayed', async () => {
  const uid = newUid();
  const body = JSON.stringify(delivery('application.complete', uid));
  const before = await vaultOutcomes();
  expect((await stack.send(body, { key: NEW_KEY })).status).toBe(403);
  await vaultSettled(before, 1);
  await db.query(`UPDATE ${VAULT_TABLE} SET sealed = overlay(sealed placing '\\x00'::bytea from 20 for 1)`);
  const deps = replayDeps(NEW_KEY);
  try {
    const summary = await replayRefused(deps, { integrationId: FALLBACK_VAULT, dryRun: false, print: () => undefined });
    expect(summary).toMatchObject({ replayed: 0, unreadable: 1 });
    expect(await stack.exists(uid)).toBe(false);
  } finally {
    await deps.spool.close();
  }
});

test('the per-integration cap drops the oldest; a missing signature is not vaulted', async () => {
  const uids = Array.from({ length: 6 }, () => newUid());
  // One at a time, so that arrival order is insert order.
  for (const uid of uids) {
    const before = await vaultOutcomes();
    expect((await stack.send(JSON.stringify(delivery('application.complete', uid)), { key: NEW_KEY })).status).toBe(
      403,
    );
    await vaultSettled(before, 1);
  }
  const before = await vaultOutcomes();
  expect(
    (await stack.send(JSON.stringify(delivery('application.complete', newUid())), { signature: null })).status,
  ).toBe(403);
  // A vaulted delivery after it: once that one is in, the unsigned one would have been too.
  const last = newUid();
  expect((await stack.send(JSON.stringify(delivery('application.complete', last)), { key: NEW_KEY })).status).toBe(403);
  await vaultSettled(before, 1);
  expect(await vaultOutcomes()).toEqual({ ...before, vaulted: (before.vaulted ?? 0) + 1 });
  expect(await vaulted()).toBe(4);
  const deps = replayDeps(NEW_KEY);
  try {
    const kept = await deps.vault.rows(FALLBACK_VAULT);
    const keptUids = kept.map((row) => ('rawBody' in row ? JSON.parse(Buffer.from(row.rawBody).toString()).uid : null));
    expect(keptUids).toEqual([...uids.slice(3), last]);
  } finally {
    await deps.spool.close();
  }
});

test('a delivery the configured key verifies is not vaulted', async () => {
  const before = await vaultOutcomes();
  expect((await stack.send(JSON.stringify(delivery('application.complete', newUid())), { key: TEST_KEY })).status).toBe(
    200,
  );
  expect((await stack.send(JSON.stringify(delivery('application.complete', newUid())), { key: NEW_KEY })).status).toBe(
    403,
  );
  await vaultSettled(before, 1);
  expect(await vaulted()).toBe(1);
});

test('the 403 does not wait for the vault: a configured id answers as soon as an unknown one would', async () => {
  // The receiver has made its table (one vaulted delivery), then every insert blocks behind this
  // lock: a receiver that awaited its insert would not answer.
  const first = await vaultOutcomes();
  await stack.send(JSON.stringify(delivery('application.complete', newUid())), { key: NEW_KEY });
  await vaultSettled(first, 1);
  const locker = await db.connect();
  const before = await vaultOutcomes();
  try {
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${VAULT_TABLE} IN ACCESS EXCLUSIVE MODE`);
    const result = await stack.send(JSON.stringify(delivery('application.complete', newUid())), {
      key: NEW_KEY,
      signal: AbortSignal.timeout(20_000),
    });
    expect(result.status).toBe(403);
    expect((await vaultOutcomes()).vaulted ?? 0).toBe(before.vaulted ?? 0);
  } finally {
    await locker.query('ROLLBACK');
    locker.release();
  }
  await vaultSettled(before, 1);
  expect(await vaulted()).toBe(2);
});

test('an integration id this receiver does not know is never vaulted; a known one under its own id', async () => {
  const deployments = resolve(TEST_DATA_DIR, 'deployments-vault-test.yaml');
  writeFileSync(
    deployments,
    [
      'deployments:',
      '  - integrationId: "vault-known-integration"',
      '    environment: production',
      `    keys: [{ id: "known-1", value: "${TEST_KEY}" }]`,
    ].join('\n'),
  );
  const scoped = await startStack({
    name: 'vault-scoped',
    los,
    worker: false,
    env: { BEGINI_API_KEY: '', BEGINI_DEPLOYMENTS_FILE: deployments, SPOOL_DATABASE_URL: postgres.url },
  });
  try {
    const before = await vaultOutcomes(scoped);
    const unknown = delivery('application.complete', newUid(), { integrationId: 'invented-integration' });
    expect((await scoped.send(unknown, { key: NEW_KEY })).body).toMatchObject({ reason: 'signature_mismatch' });
    const known = delivery('application.complete', newUid(), { integrationId: 'vault-known-integration' });
    expect((await scoped.send(known, { key: NEW_KEY })).status).toBe(403);
    await vaultSettled(before, 1, 'vaulted', scoped);
    expect(await vaulted('vault-known-integration')).toBe(1);
    expect(await vaulted('invented-integration')).toBe(0);
    expect(await vaulted()).toBe(0);
  } finally {
    await scoped.stop();
  }
});

describe('the vault on its own', () => {
  const limits = { maxRows: 100, maxBytes: 1 << 20, retentionMs: 60_000, perSecond: 2 };
  const refused = (receivedAt = new Date()) => {
    const body = JSON.stringify(delivery('application.complete', newUid()));
    return { integrationId: 'vault-own', signature: sign(body, NEW_KEY), rawBody: Buffer.from(body), receivedAt };
  };
  let spool: SpoolStore;
  let codec: AesGcmCodec;
  beforeAll(() => {
    const config = loadReceiverConfig(stack.env);
    codec = new AesGcmCodec(config.codecKeys);
    spool = new SpoolStore(postgres.url, codec, config.spool!);
  });
  afterAll(() => spool?.close());

  test('past perSecond inserts in one second for one integration, the rest are not vaulted', async () => {
    const vault = new RefusedVault(spool.pool, codec, limits);
    // Admission is decided before the first await, so these five share one second.
    const now = jest.spyOn(Date, 'now').mockReturnValue(Date.now());
    const outcomes = Array.from({ length: 5 }, () => vault.keep(refused()));
    now.mockRestore();
    expect((await Promise.all(outcomes)).sort()).toEqual([
      'rate_limited',
      'rate_limited',
      'rate_limited',
      'vaulted',
      'vaulted',
    ]);
    expect(await vaulted('vault-own')).toBe(2);
  });

  test('rows past the retention are neither read nor kept', async () => {
    const vault = new RefusedVault(spool.pool, codec, { ...limits, perSecond: 100 });
    const fresh = refused();
    await vault.keep(fresh);
    // Received two minutes ago under a one-minute retention: the insert's own trim removes it.
    await vault.keep(refused(new Date(Date.now() - 120_000)));
    expect(await vaulted('vault-own')).toBe(1);
    const read = await vault.rows('vault-own');
    expect(read.map((row) => ('rawBody' in row ? Buffer.from(row.rawBody).toString() : row))).toEqual([
      Buffer.from(fresh.rawBody).toString(),
    ]);
    // A reader with a shorter retention than the row's age does not return it either.
    await db.query(`UPDATE ${VAULT_TABLE} SET received_at = now() - interval '30 seconds'`);
    expect(await new RefusedVault(spool.pool, codec, { ...limits, retentionMs: 10_000 }).rows('vault-own')).toEqual([]);
  });
});

describe('npm run replay-refused, the command', () => {
  const cli = resolve(__dirname, '..', '../node_modules/.bin/tsx');
  const script = resolve(__dirname, '..', '../src/spool/replayRefused.ts');

  /** Runs the command as an operator would, with the receiver's environment plus `env`. */
  async function run(args: string[], env: Record<string, string | undefined> = {}) {
    return new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn(cli, [script, ...args], {
        env: { ...process.env, ...stack.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('close', (code) => done({ code, out }));
    });
  }

  test('a wrong command line exits 64 with the usage', async () => {
    for (const args of [['--integration', 'x', '--no-such-flag'], [], ['--integration', 'x', '--since', 'yesterday']]) {
      const { code, out } = await run(args);
      expect({ args, code }).toEqual({ args, code: 64 });
      expect(out).toContain('usage: npm run replay-refused');
    }
  });

  test('no SPOOL_DATABASE_URL, or an invalid configuration, exits 78', async () => {
    const noVault = await run(['--integration', 'x'], { SPOOL_DATABASE_URL: undefined });
    expect(noVault).toEqual({ code: 78, out: expect.stringContaining('there is no vault') });
    const invalid = await run(['--integration', 'x'], { SPOOL_DATABASE_URL: 'mysql://127.0.0.1/begini' });
    expect(invalid).toEqual({ code: 78, out: expect.stringContaining('invalid configuration') });
  });

  test('a vault it cannot read exits 75: run it again later', async () => {
    const closed = postgres.url.replace(/:\d+\//, ':1/');
    const { code, out } = await run(['--integration', 'x'], { SPOOL_DATABASE_URL: closed });
    expect(code).toBe(75);
    expect(out).not.toContain(NEW_KEY);
  });

  test('a dry run after the fix counts what would replay and exits 0, replaying nothing', async () => {
    const before = await vaultOutcomes();
    expect(
      (await stack.send(JSON.stringify(delivery('application.complete', newUid())), { key: NEW_KEY })).status,
    ).toBe(403);
    await vaultSettled(before, 1);
    const { code, out } = await run(['--integration', 'any', '--dry-run'], { BEGINI_API_KEY: NEW_KEY });
    expect(code).toBe(0);
    expect(out).toContain('would replay (verified): 1;');
    expect(out).not.toContain(NEW_KEY);
    expect(await vaulted()).toBe(1);
  });
});

// Last: the receiver's cached schema no longer matches the database, so every later insert fails.
test('vaulting failing leaves the 403 exactly as it is, and is counted', async () => {
  const body = JSON.stringify(delivery('application.complete', newUid()));
  const start = await vaultOutcomes();
  const before = await stack.send(body, { key: NEW_KEY });
  // The first one's insert runs after its 403: let it land before the table goes.
  await vaultSettled(start, 1);
  await db.query(`DROP TABLE ${VAULT_TABLE}`);
  const after = await stack.send(body, { key: NEW_KEY });
  expect(after.status).toBe(403);
  expect(after.body).toEqual(before.body);
  await vaultSettled({}, 1, 'failed');
  expect((await vaultOutcomes()).failed).toBe(1);
  expect(await stack.logText()).toContain('vaulting failed');
});
