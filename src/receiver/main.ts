import { ConfigError, loadReceiverConfig } from '../config';
import { createLogger } from '../logger';
import { startReceiver } from './server';

async function main(): Promise<void> {
  const logger = createLogger('receiver');
  let config;
  try {
    config = loadReceiverConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ problems: err.problems }, 'refusing to start: invalid configuration');
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const receiver = await startReceiver(config, logger);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      void receiver.close().then(() => process.exit(0));
    });
  }
}

void main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 'fatal', msg: 'receiver crashed', err: (err as Error).message }));
  process.exit(1);
});
