/**
 * The worker's listener against a real dev server: liveness and readiness follow the worker's run
 * state, its pollers and its connection; /metrics passes the SDK's exporter through. Temporal
 * becomes unreachable for real: the worker connects through a TCP relay the test cuts.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { loadWorkerConfig } from '../../src/config/worker';
import { createLogger } from '../../src/logger';
import { temporalSettings } from '../../src/temporal/connection';
import { Connection } from '@temporalio/client';
import { ensureNamespace, registerSearchAttributes } from '../../src/temporal/namespace';
import { startWorkerListener, type PollingWorker, type WorkerListener } from '../../src/worker/listener';
import { fixedPolicy } from '../../activities/policySource';
import { createJourneyWorker } from '../../src/worker/worker';
import { delivery, newUid } from '../support/begini';
import { startStack, workerMetricsUrl, type Stack } from '../support/stack';
import { WORKFLOW_BUNDLE } from '../support/paths';

interface Relay {
  address: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** Forwards TCP to the dev server until cut: then every connection, open or new, is dropped. */
async function startRelay(target: string): Promise<Relay> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((inbound) => {
    if (cut) return inbound.destroy();
    const outbound = net.connect(port, host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      cut = false;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function probe(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  return last;
}

const logger = createLogger('worker-health', 'silent');
/** A namespace of its own, so the overdue-review count sees only this file's journeys. */
const NAMESPACE = `worker-health-${process.pid}`;
let stack: Stack;
let relay: Relay;
let polling: PollingWorker;
let run: Promise<void> | undefined;
let listener: WorkerListener;

beforeAll(async () => {
  const admin = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  await ensureNamespace(admin, NAMESPACE, 1);
  // The operator service learns of a new namespace a moment after the frontend does.
  for (let attempt = 0; ; attempt++) {
    try {
      await registerSearchAttributes(admin, NAMESPACE);
      break;
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  await admin.close();
  // A receiver only: it installs the runtime (with the SDK exporter) and gives the settings.
  stack = await startStack({ name: 'worker-health', worker: false, env: { TEMPORAL_NAMESPACE: NAMESPACE } });
  relay = await startRelay(stack.env.TEMPORAL_ADDRESS!);
  const env = { ...stack.env, TEMPORAL_ADDRESS: relay.address };
  polling = await createJourneyWorker({
    config: loadWorkerConfig(env),
    temporal: temporalSettings(env),
    logger,
    workflowBundle: { codePath: WORKFLOW_BUNDLE },
  });
  listener = await startWorkerListener({
    address: '127.0.0.1:0',
    sdkMetricsUrl: workerMetricsUrl,
    workers: () => [polling],
    logger,
  });
});

afterAll(async () => {
  if (polling?.worker.getState() === 'RUNNING') polling.worker.shutdown();
  await run?.catch(() => undefined);
  await polling?.connection.close().catch(() => undefined);
  await listener?.close();
  await relay?.close();
  await stack?.stop();
});

test('a created worker that is not running yet is alive but not ready', async () => {
  expect(await probe(`${listener.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
  expect(await probe(`${listener.url}/readyz`)).toEqual({
    status: 503,
    body: { status: 'unavailable', reason: 'worker_not_running' },
  });
});

test('a running, polling worker is ready, and /metrics serves the SDK metrics', async () => {
  run = polling.worker.run();
  const ready = await eventually(
    () => probe(`${listener.url}/readyz`),
    (r) => r.status === 200,
  );
  expect(ready).toEqual({ status: 200, body: { status: 'ready' } });
  const metrics = await fetch(`${listener.url}/metrics`);
  expect(metrics.status).toBe(200);
  expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await metrics.text();
  expect(text).toMatch(/^temporal_num_pollers\{/m);
  expect(text).toContain(`\nbegini_reviews_overdue{namespace="${NAMESPACE}"} 0\n`);
});

/** The gauge as a listener serves it for a policy with this review deadline (visibility asked at every scrape). */
async function overdueReviews(reviewDeadlineMs: number): Promise<number> {
  const { policy } = polling.policies.active();
  const policies = fixedPolicy({ ...policy, review: { ...policy.review, deadline: reviewDeadlineMs } });
  const scraped = await startWorkerListener({
    address: '127.0.0.1:0',
    sdkMetricsUrl: null,
    workers: () => [{ ...polling, policies }],
    logger,
    visibilityRefreshMs: 0,
  });
  try {
    const text = await (await fetch(`${scraped.url}/metrics`)).text();
    const line = new RegExp(`^begini_reviews_overdue\\{namespace="${NAMESPACE}"\\} (\\d+)$`, 'm').exec(text);
    return line ? Number(line[1]) : Number.NaN;
  } finally {
    await scraped.close();
  }
}

test('begini_reviews_overdue counts the journeys in review longer than the deadline', async () => {
  expect(await overdueReviews(1)).toBe(0);
  // An incomplete application is referred by the default policy: in review from now on.
  const uid = newUid('WH');
  expect((await stack.send(delivery('application.incomplete', uid))).status).toBe(200);
  await stack.waitForJourney(uid, (view) => view.stage === 'in_review');
  expect(
    await eventually(
      () => overdueReviews(1),
      (n) => n === 1,
    ),
  ).toBe(1);
  // Within a day's deadline it is not overdue.
  expect(await overdueReviews(86_400_000)).toBe(0);
});

test('Temporal unreachable: not ready with temporal_unreachable, still alive', async () => {
  relay.cut();
  const unready = await eventually(
    () => probe(`${listener.url}/readyz`),
    (r) => r.status === 503,
  );
  expect(unready).toEqual({ status: 503, body: { status: 'unavailable', reason: 'temporal_unreachable' } });
  expect((await probe(`${listener.url}/healthz`)).status).toBe(200);
  relay.restore();
  const back = await eventually(
    () => probe(`${listener.url}/readyz`),
    (r) => r.status === 200,
  );
  expect(back.status).toBe(200);
});

test('a stopped worker is neither ready nor alive', async () => {
  polling.worker.shutdown();
  await run;
  expect(await probe(`${listener.url}/readyz`)).toEqual({
    status: 503,
    body: { status: 'unavailable', reason: 'worker_not_running' },
  });
  expect(await probe(`${listener.url}/healthz`)).toEqual({
    status: 503,
    body: { status: 'unavailable', reason: 'worker_not_running' },
  });
});

test('anything else is a 404 with a reason', async () => {
  expect(await probe(`${listener.url}/debug`)).toEqual({
    status: 404,
    body: { status: 'not_found', reason: 'not_found' },
  });
});
