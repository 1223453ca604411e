/**
 * The real system for one test file: a worker and a receiver (in this process) against the
 * run's dev server, with its own task queue so test files never pick up each other's journeys.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { loadReceiverConfig } from '../../src/config/receiver';
import { loadWorkerConfig } from '../../src/config/worker';
import { createLogger } from '../../src/logger';
import { WEBHOOK_PATH } from '../../src/receiver/app';
import { startReceiver, type RunningReceiver } from '../../src/receiver/server';
import { temporalSettings } from '../../src/temporal/connection';
import { ensureTemporalCli } from '../../dev/devServer';
import { createJourneyWorker, installRuntime } from '../../src/worker/worker';
import { journeyQuery, type JourneyView } from '../../workflows/definitions';
import { post, TEST_CODEC_KEYS, TEST_KEY, type PostOptions } from './begini';
import { LOS_SECRET, type Los } from '../../dev/losStandIn';
import { activeTelemetry } from '../../src/telemetry';
import { HISTORY_FIXTURES, TEST_LOG_DIR, TRACED_WORKFLOW_BUNDLE, WORKFLOW_BUNDLE } from './paths';
import { freePort } from '../../src/freePort';

export interface StackOptions {
  name: string;
  env?: Record<string, string>;
  los?: Los;
  /** false: a receiver only, no worker. */
  worker?: boolean;
  temporalAddress?: string;
}

export interface Stack {
  webhookUrl: string;
  receiver: RunningReceiver;
  client: Client;
  env: Record<string, string>;
  logFile: string;
  send(body: Record<string, unknown> | string, options?: PostOptions): ReturnType<typeof post>;
  handle(workflowId: string): WorkflowHandle;
  exists(workflowId: string): Promise<boolean>;
  journey(workflowId: string): Promise<JourneyView>;
  waitForJourney(workflowId: string, until: (view: JourneyView) => boolean, timeoutMs?: number): Promise<JourneyView>;
  /** The log so far, every line written before the call included (the file stream writes behind). */
  logText(): Promise<string>;
  /** With RECORD_HISTORIES=1, saves the workflow's history as a replay fixture. */
  recordHistory(workflowId: string, name: string): Promise<void>;
  stop(): Promise<void>;
}

let stacks = 0;
let runtimeInstalled = false;
/** The worker runtime's Prometheus endpoint, shared by every worker in this process. */
export let workerMetricsUrl = '';

export async function startStack(options: StackOptions): Promise<Stack> {
  const address = options.temporalAddress ?? process.env.TEST_TEMPORAL_ADDRESS;
  if (!address)
    throw new Error('TEST_TEMPORAL_ADDRESS is not set: run through jest (globalSetup starts the dev server)');
  if (!runtimeInstalled) {
    const sdkLog = createWriteStream(resolve(TEST_LOG_DIR, `temporal-sdk-${process.pid}.log`), { flags: 'a' });
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    installRuntime(createLogger('sdk', 'info', sdkLog), { shutdownSignals: [], metricsAddress });
    workerMetricsUrl = `http://${metricsAddress}/metrics`;
    runtimeInstalled = true;
  }
  const taskQueue = `test-${options.name}-${process.pid}-${++stacks}`;
  const env: Record<string, string> = {
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    BEGINI_API_KEY: TEST_KEY,
    PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS,
    PORT: '0',
    HOST: '127.0.0.1',
    INTERNAL_PORT: '0',
    JOURNEY_HANDOFF_RETRY_INITIAL: '100ms',
    SHUTDOWN_GRACE_MS: '5000',
    ...(options.los ? { LOS_CALLBACK_URL: options.los.url, LOS_CALLBACK_SECRET: LOS_SECRET } : {}),
    ...options.env,
  };
  const logFile = resolve(TEST_LOG_DIR, `${taskQueue}.log`);
  const logStream = createWriteStream(logFile, { flags: 'a' });
  const logger = createLogger(options.name, 'info', logStream);
  const temporal = temporalSettings(env);
  // Validate everything before starting anything, so a bad setting cannot leak a polling worker.
  const receiverConfig = loadReceiverConfig(env, temporal);
  const workerConfig = loadWorkerConfig(env);

  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let workerConnection: { close(): Promise<void> } | undefined;
  let closeWorkerPolicies: (() => void) | undefined;
  if (options.worker !== false) {
    const created = await createJourneyWorker({
      config: workerConfig,
      temporal,
      logger,
      // As the production worker does: the traced workflows when this process has started tracing.
      workflowBundle: { codePath: activeTelemetry() ? TRACED_WORKFLOW_BUNDLE : WORKFLOW_BUNDLE },
    });
    worker = created.worker;
    workerConnection = created.connection;
    closeWorkerPolicies = created.closePolicies;
    workerRun = worker.run();
  }
  const receiver = await startReceiver(receiverConfig, logger, temporal);
  const client = receiver.client;
  const webhookUrl = `${receiver.url}${WEBHOOK_PATH}`;

  let stopped: Promise<void> | undefined;
  const stack: Stack = {
    webhookUrl,
    receiver,
    client,
    env,
    logFile,
    send: (body, postOptions) => post(webhookUrl, body, postOptions),
    handle: (workflowId) => client.workflow.getHandle(workflowId),
    async exists(workflowId) {
      try {
        await client.workflow.getHandle(workflowId).describe();
        return true;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    },
    journey: (workflowId) => client.workflow.getHandle(workflowId).query(journeyQuery),
    async waitForJourney(workflowId, until, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: JourneyView | undefined;
      while (Date.now() < deadline) {
        try {
          last = await stack.journey(workflowId);
          if (until(last)) return last;
        } catch (err) {
          // A workflow task being retried makes a query fail for a moment; a stuck one still times out below.
          if (
            !(err instanceof WorkflowNotFoundError) &&
            !/Workflow Task in failed state/.test(String((err as Error).cause))
          )
            throw err;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `journey ${workflowId} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
      );
    },
    async logText() {
      // A write's callback runs once it and every write before it reached the file.
      if (!logStream.writableEnded) await new Promise<void>((r) => logStream.write('', () => r()));
      return readFileSync(logFile, 'utf8');
    },
    async recordHistory(workflowId, name) {
      if (process.env.RECORD_HISTORIES !== '1') return;
      const file = resolve(HISTORY_FIXTURES, `${name}.json`);
      mkdirSync(dirname(file), { recursive: true });
      // The CLI's JSON is the canonical form `historyFromJSON` reads back.
      const json = execFileSync(
        ensureTemporalCli(),
        ['workflow', 'show', '--address', address, '--workflow-id', workflowId, '--output', 'json'],
        {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      writeFileSync(file, json);
    },
    stop() {
      stopped ??= (async () => {
        await receiver.close();
        if (worker && worker.getState() === 'RUNNING') worker.shutdown();
        await workerRun;
        closeWorkerPolicies?.();
        await workerConnection?.close();
        await new Promise<void>((r) => logStream.end(r));
      })();
      return stopped;
    },
  };
  return stack;
}
