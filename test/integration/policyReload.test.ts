/**
 * The policy changed under running workers, without a restart: both workers take the new file
 * (seen in their own /metrics within 30 s), the next journey is decided by it with its version and
 * content hash recorded (and sent to the LOS), and a file that does not validate keeps the policy in
 * force and moves each worker's failure counter.
 */
import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadPolicy } from '../../activities/policy';
import { policySha256 } from '../../activities/policySource';
import { startLos, type Los } from '../../dev/losStandIn';
import { loadWorkerConfig } from '../../src/config/worker';
import { createLogger } from '../../src/logger';
import { temporalSettings } from '../../src/temporal/connection';
import { startWorkerListener, type PollingWorker, type WorkerListener } from '../../src/worker/listener';
import { createJourneyWorker } from '../../src/worker/worker';
import { delivery, newUid } from '../support/begini';
import { TEST_DATA_DIR, WORKFLOW_BUNDLE } from '../support/paths';
import { startStack, type Stack } from '../support/stack';
import { waitForAsync } from '../support/until';

const ROOT = resolve(__dirname, '..', '..');
const SHIPPED = resolve(ROOT, 'activities', 'default-policy.yaml');
const DECLINES = resolve(ROOT, 'test', 'fixtures', 'policy-declines-low-risk.yaml');
const logger = createLogger('policy-reload', 'silent');

let los: Los;
let stack: Stack;
let policyFile: string;
const workers: Array<PollingWorker & { run: Promise<void>; listener: WorkerListener; closePolicies(): void }> = [];

beforeAll(async () => {
  policyFile = resolve(mkdtempSync(resolve(TEST_DATA_DIR, 'policy-reload-')), 'policy.yaml');
  copyFileSync(SHIPPED, policyFile);
  los = await startLos();
  stack = await startStack({ name: 'policy-reload', los, worker: false, env: { POLICY_FILE: policyFile } });
  for (let i = 0; i < 2; i++) {
    const created = await createJourneyWorker({
      config: loadWorkerConfig(stack.env),
      temporal: temporalSettings(stack.env),
      logger,
      workflowBundle: { codePath: WORKFLOW_BUNDLE },
    });
    const listener = await startWorkerListener({
      address: '127.0.0.1:0',
      sdkMetricsUrl: null,
      workers: () => [created],
      logger,
      visibilityRefreshMs: 60_000,
    });
    workers.push({ ...created, run: created.worker.run(), listener });
  }
});

afterAll(async () => {
  for (const w of workers) {
    w.worker.shutdown();
    await w.run;
    w.closePolicies();
    await w.connection.close();
    await w.listener.close();
  }
  await stack?.stop();
  await los?.close();
});

/** As an operator should (and a ConfigMap update does): a new file renamed over the old. */
function replaceFile(text: string): void {
  writeFileSync(`${policyFile}.next`, text);
  renameSync(`${policyFile}.next`, policyFile);
}

/** What a worker's /metrics say of its policy. */
async function scraped(w: WorkerListener): Promise<{ version: string; sha256: string; failures: number }> {
  const text = await (await fetch(`${w.url}/metrics`)).text();
  const info =
    /^begini_policy_info\{namespace="[^"]*",arm="champion",version="([^"]*)",sha256="([0-9a-f]{64})"\} 1$/m.exec(text);
  const failures = /^begini_policy_load_failures_total\{namespace="[^"]*",arm="champion"\} (\d+)$/m.exec(text);
  return { version: info?.[1] ?? '', sha256: info?.[2] ?? '', failures: Number(failures?.[1] ?? Number.NaN) };
}

async function decided(riskBand: string) {
  const uid = newUid('POLICY');
  await stack.send(delivery('psychometric_score.complete', uid, { details: { calculated: { risk_band: riskBand } } }));
  await stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered');
  return los.acceptedFor(uid, 'decision')[0]!.body.decision as Record<string, unknown>;
}

test('a new file is taken by both workers, decides the next journey, and a bad one keeps it', async () => {
  const shipped = loadPolicy(SHIPPED);
  for (const w of workers)
    expect(await scraped(w.listener)).toEqual({ version: shipped.version, sha256: policySha256(shipped), failures: 0 });
  expect(await decided('A')).toMatchObject({
    outcome: 'APPROVE',
    policyVersion: shipped.version,
    policySha256: policySha256(shipped),
  });

  const declines = loadPolicy(DECLINES);
  const changedAt = Date.now();
  replaceFile(readFileSync(DECLINES, 'utf8'));
  await waitForAsync(async () => {
    const now = await Promise.all(workers.map((w) => scraped(w.listener)));
    return now.every((s) => s.sha256 === policySha256(declines));
  }, 30_000);
  const converged = Date.now() - changedAt;
  expect(converged).toBeLessThan(30_000);
  // The same journey as the first: the new policy declines it, and says which policy did.
  expect(await decided('A')).toMatchObject({
    outcome: 'DECLINE',
    policyVersion: declines.version,
    policySha256: policySha256(declines),
    principalReasons: [{ code: 'low_risk_band', text: 'Your assessment result is outside our lending criteria.' }],
  });

  replaceFile('version: broken\ndefaultOutcome: MAYBE\n');
  await waitForAsync(async () =>
    (await Promise.all(workers.map((w) => scraped(w.listener)))).every((s) => s.failures === 1),
  );
  for (const w of workers) expect(await scraped(w.listener)).toMatchObject({ version: declines.version, failures: 1 });
  expect(await decided('A')).toMatchObject({ outcome: 'DECLINE', policySha256: policySha256(declines) });
});
