import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel, type WorkerOptions } from '@temporalio/worker';

/**
 * The SDK logs every bundle and state change at INFO; keep its console output to what matters.
 * `shutdownSignals: []` where the caller orders shutdown itself (the dev stack stops the receiver
 * before the worker).
 */
export function installRuntime(options: { shutdownSignals?: NodeJS.Signals[]; logLevel?: LogLevel } = {}): void {
  const logger = new DefaultLogger(options.logLevel ?? 'WARN');
  Runtime.install(options.shutdownSignals ? { logger, shutdownSignals: options.shutdownSignals } : { logger });
}
import { createActivities } from '../../activities';
import { loadPolicy } from '../../activities/policy';
import type { WorkerConfig } from '../config';
import type { Logger } from '../logger';
import type { TemporalSettings } from '../temporal/connection';

export interface JourneyWorkerOptions {
  config: WorkerConfig;
  temporal: TemporalSettings;
  logger: Logger;
  /** A prebuilt workflow bundle; by default the workflows are bundled from source at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  connection?: NativeConnection;
}

export async function createJourneyWorker(options: JourneyWorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
  const { config, temporal, logger } = options;
  // Loaded and validated before connecting: a bad policy stops the worker at once.
  const policy = loadPolicy(config.policyFile);
  const connection = options.connection ?? (await NativeConnection.connect(temporal.connectionOptions));
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue: config.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../../workflows') }),
    activities: createActivities({ policy, handoff: config.handoff, logger }),
  });
  logger.info({ taskQueue: config.taskQueue, policyVersion: policy.version, handoff: config.handoff ? 'LOS callback' : 'log only' }, 'worker ready');
  return { worker, connection };
}
