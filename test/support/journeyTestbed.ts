/**
 * The workflow tier's harness, after the samples' pattern: the real journey on a real worker, with
 * the two activities mocked, on Temporal's time-skipping test server, so hours and days of journey
 * time pass in milliseconds. Deliveries take the receiver's own path from parse to signalWithStart
 * (parseDelivery, deliver); only HTTP and the signature check are left to the integration tier.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Context } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, msToNumber } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { JourneyActivities } from '../../activities';
import { idempotencyKeyFor, type HandoffResult } from '../../activities/handoff';
import { evaluatePolicy, loadPolicy, type Policy } from '../../activities/policy';
import { principalReasons, unknownReasonCodes } from '../../activities/principalReasons';
import { parseDelivery } from '../../src/begini/events';
import { payloadCodec } from '../../src/codec/payloadCodec';
import { allDeployments, type Deployment } from '../../src/config/deployments';
import { loadReceiverConfig } from '../../src/config/receiver';
import { deliver, toDelivery, type Landed, type Verified } from '../../src/receiver/deliver';
import { delivery, type FixtureOptions } from '../../src/simulator/fixtures';
import { indexedTypes } from '../../src/temporal/namespace';
import type { HandoffRequest } from '../../workflows/handoffRequests';
import {
  beginiEventSignal,
  HANDOFF_FAILURE,
  journeyQuery,
  workflowIdFor,
  type JourneyView,
} from '../../workflows/definitions';
import { TEST_CODEC_KEYS, TEST_KEY } from './begini';
import { HISTORY_FIXTURES, WORKFLOW_TIER_BUNDLE } from './paths';

export const DEFAULT_POLICY_FILE = resolve(__dirname, '..', '..', 'activities', 'default-policy.yaml');

/** How the mocked LOS answers one hand-off try. */
export type LosAnswer = 'delivered' | 'fails' | 'rejects';

/** One try of the mocked hand-off, as the journey made it. */
export interface HandoffTry {
  request: HandoffRequest;
  idempotencyKey: string;
  /** The request as sent: a retry must carry the same bytes. */
  bytes: string;
  attempt: number;
  /** Journey (test server) time of the try, epoch ms. */
  at: number;
  answer: LosAnswer;
}

export interface Testbed {
  client: Client;
  deployment: Deployment;
  /** The policy the mocked evaluatePolicy applies; replace it to change the policy mid-journey. */
  policy: Policy;
  /** Decides each hand-off try's answer; every try is recorded in `handoffs`. */
  los: (request: HandoffRequest, attempt: number) => LosAnswer;
  handoffs: HandoffTry[];
  /** A fixture delivery of `type` for `uid`, parsed and signalled as the receiver does. */
  send(type: string, uid: string, options?: FixtureOptions): Promise<Landed>;
  handle(uid: string): WorkflowHandle;
  journey(uid: string): Promise<JourneyView>;
  /** Advances journey time by `duration` (`15m`, `48h`, or ms): every timer due meanwhile fires. */
  skip(duration: string | number): Promise<void>;
  /**
   * The same delivery `times` more, straight to the open run (one signal each, many at once): the
   * receiver's path costs a round trip more per delivery, and a storm needs thousands.
   */
  resend(times: number, type: string, uid: string, options?: FixtureOptions): Promise<void>;
  /** Polls the journey (no time skipped) until `until` holds; for a state that is already on its way. */
  until(uid: string, until: (view: JourneyView) => boolean): Promise<JourneyView>;
  /** With RECORD_HISTORIES=1, writes the journey's history as the replay fixture `name`. */
  recordHistory(uid: string, name: string): Promise<void>;
  /** Journey (test server) time, epoch ms. */
  now(): Promise<number>;
  teardown(): Promise<void>;
}

const TASK_QUEUE = 'journey-workflow-tier';
const UNTIL_TIMEOUT_MS = 10_000;
const DAY = 86_400_000;
const RESEND_BATCH = 200;

/** The SDK's INFO lines (worker state changes, each one) are noise in a test run; errors are not. */
function quietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      // Core's own lines too (it warns that the test server advertises no heartbeat-details capability).
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Installed already, by an earlier testbed in this process.
  }
}

/**
 * A testbed for journeys of a deployment configured by `env` (the receiver's own variables, e.g.
 * JOURNEY_REQUIRED_SCORES; production defaults otherwise), under the shipped policy.
 */
