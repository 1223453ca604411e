/**
 * The worker's own listener on `WORKER_METRICS_ADDRESS`: the SDK's Prometheus metrics, liveness
 * and readiness. The SDK's exporter is a native server that serves nothing but metrics, so it binds
 * a private loopback port and this listener passes its text through; Prometheus and the compose
 * health check see one address.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Challenger } from '../../activities/experiment';
import type { PolicySource } from '../../activities/policySource';
import { searchAttributes as sa, type PolicyArm } from '../../workflows/definitions';
import { freePort } from '../freePort';
import { listenOrExplain } from '../failures';
import type { Logger } from '../logger';
import { cached } from '../receiver/cached';

export interface PollingWorker {
  worker: Worker;
  connection: NativeConnection;
  namespace: string;
  /** The policy it decides by, reloaded from POLICY_FILE. */
  policies: PolicySource;
  /** A challenger it runs beside them, if any. */
  challenger?: Challenger | null;
}

/** Each policy a worker runs, by arm: the champion always, the challenger when one is configured. */
function policiesOf(worker: PollingWorker): Array<{ arm: PolicyArm; source: PolicySource }> {
  const champion = { arm: 'champion' as const, source: worker.policies };
  return worker.challenger ? [champion, { arm: 'challenger', source: worker.challenger.policies }] : [champion];
}

/** Why a worker is not ready: stable codes for probes and dashboards. */
export type NotReadyReason = 'worker_not_running' | 'not_polling' | 'temporal_unreachable';

export interface Readiness {
  ready: boolean;
  reason?: NotReadyReason;
}

export interface WorkerListenerOptions {
  /** host:port to listen on. */
  address: string;
  /** The SDK exporter's URL (http://127.0.0.1:<port>/metrics), or null when it has none. */
  sdkMetricsUrl: string | null;
  /** Every worker of this process (one per namespace under `npm run dev`). */
  workers: () => readonly PollingWorker[];
  logger: Logger;
  /** Visibility is asked at most this often, however often /metrics is scraped; 30 s unless said. */
  visibilityRefreshMs?: number;
}

/**
 * Where the SDK's exporter listens: a free loopback port, never reachable from outside the host, so
 * everything else reads the metrics through the worker's listener.
 */
