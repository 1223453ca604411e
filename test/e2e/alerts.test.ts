/**
 * The monitoring files, checked by the tools that will run them: Prometheus's config and the alert
 * rules with promtool (`test rules` evaluates every alert on recorded series: it fires on what it is
 * for, only after its `for`, and not on the healthy series), Alertmanager's with amtool. Every
 * `begini_*` metric an alert reads is one this code declares; the live test (liveAlert.test.ts)
 * checks the SDK's `temporal_*` ones against a real worker.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { alertMetricNames, MONITORING_DIR } from '../support/monitoring';

function run(tool: string, ...args: string[]): string {
  return execFileSync(tool, args, { cwd: MONITORING_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('promtool accepts prometheus.yml and the rules it loads', () => {
  expect(run('promtool', 'check', 'config', 'prometheus.yml')).toMatch(/SUCCESS: \d+ rules found/);
});

test('promtool test rules: every alert fires when it should and stays quiet otherwise', () => {
  expect(run('promtool', 'test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
});

test('every alert has a unit test', () => {
  const alerts = [...readFileSync(resolve(MONITORING_DIR, 'alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map(
    (m) => m[1],
  );
  const tested = readFileSync(resolve(MONITORING_DIR, 'alerts.test.yml'), 'utf8');
  expect(alerts.length).toBeGreaterThanOrEqual(6);
  for (const alert of alerts) expect(tested).toContain(`alertname: ${alert}`);
});

test('amtool accepts alertmanager.yml', () => {
  expect(run('amtool', 'check-config', 'alertmanager.yml')).toMatch(/SUCCESS/);
});

test('every begini_* metric an alert reads is declared by the receiver or the worker', () => {
  const declared = ['src/receiver/metrics.ts', 'src/worker/listener.ts']
    .map((file) => readFileSync(resolve(__dirname, '..', '..', file), 'utf8'))
    .join('\n');
  const ours = alertMetricNames().filter((name) => name.startsWith('begini_'));
  expect(ours.length).toBeGreaterThan(0);
  for (const name of ours) expect(declared).toContain(`name: '${name}'`);
});