export async function journeyTestbed(env: Record<string, string> = {}): Promise<Testbed> {
  quietRuntime();
  const path = process.env.TEMPORAL_TEST_SERVER_PATH;
  if (!path)
    throw new Error('TEMPORAL_TEST_SERVER_PATH is unset: run the workflow tier through jest (workflowTierSetup.ts)');
  const config = loadReceiverConfig({ BEGINI_API_KEY: TEST_KEY, PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS, ...env });
  const deployment = allDeployments(config)[0]!;
  const dataConverter = { payloadCodecs: [payloadCodec(config)] };
  const testEnv = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path } },
    client: { dataConverter },
  });
  // The test server has AddSearchAttributes but not ListSearchAttributes: register, do not compare.
  await testEnv.connection.operatorService.addSearchAttributes({
    namespace: testEnv.namespace ?? 'default',
    searchAttributes: indexedTypes(),
  });

  const target = { client: testEnv.client, taskQueue: TASK_QUEUE, workflowIdPrefix: config.workflowIdPrefix };
  /** A fixture delivery as the receiver hands it on once its signature has verified. */
  const verified = async (type: string, uid: string, options?: FixtureOptions): Promise<Verified> => {
    // Fixture timestamps follow the wall clock (the parser refuses ones a day in its future); a
    // journey whose clock has been skipped past the maximum event age would take them for old.
    const ahead = (await bed.now()) - Date.now();
    if (ahead > deployment.journey.maxEventAgeMs! - DAY) {
      throw new Error(
        `this testbed's clock is ${Math.round(ahead / DAY)} days ahead: give the test a testbed of its own`,
      );
    }
    const json = delivery(type, uid, options);
    const parsed = parseDelivery(json);
    if (!parsed.ok) throw new Error(`fixture ${type} does not parse: ${parsed.message}`);
    return {
      uid: parsed.uid,
      integrationId: parsed.integrationId,
      deployment,
      keyId: deployment.keys[0]!.id,
      event: parsed.event,
      rawBody: Buffer.from(JSON.stringify(json)),
      receivedAt: new Date(),
    };
  };
  const bed: Testbed = {
    client: testEnv.client,
    deployment,
    policy: loadPolicy(DEFAULT_POLICY_FILE),
    los: () => 'delivered',
    handoffs: [],
    send: async (type, uid, options) => deliver(target, await verified(type, uid, options)),
    resend: async (times, type, uid, options) => {
      const signal = toDelivery(await verified(type, uid, options));
      const handle = bed.handle(uid);
      for (let sent = 0; sent < times; sent += RESEND_BATCH) {
        const batch = Math.min(RESEND_BATCH, times - sent);
        await Promise.all(Array.from({ length: batch }, () => handle.signal(beginiEventSignal, signal)));
      }
    },
    handle: (uid) => testEnv.client.workflow.getHandle(workflowIdFor(config.workflowIdPrefix, uid)),
    journey: (uid) => bed.handle(uid).query(journeyQuery),
    skip: (duration) => testEnv.sleep(typeof duration === 'number' ? duration : msToNumber(duration as '1s')),
    until: async (uid, until) => {
      const deadline = Date.now() + UNTIL_TIMEOUT_MS;
      for (;;) {
        const view = await bed.journey(uid);
        if (until(view)) return view;
        if (Date.now() > deadline)
          throw new Error(`journey never reached the state waited for: ${JSON.stringify(view)}`);
        await new Promise((done) => setTimeout(done, 25));
      }
    },
    recordHistory: async (uid, name) => {
      if (process.env.RECORD_HISTORIES !== '1') return;
      const history = await bed.handle(uid).fetchHistory();
      writeFileSync(resolve(HISTORY_FIXTURES, `${name}.json`), historyToJSON(history));
    },
    now: () => testEnv.currentTimeMs(),
    teardown: async () => {
      worker.shutdown();
      await running;
      await testEnv.teardown();
    },
  };

  const activities: JourneyActivities = {
    async evaluatePolicy(input) {
      const decision = evaluatePolicy(bed.policy, input);
      return { ...decision, principalReasons: principalReasons(bed.policy, decision.reasons), input };
    },
    async explainReasons(codes) {
      return { principalReasons: principalReasons(bed.policy, codes), unknown: unknownReasonCodes(bed.policy, codes) };
    },
    async handOff(request): Promise<HandoffResult> {
      const { attempt } = Context.current().info;
      // The test server's clock (its attempt timestamps lag a retry behind): when this try happened.
      const at = await testEnv.currentTimeMs();
      const idempotencyKey = idempotencyKeyFor(request.idempotencySource);
      const answer = bed.los(request, attempt);
      bed.handoffs.push({ request, idempotencyKey, bytes: JSON.stringify(request), attempt, at, answer });
      if (answer === 'rejects') throw ApplicationFailure.nonRetryable('LOS answered 400', HANDOFF_FAILURE.rejected);
      if (answer === 'fails') throw ApplicationFailure.retryable('LOS answered 503', HANDOFF_FAILURE.failed);
      return { delivered: true, status: 200, idempotencyKey };
    },
  };
  const worker = await Worker.create({
    connection: testEnv.nativeConnection,
    namespace: testEnv.namespace ?? 'default',
    taskQueue: TASK_QUEUE,
    workflowBundle: { codePath: WORKFLOW_TIER_BUNDLE },
    activities,
    dataConverter,
  });
  const running = worker.run();
  return bed;
}

/** The decision tries the journey made for `uid`, in order. */
export function decisionTries(bed: Testbed, uid: string): HandoffTry[] {
  return bed.handoffs.filter((h) => h.request.uid === uid && h.request.kind === 'decision');
}
