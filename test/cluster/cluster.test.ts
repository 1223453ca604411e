/**
 * `npm run test:cluster`: the production topology, proven. A Temporal cluster on PostgreSQL (the
 * four services as separate processes, from deploy/temporal/ as the compose file runs them), our
 * setup, two receivers (spooling to a database of their own on the cluster's PostgreSQL), two
 * workers and the codec endpoint installed as the image installs them, and an LOS stand-in. Mixed
 * journeys through both receivers, then one fault at a time under load; every row must show 0 lost,
 * 0 double decisions, 0 double hand-offs.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { AesGcmCodec, parseCodecKeys } from '../../src/codec/aesGcm';
import { LOS_SECRET, startLos, type Los } from '../../dev/losStandIn';
import { startTemporalCluster, type TemporalCluster } from '../../dev/cluster';
import { installLikeImage, startClusterApps, type ClusterApps } from '../../dev/clusterApps';
import { SPOOL_TABLE } from '../../src/spool/store';
import { TEST_CODEC_KEYS, TEST_KEY } from '../support/begini';
import {
  check,
  completeThenScore,
  drive,
  formatTable,
  mixedJourneys,
  untilProgress,
  type LoadTarget,
  type Plan,
  type Row,
} from '../support/journeyLoad';
import { TEST_DATA_DIR, TEST_LOG_DIR } from '../support/paths';

const MIXED_JOURNEYS = Number(process.env.CLUSTER_JOURNEYS ?? 500);
const FAULT_JOURNEYS = Number(process.env.CLUSTER_FAULT_JOURNEYS ?? 200);
const CODEC_TOKEN = 'cluster-codec-token-5b1e0c7a9d';
// Beside the per-run logs (which every jest run's global setup clears), so a cluster run keeps its own.
const LOG_DIR = resolve(TEST_LOG_DIR, '..', 'cluster-logs');

let cluster: TemporalCluster;
let apps: ClusterApps;
let los: Los;
let connection: Connection;
let client: Client;
let spool: Pool;
const rows: Row[] = [];

beforeAll(async () => {
  rmSync(LOG_DIR, { recursive: true, force: true });
  cluster = await startTemporalCluster({ logDir: LOG_DIR, historyShards: 4 });
  const imageDir = resolve(TEST_DATA_DIR, 'cluster-image');
  installLikeImage(imageDir);
  los = await startLos();
  apps = await startClusterApps({
    imageDir,
    logDir: LOG_DIR,
    temporalAddress: cluster.address,
    receivers: 2,
    workers: 2,
    env: {
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_RETENTION_DAYS: '30',
      PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS,
      BEGINI_API_KEY: TEST_KEY,
      LOS_CALLBACK_URL: los.url,
      LOS_CALLBACK_SECRET: LOS_SECRET,
      CODEC_AUTH_TOKEN: CODEC_TOKEN,
      SPOOL_DATABASE_URL: cluster.spoolDatabaseUrl,
      TEMPORAL_ACK_TIMEOUT_MS: '3000',
      JOURNEY_HANDOFF_RETRY_INITIAL: '200ms',
      LOG_LEVEL: 'warn',
    },
  });
  connection = await Connection.connect({ address: cluster.address });
  client = new Client({
    connection,
    dataConverter: { payloadCodecs: [new AesGcmCodec(parseCodecKeys(TEST_CODEC_KEYS))] },
  });
  spool = new Pool({ connectionString: cluster.spoolDatabaseUrl });
  // Its idle clients drop when PostgreSQL restarts; the next query reconnects.
  spool.on('error', () => undefined);
}, 600_000);

afterAll(async () => {
  if (rows.length) console.log(formatTable(rows));
  await apps?.stop();
  await connection?.close();
  await spool?.end();
  await los?.close();
  await cluster?.stop();
}, 120_000);

/** Round-robin over the receivers in rotation, per attempt, as a load balancer would. */
function target(name: string): LoadTarget {
  let next = 0;
  return {
    name,
    client,
    los,
    webhookUrl: () => {
      const live = apps.liveReceivers();
      return live[next++ % live.length]!;
    },
  };
}

