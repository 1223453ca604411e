/**
 * The simulator over real HTTP: `happy` end to end, the refused scenarios (each delivery a 403,
 * no journey), and the CLI itself run once as a user would. Every accepted scenario's end state is
 * asserted in test/workflow/scenarios.test.ts, in journey time.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { runScenario, type RunSummary } from '../../src/simulator/run';
import { scenarios } from '../../src/simulator/scenarios';
import type { JourneyView } from '../../workflows/definitions';
import { TEST_KEY } from '../support/begini';
import { startLos, type Los } from '../../dev/losStandIn';
import { startStack, type Stack } from '../support/stack';

let los: Los;
let stack: Stack;

beforeAll(async () => {
  los = await startLos();
  stack = await startStack({ name: 'simulator', los });
});
afterAll(async () => {
  await stack.stop();
  await los.close();
});

async function simulate(name: string): Promise<{ summary: RunSummary; uid: string }> {
  const summary = await runScenario(name, { url: stack.webhookUrl, key: TEST_KEY, retries: 1, backoffMs: 50 });
  expect(summary.asExpected).toBe(true);
  return { summary, uid: summary.uids[0]! };
}

const handedOff = (v: JourneyView) => v.handoff.status === 'delivered';

const refused = ['bad-signature', 'wrong-environment-key'];

test('every refused scenario is played below (the accepted ones are in test/workflow/scenarios.test.ts)', () => {
  expect(Object.keys(scenarios).filter((name) => !scenarios[name]!.accepted)).toEqual(refused);
});

test('happy: decided APPROVE and handed off once', async () => {
  const { uid, summary } = await simulate('happy');
  expect(summary.accepted).toBe(2);
  const view = await stack.waitForJourney(uid, handedOff);
  expect(view).toMatchObject({ stage: 'decided', decision: { outcome: 'APPROVE' } });
  expect(view.events.map((e) => e.type)).toEqual(['application.complete', 'psychometric_score.complete']);
  expect(los.acceptedFor(uid, 'decision')).toHaveLength(1);
});

test.each(refused)('%s: every delivery refused with 403, no journey', async (name) => {
  const { uid, summary } = await simulate(name);
  expect(summary.accepted).toBe(0);
  expect(summary.deliveries.every((d) => d.status === 403)).toBe(true);
  expect(summary.retried).toBe(summary.deliveries.length);
  expect(await stack.exists(uid)).toBe(false);
});

test('the CLI prints each delivery and a one-line summary', async () => {
  const cli = resolve(__dirname, '..', '../src/simulator/main.ts');
  const tsx = resolve(__dirname, '..', '../node_modules/.bin/tsx');
  const { stdout } = await promisify(execFile)(
    tsx,
    [cli, 'happy', '--url', stack.webhookUrl, '--key', TEST_KEY, '--uid', 'SIM-cli-check'],
    { env: { ...process.env, BEGINI_API_KEY: '' } },
  );
  const lines = stdout.trim().split('\n');
  expect(lines.filter((l) => l.startsWith('→'))).toHaveLength(2);
  expect(lines.at(-1)).toMatch(
    /^ok: happy · 1 journey\(s\) · 2 deliveries · 2 accepted · 0 rejected · 0 retried · http/,
  );
  expect((await stack.waitForJourney('SIM-cli-check', handedOff)).decision?.outcome).toBe('APPROVE');
});
