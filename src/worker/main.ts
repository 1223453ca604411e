import { existsSync } from 'node:fs';
import { loadPolicy } from '../../activities/policy';
import { EXIT, StartupError } from '../failures';
import { loadWorkerConfig } from '../config';
import { createLogger } from '../logger';
import { configOrExit, runMain } from '../startup';
import { WORKFLOW_BUNDLE_PATH } from './bundle';
import { temporalSettings } from '../temporal/connection';
import { createJourneyWorker, installRuntime } from './worker';

async function main(): Promise<void> {
  const logger = createLogger('worker');
  const config = configOrExit(() => loadWorkerConfig(process.env, { requireHandoff: true }), logger);
  // Checked before connecting: a bad policy stops the worker at once, with every problem listed.
  const policy = configOrExit(() => loadPolicy(config.policyFile), logger);
  installRuntime(logger, { metricsAddress: config.metricsAddress });
  // The bundle `npm run build` made: nothing is bundled at start.
  if (!existsSync(WORKFLOW_BUNDLE_PATH))
    throw new StartupError(EXIT.missingTool, `${WORKFLOW_BUNDLE_PATH} is missing: run npm run build`);
  const workflowBundle = { codePath: WORKFLOW_BUNDLE_PATH };
  const { worker, connection } = await createJourneyWorker({
    config,
    policy,
    temporal: temporalSettings(),
    logger,
    workflowBundle,
  });
  // Worker.run() handles SIGINT/SIGTERM itself: it stops polling and drains running tasks.
  await worker.run();
  await connection.close();
}

runMain('worker', main);
