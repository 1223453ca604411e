import { loadReceiverConfig } from '../config';
import { createLogger } from '../logger';
import { configOrExit, runMain } from '../startup';
import { startReceiver } from './server';

async function main(): Promise<void> {
  const logger = createLogger('receiver');
  const receiver = await startReceiver(
    configOrExit(() => loadReceiverConfig(), logger),
    logger,
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      void receiver.close().then(() => process.exit(0));
    });
  }
}

runMain('receiver', main);
