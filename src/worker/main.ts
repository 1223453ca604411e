import { existsSync } from 'node:fs';
import { loadPolicy } from '../../activities/policy';
import { StartupError } from '../failures';
import { loadWorkerConfig } from '../config/worker';
import { createLogger } from '../logger';
import { configOrExit, runMain } from '../startup';
import { TRACED_WORKFLOW_BUNDLE_PATH, WORKFLOW_BUNDLE_PATH } from './bundle';
import { startTelemetry } from '../telemetry';
import { temporalSettings } from '../temporal/connection';
import { privateSdkMetricsAddress, startWorkerListener } from './listener';
import { createJourneyWorker, installRuntime } from './worker';

async function main(): Promise<void> {
  const logger = createLogger('worker');
  // Off unless OTEL_* asks for it (a bad OTEL_* stops it with status 78); before any Temporal connection.
  const telemetry = await startTelemetry('begini-worker');
  const config = configOrExit(() => loadWorkerConfig(process.env, { requireHandoff: true }), logger);
  // Checked before connecting: a bad policy stops the worker at once, with every problem listed.
  const policy = configOrExit(() => loadPolicy(config.policyFile), logger);
  const sdkMetricsAddress = await privateSdkMetricsAddress();
  installRuntime(logger, { metricsAddress: sdkMetricsAddress });
  // The bundle `npm run build` made: nothing is bundled at start. Traced workflows when tracing is on.
  const bundlePath = telemetry ? TRACED_WORKFLOW_BUNDLE_PATH : WORKFLOW_BUNDLE_PATH;
  if (!existsSync(bundlePath)) throw new StartupError('missing_tool', `${bundlePath} is missing: run npm run build`);
  const workflowBundle = { codePath: bundlePath };
  const { worker, connection, namespace, policies, challenger, closePolicies } = await createJourneyWorker({
    config,
    policy,
    temporal: temporalSettings(),
    logger,
    workflowBundle,
  });
  // Metrics, liveness and readiness on WORKER_METRICS_ADDRESS (the compose health check reads /readyz).
  const listener = await startWorkerListener({
    address: config.metricsAddress,
    sdkMetricsUrl: `http://${sdkMetricsAddress}/metrics`,
    workers: () => [{ worker, connection, namespace, policies, challenger }],
    logger,
  });
  // Worker.run() handles SIGINT/SIGTERM itself: it stops polling and drains running tasks.
  await worker.run().finally(() => {
    closePolicies();
    return listener.close();
  });
  await connection.close();
  await telemetry?.shutdown();
}

runMain('worker', main);
