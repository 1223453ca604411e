import { type NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type Challenger } from '../../activities';
import { loadPolicy, type Policy } from '../../activities/policy';
import { watchPolicyFile, type PolicySource } from '../../activities/policySource';
import { payloadCodec } from '../codec/payloadCodec';
import type { WorkerConfig } from '../config/worker';
import { keyUidRefs, type Logger } from '../logger';
import { activeTelemetry } from '../telemetry';
import { connectWorker, type TemporalSettings } from '../temporal/connection';
import { sdkLogger } from '../temporal/sdkLogger';

/**
 * The SDK's logs go through pino, without uids, and only from WARN (it logs every bundle and state
 * change at INFO). `shutdownSignals: []` where the caller orders shutdown itself (the dev stack
 * stops the receiver before the worker).
 */
export function installRuntime(
  logger: Logger,
  options: { shutdownSignals?: NodeJS.Signals[]; metricsAddress?: string | null } = {},
): void {
  const sdk = sdkLogger(logger.child({ component: 'temporal-sdk' }));
  Runtime.install({
    logger: sdk,
    ...(options.shutdownSignals ? { shutdownSignals: options.shutdownSignals } : {}),
    telemetryOptions: {
      // Core's own logs too, so they pass the same uid filter instead of going straight to stderr.
      logging: { filter: { core: 'WARN', other: 'WARN' }, forward: {} },
      // The SDK's own Prometheus exporter: workflow/activity task latencies, failures, poll health.
      ...(options.metricsAddress ? { metrics: { prometheus: { bindAddress: options.metricsAddress } } } : {}),
    },
  });
}

export interface JourneyWorkerOptions {
  config: WorkerConfig;
  temporal: TemporalSettings;
  logger: Logger;
  /** Already loaded and validated from `config.policyFile`; by default read from it here. */
  policy?: Policy;
  /**
   * A prebuilt workflow bundle; by default the workflows are bundled from source at start. With
   * tracing on, it must be the traced one (bundle.ts), whose workflows report their spans.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  connection?: NativeConnection;
  /**
   * The activities it runs; by default the journey's (createActivities). A benchmark's floor worker
   * passes trivial ones, so it runs under exactly these worker settings.
   */
  activities?: WorkerOptions['activities'];
}

export async function createJourneyWorker(options: JourneyWorkerOptions): Promise<{
  worker: Worker;
  connection: NativeConnection;
  namespace: string;
  policies: PolicySource;
  challenger: Challenger | null;
  /** Stops watching the policy files (champion and challenger). */
  closePolicies(): void;
}> {
  const { config, temporal, logger } = options;
  // Loaded and validated before connecting: a bad policy stops the worker at once. Later changes
  // to the file are reloaded (activities/policySource.ts); a bad one then keeps the old policy.
  const policy = options.policy ?? loadPolicy(config.policyFile);
  const policies = watchPolicyFile(config.policyFile, policy, logger);
  const challenger: Challenger | null = config.challenger && {
    policies: watchPolicyFile(config.challenger.policyFile, loadPolicy(config.challenger.policyFile), logger),
    share: config.challenger.share,
    mode: config.challenger.mode,
  };
  keyUidRefs(config.codecKeys);
  const connection = options.connection ?? (await connectWorker(temporal));
  const telemetry = activeTelemetry();
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue: config.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../../workflows') }),
    activities: options.activities ?? createActivities({ policies, challenger, handoff: config.handoff, logger }),
    // Refuses plaintext payloads: a signal forged by anyone who can reach the Temporal frontend
    // without the codec key never reaches a journey.
    dataConverter: { payloadCodecs: [payloadCodec(config)] },
    maxCachedWorkflows: config.maxCachedWorkflows,
    // Tracing: activity spans, and the sink that exports the workflow spans (none when off).
    ...(telemetry ? { plugins: [telemetry.workerPlugin] } : {}),
  });
  logger.info(
    {
      taskQueue: config.taskQueue,
      policyVersion: policy.version,
      policySha256: policies.active().sha256,
      ...(challenger && {
        challenger: { mode: challenger.mode, share: challenger.share, sha256: challenger.policies.active().sha256 },
      }),
      handoff: config.handoff ? 'LOS callback' : 'log only',
    },
    'worker ready',
  );
  const closePolicies = () => {
    policies.close();
    challenger?.policies.close();
  };
  return { worker, connection, namespace: temporal.namespace, policies, challenger, closePolicies };
}