async function underFault(
  name: string,
  scenario: string,
  fault: (progress: () => number) => Promise<void>,
  plan: Plan = completeThenScore,
): Promise<void> {
  const load = target(name);
  const { sent, uids } = await drive(load, FAULT_JOURNEYS, plan, fault);
  rows.push(await check(load, scenario, sent, uids));
  expect(cluster.unexpectedExits()).toEqual([]);
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Deliveries waiting in the receivers' spool (the table the receivers create on first use). */
const spoolDepth = async () =>
  Number((await spool.query(`SELECT count(*) AS n FROM ${SPOOL_TABLE} WHERE dead_at IS NULL`)).rows[0].n);

/** A counter summed over every series and every receiver still running. */
async function receiversCounter(name: string): Promise<number> {
  let sum = 0;
  for (const url of apps.receiverInternalUrls) {
    const text = await fetch(`${url}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))) sum += Number(m[1]);
  }
  return sum;
}

async function until(what: string, condition: () => Promise<boolean>, ms = 300_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await pause(200);
  }
}

test('setup registered the namespace with its retention, and the search attributes on SQL visibility', async () => {
  const { config } = await connection.workflowService.describeNamespace({ namespace: 'default' });
  expect(Number(config!.workflowExecutionRetentionTtl!.seconds)).toBe(30 * 86_400);
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
  expect(Object.keys(customAttributes!)).toEqual(expect.arrayContaining(['BeginiStage', 'BeginiHandoff']));
});

test(`${MIXED_JOURNEYS} mixed journeys end to end through both receivers, round-robin`, async () => {
  const load = target('mixed');
  const { sent, uids } = await drive(load, MIXED_JOURNEYS, mixedJourneys);
  rows.push(await check(load, 'mixed journeys, no fault', sent, uids));
  expect(cluster.unexpectedExits()).toEqual([]);

  // Both receivers took a fair share of the 200s (round-robin per attempt).
  const acked = await Promise.all(
    apps.receiverInternalUrls.map(async (url) => {
      const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
      return [...metrics.matchAll(/^begini_webhook_requests_total\{[^}]*status="200"[^}]*\} (\d+)/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    }),
  );
  for (const count of acked) expect(count).toBeGreaterThan(sent.length / 4);

  // The journeys are findable by our search attributes on PostgreSQL visibility (eventually).
  const query = `BeginiHandoff = 'delivered' AND WorkflowId STARTS_WITH '${uids[0]!.split('-').slice(0, 2).join('-')}-'`;
  let count = 0;
  for (let i = 0; i < 100 && count < uids.length; i++) {
    count = (await client.workflow.count(query)).count;
    if (count < uids.length) await pause(300);
  }
  expect(count).toBe(uids.length);

  // The codec endpoint decrypts what Temporal stores: the first event's payload names the uid.
  const history = await connection.workflowService.getWorkflowExecutionHistory({
    namespace: 'default',
    execution: { workflowId: uids[0]! },
  });
  const stored = history.history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  const b64 = (bytes?: Uint8Array | null) => Buffer.from(bytes ?? []).toString('base64');
  const asJson = {
    metadata: Object.fromEntries(Object.entries(stored.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
    data: b64(stored.data),
  };
  expect(Buffer.from(asJson.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
  const decoded = await fetch(`${apps.codecUrl}/codec/decode`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CODEC_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ payloads: [asJson] }),
  }).then((r) => r.json() as Promise<{ payloads: Array<{ data: string }> }>);
  expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toContain(uids[0]!);
});

test('a history service SIGKILLed under load, then started again', async () => {
  await underFault('history', 'history SIGKILL', async (progress) => {
    await untilProgress(progress, FAULT_JOURNEYS * 0.8);
    await cluster.kill('history');
    await pause(2_000);
    await cluster.start('history');
  });
});

test('the frontend SIGKILLed under load, then started again: deliveries spooled meanwhile, then drained', async () => {
  const drainedBefore = await receiversCounter('begini_spool_drained_total');
  await underFault('frontend', 'frontend SIGKILL', async (progress) => {
    await untilProgress(progress, FAULT_JOURNEYS * 0.8);
    await cluster.kill('frontend');
    await pause(3_000);
    await cluster.start('frontend');
  });
  // The receivers could not reach Temporal: what they took meanwhile went through the spool.
  await until('the spool drained', async () => (await spoolDepth()) === 0);
  expect(await receiversCounter('begini_spool_drained_total')).toBeGreaterThan(drainedBefore);
});

test('Temporal frontend and history down, no sender retries: every delivery 200, every journey decided once after they return', async () => {
  await cluster.kill('frontend');
  await cluster.kill('history');
  const load = target('spooled');
  const { sent, uids } = await drive(load, FAULT_JOURNEYS, completeThenScore, undefined, 0);
  // Sent once each, as by a sender whose retries are spent: every one answered 200, from the spool.
  expect(sent.filter((s) => s.result.status !== 200).map((s) => s.result.statuses)).toEqual([]);
  const spooled = await spoolDepth();
  expect(spooled).toBe(sent.length);

  // The first attempt of every hand-off refused, so each is sent again under its key and must be
  // sent the same.
  const respond = los.respond;
  los.respond = (request, attempt) => (attempt === 1 ? 503 : respond(request, attempt));
  let row: Row, drainSeconds: number, decidedSeconds: number;
  try {
    await cluster.start('history');
    await cluster.start('frontend');
    const back = Date.now();
    await until('the spool drained', async () => (await spoolDepth()) === 0);
    drainSeconds = (Date.now() - back) / 1000;
    row = await check(load, 'Temporal frontend and history down, no sender retries', sent, uids);
    decidedSeconds = (Date.now() - back) / 1000;
  } finally {
    los.respond = respond;
  }
  rows.push(row);
  // One Idempotency-Key per applicant (check), and every request under it (at least two) with the same content.
  const differing = uids.filter((uid) => {
    const byKey = new Map<string, Set<string>>();
    for (const r of los.forUid(uid))
      byKey.set(r.idempotencyKey, (byKey.get(r.idempotencyKey) ?? new Set()).add(JSON.stringify(r.body)));
    return [...byKey.values()].some((bodies) => bodies.size > 1);
  });
  expect(differing).toEqual([]);
  expect(uids.every((uid) => los.forUid(uid, 'decision').length >= 2)).toBe(true);
  expect(cluster.unexpectedExits()).toEqual([]);
  console.log(
    `cluster spool: ${spooled} deliveries spooled with frontend and history down; drained in ${drainSeconds.toFixed(1)} s ` +
      `once they were back (${(spooled / drainSeconds).toFixed(0)}/s, two receivers at the default SPOOL_DRAIN_PER_SECOND); ` +
      `all ${uids.length} journeys decided after ${decidedSeconds.toFixed(1)} s`,
  );
});

test('PostgreSQL restarted with pg_ctl restart -m immediate under load', async () => {
  await underFault('postgres', 'PostgreSQL immediate restart', async (progress) => {
    await untilProgress(progress, FAULT_JOURNEYS * 0.8);
    await cluster.restartPostgres();
  });
});

test('one of the two workers SIGKILLed during hand-offs, and left down', async () => {
  los.delayMs = 300;
  const before = los.requests.length;
  try {
    await underFault('worker', 'worker SIGKILL in hand-off, left down', async () => {
      while (los.requests.length - before < FAULT_JOURNEYS * 0.3) await pause(20);
      await apps.killWorker(0);
    });
  } finally {
    los.delayMs = 0;
  }
});

test('one of the two receivers SIGKILLed under load, and left down', async () => {
  await underFault('receiver', 'receiver SIGKILL, left down', async (progress) => {
    await untilProgress(progress, FAULT_JOURNEYS * 0.8);
    await apps.killReceiver(1);
  });
  expect(apps.liveReceivers()).toHaveLength(1);
});
