import { ConfigError, loadWorkerConfig } from '../config';
import { createLogger } from '../logger';
import { PolicyConfigError } from '../../activities/policy';
import { temporalSettings } from '../temporal/connection';
import { createJourneyWorker, installRuntime } from './worker';

async function main(): Promise<void> {
  const logger = createLogger('worker');
  try {
    const config = loadWorkerConfig(process.env, { requireHandoff: true });
    installRuntime(logger, { metricsAddress: config.metricsAddress });
    const { worker, connection } = await createJourneyWorker({ config, temporal: temporalSettings(), logger });
    // Worker.run() handles SIGINT/SIGTERM itself: it stops polling and drains running tasks.
    await worker.run();
    await connection.close();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PolicyConfigError) {
      logger.fatal({ problems: err.problems }, 'refusing to start: invalid configuration');
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}

void main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 'fatal', msg: 'worker crashed', err: (err as Error).message }));
  process.exit(1);
});
