/**
 * The alerts evaluated by a real Prometheus (Debian's) scraping a real stack: the production entry
 * points as processes (receiver, worker), a Temporal dev server, and a LOS stand-in that refuses
 * connections. The shipped prometheus.yml and alerts.yml are used as they are, except for what a
 * test cannot wait for: 1 s scrape and evaluation intervals, static targets instead of compose DNS,
 * every `for` shortened to 1 s, and no Alertmanager. The hand-off alert must be quiet while nothing
 * fails, then fire once a decided journey cannot reach the LOS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { freePort } from '../../src/freePort';
import { delivery, newUid, post } from '../support/begini';
import { alertMetricNames, MONITORING_DIR } from '../support/monitoring';
import { TEST_DATA_DIR } from '../support/paths';
import { startFaultStack, type FaultStack } from './faults/faultStack';

const PROMETHEUS = process.env.PROMETHEUS_PATH ?? 'prometheus';
const dir = resolve(TEST_DATA_DIR, 'live-alert');

interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

let stack: FaultStack;
let prometheus: ChildProcess;
let promUrl: string;
let receiverInternal: string;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${promUrl}${path}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${path}: ${JSON.stringify(body)}`);
  return body.data;
}

async function waitFor<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read().catch(() => undefined as T);
    if (last !== undefined && ok(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what} did not happen in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

const handoffAlerts = async () =>
  (await api<{ alerts: PromAlert[] }>('/api/v1/alerts')).alerts.filter(
    (a) => a.labels.alertname === 'BeginiHandoffFailing',
  );

beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const internalPort = await freePort();
  stack = await startFaultStack('live-alert', {
    INTERNAL_PORT: String(internalPort),
    METRICS_VISIBILITY_REFRESH: '1s',
  });
  receiverInternal = `127.0.0.1:${internalPort}`;
  await stack.los.down();

  const config = parseYaml(readFileSync(resolve(MONITORING_DIR, 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    alerting?: unknown;
    scrape_configs: Array<{ job_name: string; dns_sd_configs?: unknown; static_configs?: unknown }>;
  };
  config.global = { scrape_interval: '1s', evaluation_interval: '1s' };
  delete config.alerting;
  const targets: Record<string, string> = {
    'begini-receiver': receiverInternal,
    'begini-worker': new URL(stack.workerUrl).host,
  };
  for (const job of config.scrape_configs) {
    delete job.dns_sd_configs;
    job.static_configs = [{ targets: [targets[job.job_name]!] }];
  }
  writeFileSync(resolve(dir, 'prometheus.yml'), toYaml(config));
  const rules = readFileSync(resolve(MONITORING_DIR, 'alerts.yml'), 'utf8').replace(/^(\s+for:) .*$/gm, '$1 1s');
  writeFileSync(resolve(dir, 'alerts.yml'), rules);

  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  prometheus = spawn(
    PROMETHEUS,
    [
      `--config.file=${resolve(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${resolve(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  prometheus.stderr!.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4_000);
  });
  await waitFor(`Prometheus ready (log: ${log})`, () => fetch(`${promUrl}/-/ready`).then((r) => r.ok), Boolean, 30_000);
});

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await stack?.stop();
});

test('Prometheus scrapes the receiver and the worker, and the hand-off alert is quiet', async () => {
  const up = await waitFor(
    'both targets up',
    () => api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>('/api/v1/query?query=up'),
    (d) => d.result.length === 2 && d.result.every((r) => r.value[1] === '1'),
  );
  expect(up.result.map((r) => r.metric.job).sort()).toEqual(['begini-receiver', 'begini-worker']);
  // Two rule evaluations after both targets were up, so rates have samples: no guessed sleep.
  const evaluatedAfter = (since: number) =>
    waitFor(
      'the rules evaluated',
      () => api<{ groups: Array<{ lastEvaluation: string }> }>('/api/v1/rules'),
      (d) => d.groups.length > 0 && d.groups.every((g) => Date.parse(g.lastEvaluation) > since),
    );
  const first = await evaluatedAfter(Date.now());
  await evaluatedAfter(Math.max(...first.groups.map((g) => Date.parse(g.lastEvaluation))));
  expect(await handoffAlerts()).toEqual([]);
});

test('with the LOS down, a decided journey fires BeginiHandoffFailing', async () => {
  const uid = newUid('ALERT');
  const answer = await post(
    stack.webhookUrl,
    delivery('psychometric_score.complete', uid, { details: { calculated: { risk_band: 'A' } } }),
  );
  expect(answer.status).toBe(200);
  const firing = await waitFor('BeginiHandoffFailing firing', handoffAlerts, (alerts) =>
    alerts.some((a) => a.state === 'firing'),
  );
  expect(firing[0]!.labels).toMatchObject({
    alertname: 'BeginiHandoffFailing',
    severity: 'page',
    namespace: 'default',
    task_queue: 'faults-live-alert',
  });
  expect(stack.los.requests.length).toBe(0);
});

/** Exported only with SPOOL_DATABASE_URL set; test/e2e/faults/spool.test.ts scrapes them from a spooling receiver. */
const SPOOL_ONLY = /^begini_spool_/;

test('every metric the alerts read is a series Prometheus scraped from the stack', async () => {
  const missing: string[] = [];
  for (const name of alertMetricNames().filter((n) => !SPOOL_ONLY.test(n))) {
    const series = await api<unknown[]>(`/api/v1/series?match[]=${encodeURIComponent(name)}`);
    if (series.length === 0) missing.push(name);
  }
  expect(missing).toEqual([]);
});
