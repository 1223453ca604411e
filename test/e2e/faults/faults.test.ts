/**
 * `npm run test:faults`: an accepted event is never lost, and an applicant is decided exactly once,
 * through a SIGKILLed Temporal server, worker and receiver, a LOS that goes away, and a storm of
 * duplicated, reordered deliveries. Each scenario drives JOURNEYS applicants through the real stack.
 */
import {
  check,
  completeThenScore,
  drive as driveLoad,
  formatTable,
  untilProgress,
  type Plan,
  type Row,
} from '../../support/journeyLoad';
import { startFaultStack, type FaultStack } from './faultStack';

const JOURNEYS = Number(process.env.FAULT_JOURNEYS ?? 200);
const rows: Row[] = [];

const drive = (stack: FaultStack, plan: Plan, during?: (progress: () => number) => Promise<void>) =>
  driveLoad(stack, JOURNEYS, plan, during);

/** One scenario on its own stack, torn down whatever happens. */
async function onFreshStack(name: string, scenario: (stack: FaultStack) => Promise<void>): Promise<void> {
  const stack = await startFaultStack(name);
  try {
    await scenario(stack);
  } finally {
    await stack.stop();
  }
}

afterAll(() => {
  if (rows.length) console.log(formatTable(rows));
});

test('1. the Temporal server SIGKILLed mid-load, then restarted on the same database file', async () => {
  await onFreshStack('server-kill', async (stack) => {
    const { sent, uids } = await drive(stack, completeThenScore, async (progress) => {
      await untilProgress(progress, JOURNEYS * 0.6);
      await stack.killServer();
      await new Promise((r) => setTimeout(r, 2_000));
      await stack.startServer();
    });
    rows.push(await check(stack, 'server SIGKILL', sent, uids));
  });
});

test('2. the worker SIGKILLed during the hand-off activity, then restarted', async () => {
  await onFreshStack('worker-kill', async (stack) => {
    stack.los.delayMs = 300;
    const { sent, uids } = await drive(stack, completeThenScore, async () => {
      while (stack.los.requests.length < JOURNEYS * 0.3) await new Promise((r) => setTimeout(r, 20));
      await stack.killWorker();
      await new Promise((r) => setTimeout(r, 1_000));
      await stack.startWorker();
    });
    stack.los.delayMs = 0;
    rows.push(await check(stack, 'worker SIGKILL in hand-off', sent, uids));
  });
});

test('3. the receiver SIGKILLed mid-request, then restarted', async () => {
  await onFreshStack('receiver-kill', async (stack) => {
    const { sent, uids } = await drive(stack, completeThenScore, async (progress) => {
      await untilProgress(progress, JOURNEYS * 0.5);
      await stack.killReceiver();
      await new Promise((r) => setTimeout(r, 1_000));
      await stack.startReceiver();
    });
    rows.push(await check(stack, 'receiver SIGKILL', sent, uids));
  });
});

test('4. the LOS down for a while, then back', async () => {
  await onFreshStack('los-down', async (stack) => {
    await stack.los.down();
    const { sent, uids } = await drive(stack, completeThenScore);
    await new Promise((r) => setTimeout(r, 3_000));
    await stack.los.up();
    rows.push(await check(stack, 'LOS down, then back', sent, uids));
  });
});

test('5. every delivery sent 3× concurrently, and reordered', async () => {
  await onFreshStack('storm', async (stack) => {
    const { sent, uids } = await drive(stack, (uid) => {
      const [[complete], [score]] = completeThenScore(uid, 0) as [[string], [string]];
      const order = uid.charCodeAt(uid.length - 1) % 2 ? [score, complete] : [complete, score];
      return order.map((raw) => [raw, raw, raw]);
    });
    rows.push(await check(stack, '3× concurrent, reordered', sent, uids));
  });
});
