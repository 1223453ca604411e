/**
 * A decision is in history before its hand-off leaves, so a worker lost mid-hand-off and replaced
 * by one running a different policy resends the same decision, byte for byte, under the same key
 * (issue #20). Real dev server, real workers in this process on the prebuilt bundle; the hand-off
 * activity is the test's, so it can read the run's history from inside the call and hang like an
 * LOS that never answers.
 */
import { resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities, type HandoffRequest, type HandoffResult } from '../../activities';
import { idempotencyKeyFor } from '../../activities/handoff';
import { loadPolicy, type Policy } from '../../activities/policy';
import { fixedPolicy } from '../../activities/policySource';
import { AesGcmCodec, parseCodecKeys } from '../../src/codec/aesGcm';
import { createLogger } from '../../src/logger';
import { delivery, newUid, TEST_CODEC_KEYS } from '../support/begini';
import { WORKFLOW_BUNDLE } from '../support/paths';
import { startStack, type Stack } from '../support/stack';

const { EventType } = temporal.api.enums.v1;
const logger = createLogger('decision-in-history', 'silent');
const shipped = loadPolicy(resolve(__dirname, '..', '..', 'activities', 'default-policy.yaml'));
/** The rollout: the same journey now declines, under a new version. */
const changed: Policy = {
  ...shipped,
  version: 'changed-2026-12',
  rules: shipped.rules.map((rule) =>
    rule.code === 'low_risk_band'
      ? { ...rule, outcome: 'DECLINE', text: 'Your assessment result is outside our new lending criteria.' }
      : rule,
  ),
};

interface Call {
  worker: string;
  /** The activity's input as it arrived: everything the LOS body is built from. */
  request: string;
  /** The policy's marker was in the run's history when the call began. */
  decisionInHistory: boolean;
}

let stack: Stack;
let connection: NativeConnection;
beforeAll(async () => {
  stack = await startStack({ name: 'decision-in-history', worker: false });
  connection = await NativeConnection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
});
afterAll(async () => {
  await stack?.stop();
  await connection?.close();
});

async function historyHoldsDecision(workflowId: string): Promise<boolean> {
  const history = await stack.handle(workflowId).fetchHistory();
  return (history.events ?? []).some((event) => event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED);
}

function workerWith(name: string, policy: Policy, calls: Call[], answer: (call: Call) => Promise<HandoffResult>) {
  const real = createActivities({ policies: fixedPolicy(policy), handoff: null, logger });
  return Worker.create({
    connection,
    namespace: 'default',
    taskQueue: stack.env.TEMPORAL_TASK_QUEUE!,
    workflowBundle: { codePath: WORKFLOW_BUNDLE },
    dataConverter: { payloadCodecs: [new AesGcmCodec(parseCodecKeys(TEST_CODEC_KEYS))] },
    shutdownGraceTime: '1s',
    activities: {
      evaluatePolicy: real.evaluatePolicy,
      async handOff(request: HandoffRequest): Promise<HandoffResult> {
        const call: Call = {
          worker: name,
          request: JSON.stringify(request),
          decisionInHistory: await historyHoldsDecision(request.uid),
        };
        calls.push(call);
        return answer(call);
      },
    },
  });
}

/** An LOS that never answers: the call hangs until the worker's shutdown cancels it. */
const hang = () =>
  new Promise<never>((_resolve, reject) => {
    Context.current().cancellationSignal.addEventListener('abort', () => reject(new Error('worker went away')));
  });

async function until(ready: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !ready(); await new Promise((r) => setTimeout(r, 50)))
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

test('a worker lost mid-hand-off, replaced under a changed policy: the same decision, byte for byte, under one key', async () => {
  const uid = newUid();
  const calls: Call[] = [];
  const first = await workerWith('first', shipped, calls, hang);
  const firstRun = first.run();
  await stack.send(delivery('application.complete', uid));
  await stack.send(delivery('psychometric_score.complete', uid));
  await until(() => calls.length > 0, 'the first hand-off call');
  first.shutdown();
  await firstRun;

  const second = await workerWith('second', changed, calls, async (call) => ({
    delivered: true,
    status: 200,
    idempotencyKey: idempotencyKeyFor((JSON.parse(call.request) as HandoffRequest).idempotencySource),
  }));
  const view = await second.runUntil(() => stack.waitForJourney(uid, (v) => v.handoff.status === 'delivered', 60_000));

  const requests = calls.map((call) => JSON.parse(call.request) as HandoffRequest);
  expect(calls.map((call) => call.worker)).toContain('second');
  expect(new Set(requests.map((r) => r.idempotencySource)).size).toBe(1);
  // Every request under the key carries the same content, and it is the journey's decision.
  expect(new Set(calls.map((call) => call.request)).size).toBe(1);
  expect(requests[0]!.payload.decision).toEqual(view.decision);
  expect(view.decision).toMatchObject({ outcome: 'APPROVE', policyVersion: shipped.version });
  // Because the decision was in history before the first request left.
  expect(calls[0]).toMatchObject({ worker: 'first', decisionInHistory: true });
});
