/**
 * Events, workflow tasks, bytes and billable actions per journey, per scenario:
 *   - recorded: the same journeys recorded by test/integration/journey.test.ts before the
 *     `one-publish-per-task` patch (test/fixtures/histories/) and after it (…/one-publish-per-task/);
 *   - live: the simulator's scenarios sent through the receiver of a running stack, each history
 *     read once the journey has come to rest (closed, or waiting with nothing in flight).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { runScenario } from '../src/simulator/run';
import { searchAttributes } from '../workflows/definitions';
import { costOf, reduction, type HistoryCost } from './actions';

const FIXTURES = resolve(__dirname, '..', 'test', 'fixtures', 'histories');
const PATCHED = 'one-publish-per-task';
/** Issue #20: the decision in history before its hand-off (a normal activity from its first try). */
const DURABLE = 'decision-durable-before-handoff';

/** The scenarios, as test/integration/journey.test.ts recorded them. */
const RECORDED: Record<string, string> = {
  happy: 'happy-path',
  reorder: 'score-before-complete',
  review: 'review-approved',
  expiry: 'expiry-no-score',
  'late re-score': 'late-rescore',
  'duplicate storm': 'duplicate-storm',
};

/** The same scenarios from the simulator (src/simulator/scenarios.ts). */
const LIVE: Record<string, string> = {
  happy: 'happy',
  reorder: 'out-of-order',
  'review (referred, waiting)': 'incomplete',
  'expiry (expired, waiting)': 'expired',
  'late re-score': 'late-rescore',
  'duplicate storm': 'duplicate-storm',
};

function recorded(file: string): HistoryCost {
  return costOf(historyFromJSON(JSON.parse(readFileSync(resolve(FIXTURES, file), 'utf8'))));
}

export function recordedCosts() {
  return Object.fromEntries(
    Object.entries(RECORDED).map(([scenario, name]) => {
      const before = recorded(`${name}.json`);
      const after = recorded(`${PATCHED}/${name}.json`);
      // What the durable decision costs on top of `after`, where that journey was recorded again.
      const durable = existsSync(resolve(FIXTURES, DURABLE, `${name}.json`))
        ? recorded(`${DURABLE}/${name}.json`)
        : undefined;
      return [scenario, { fixture: name, before, after, reduction: reduction(before, after), durable }];
    }),
  );
}

/** Stages a journey leaves by itself: a decided one closes when its settle period ends. */
const PASSING = new Set(['deciding', 'decided', 'cancelled', 'incomplete']);

/**
 * Until the journey is closed, or waits for something outside (a reviewer, a score, its expiry):
 * its history has not grown for `quietMs`, nothing is in flight, and its stage is not one it
 * leaves by itself. With a short settle period, a decided journey's whole life is counted.
 */
async function atRest(client: Client, workflowId: string, quietMs = 1_500, timeoutMs = 60_000) {
  const handle = client.workflow.getHandle(workflowId);
  const started = Date.now();
  let last = -1;
  let since = Date.now();
  for (;;) {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') return;
    const length = d.historyLength;
    if (length !== last) {
      last = length;
      since = Date.now();
    } else if (
      Date.now() - since >= quietMs &&
      !d.raw.pendingActivities?.length &&
      !PASSING.has(d.typedSearchAttributes.get(searchAttributes.stage) ?? '')
    )
      return;
    if (Date.now() - started > timeoutMs) throw new Error(`${workflowId} never came to rest`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function liveCosts(client: Client, receiverUrl: string, key: string) {
  const results: Record<string, HistoryCost & { closed: boolean; simulatorScenario: string }> = {};
  for (const [scenario, name] of Object.entries(LIVE)) {
    const run = await runScenario(name, { url: receiverUrl, key });
    const uid = run.uids[0]!;
    await atRest(client, uid);
    const handle = client.workflow.getHandle(uid);
    const closed = (await handle.describe()).status.name !== 'RUNNING';
    results[scenario] = { simulatorScenario: name, closed, ...costOf(await handle.fetchHistory()) };
  }
  return results;
}