export async function privateSdkMetricsAddress(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

export interface WorkerListener {
  url: string;
  close(): Promise<void>;
}

/** Gone for good: the process should be restarted (liveness). */
const DEAD_STATES = new Set(['FAILED', 'STOPPED']);

export function isAlive(workers: readonly PollingWorker[]): boolean {
  return workers.length > 0 && workers.every(({ worker }) => !DEAD_STATES.has(worker.getState()));
}

/** Running, both pollers polling, and the frontend reachable (`reachable`, a cached check). */
export async function readiness(
  workers: readonly PollingWorker[],
  reachable: () => Promise<boolean>,
): Promise<Readiness> {
  if (workers.length === 0) return { ready: false, reason: 'worker_not_running' };
  for (const { worker } of workers) {
    const status = worker.getStatus();
    if (status.runState !== 'RUNNING') return { ready: false, reason: 'worker_not_running' };
    if (status.workflowPollerState !== 'POLLING' || status.activityPollerState !== 'POLLING')
      return { ready: false, reason: 'not_polling' };
  }
  return (await reachable()) ? { ready: true } : { ready: false, reason: 'temporal_unreachable' };
}

/** Every worker's connection answers a cheap call within two seconds. */
async function temporalReachable(workers: readonly PollingWorker[]): Promise<boolean> {
  try {
    for (const { connection } of workers) {
      await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Running journeys still in review past the policy in force's review deadline, per namespace (their
 * fallback should have decided them); null where the count failed.
 */
async function countOverdueReviews(
  workers: readonly PollingWorker[],
): Promise<Array<{ namespace: string; count: number | null }>> {
  const counts: Array<{ namespace: string; count: number | null }> = [];
  for (const { connection, namespace, policies } of workers) {
    if (counts.some((c) => c.namespace === namespace)) continue;
    const since = new Date(Date.now() - policies.active().policy.review.deadline).toISOString();
    const query = `${sa.stage.name} = 'in_review' AND ExecutionStatus = 'Running' AND ${sa.reviewSince.name} < '${since}'`;
    const count = await connection
      .withDeadline(Date.now() + 5_000, () => connection.workflowService.countWorkflowExecutions({ namespace, query }))
      .then((r) => Number(r.count ?? 0))
      .catch(() => null);
    counts.push({ namespace, count });
  }
  return counts;
}

/** The worker's own gauges, served after the SDK's metrics. */
function workerRegistry(options: WorkerListenerOptions): Registry {
  const registry = new Registry();
  const overdue = cached(options.visibilityRefreshMs ?? 30_000, () => countOverdueReviews(options.workers()));
  new Gauge({
    name: 'begini_reviews_overdue',
    help: 'Running journeys still in review past the policy review deadline (a cached visibility count)',
    labelNames: ['namespace'] as const,
    registers: [registry],
    async collect() {
      // On a failed count the gauge keeps its last value; readiness reports the outage.
      for (const { namespace, count } of await overdue()) if (count !== null) this.set({ namespace }, count);
    },
  });
  // So an operator sees every worker converge on one policy per arm after a change, and which did not.
  new Gauge({
    name: 'begini_policy_info',
    help: 'The policies each worker decides by: always 1, labelled with the arm, its version and the sha256 of its content',
    labelNames: ['namespace', 'arm', 'version', 'sha256'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const worker of options.workers()) {
        for (const { arm, source } of policiesOf(worker)) {
          const { policy, sha256 } = source.active();
          this.set({ namespace: worker.namespace, arm, version: policy.version, sha256 }, 1);
        }
      }
    },
  });
  new Gauge({
    name: 'begini_policy_challenger_share',
    help: 'Percent of new journeys the challenger decides (split); 0 in shadow mode, where it only records a verdict',
    labelNames: ['namespace', 'mode'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { namespace, challenger } of options.workers())
        if (challenger) this.set({ namespace, mode: challenger.mode }, challenger.share);
    },
  });
  new Counter({
    name: 'begini_policy_load_failures_total',
    help: 'Changed policy files a worker refused (invalid, or a version reused with other content); the old policy stays',
    labelNames: ['namespace', 'arm'] as const,
    registers: [registry],
    collect() {
      // The source counts; a counter is only ever moved up, so this resets and re-adds its total.
      this.reset();
      for (const worker of options.workers())
        for (const { arm, source } of policiesOf(worker))
          this.inc({ namespace: worker.namespace, arm }, source.loadFailures());
    },
  });
  return registry;
}

export async function startWorkerListener(options: WorkerListenerOptions): Promise<WorkerListener> {
  const { address, sdkMetricsUrl, workers, logger } = options;
  const registry = workerRegistry(options);
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    if (isAlive(workers())) res.json({ status: 'ok' });
    else res.status(503).json({ status: 'unavailable', reason: 'worker_not_running' });
  });
  // Probes are unauthenticated: a flood of them costs Temporal at most one call a second.
  const reachable = cached(1_000, () => temporalReachable(workers()));
  app.get('/readyz', async (_req, res) => {
    const { ready: ok, reason } = await readiness(workers(), reachable);
    if (ok) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'unavailable', reason });
  });
  app.get('/metrics', async (_req, res) => {
    try {
      let sdk = '';
      if (sdkMetricsUrl) {
        const answer = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(5_000) });
        if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
        sdk = await answer.text();
      }
      res.type(registry.contentType).send(`${sdk}${sdk.endsWith('\n') || !sdk ? '' : '\n'}${await registry.metrics()}`);
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'the SDK metrics exporter did not answer');
      res.status(503).json({ status: 'unavailable', reason: 'metrics_unavailable' });
    }
  });
  app.use((_req, res) => {
    res.status(404).json({ status: 'not_found', reason: 'not_found' });
  });

  const server = http.createServer(app);
  await listenOrExplain(server, port, host, 'WORKER_METRICS_ADDRESS');
  const bound = server.address() as AddressInfo;
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${urlHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
