/**
 * The floor's worker process (`node --import tsx bench/floor/worker.ts`, started by bench/floors.ts
 * with the real worker's environment and its own task queue): src/worker/main.ts's steps, the same
 * runtime, listener and createJourneyWorker settings, with the floor's workflow and activities.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadWorkerConfig } from '../../src/config/worker';
import { createLogger } from '../../src/logger';
import { runMain } from '../../src/startup';
import { temporalSettings } from '../../src/temporal/connection';
import { privateSdkMetricsAddress, startWorkerListener } from '../../src/worker/listener';
import { createJourneyWorker, installRuntime } from '../../src/worker/worker';
import { floorActivities } from './activities';

// tsx turns source maps on; the real worker (plain `node` on dist/) runs without them.
process.setSourceMapsEnabled(false);

async function main(): Promise<void> {
  const logger = createLogger('worker');
  const config = loadWorkerConfig(process.env, { requireHandoff: true });
  const sdkMetricsAddress = await privateSdkMetricsAddress();
  installRuntime(logger, { metricsAddress: sdkMetricsAddress });
  const quiet = () => undefined;
  const code = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflow'),
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: console.warn, error: console.error },
  });
  const floor = await createJourneyWorker({
    config,
    temporal: temporalSettings(),
    logger,
    workflowBundle: { code: code.code },
    activities: floorActivities(config.handoff!),
  });
  const listener = await startWorkerListener({
    address: config.metricsAddress,
    sdkMetricsUrl: `http://${sdkMetricsAddress}/metrics`,
    workers: () => [floor],
    logger,
  });
  await floor.worker.run().finally(() => {
    floor.policies.close();
    return listener.close();
  });
  await floor.connection.close();
}

runMain('floor worker', main);
