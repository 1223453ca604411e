import { loadPolicy } from '../../activities/policy';
import { loadWorkerConfig } from '../config';
import { createLogger } from '../logger';
import { configOrExit } from '../startup';
import { temporalSettings } from '../temporal/connection';
import { createJourneyWorker, installRuntime } from './worker';

async function main(): Promise<void> {
  const logger = createLogger('worker');
  const config = configOrExit(() => loadWorkerConfig(process.env, { requireHandoff: true }), logger);
  // Checked before connecting: a bad policy stops the worker at once, with every problem listed.
  const policy = configOrExit(() => loadPolicy(config.policyFile), logger);
  installRuntime(logger, { metricsAddress: config.metricsAddress });
  const { worker, connection } = await createJourneyWorker({ config, policy, temporal: temporalSettings(), logger });
  // Worker.run() handles SIGINT/SIGTERM itself: it stops polling and drains running tasks.
  await worker.run();
  await connection.close();
}

void main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 'fatal', msg: 'worker crashed', err: (err as Error).message }));
  process.exit(1);
});
