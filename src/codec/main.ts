/** `npm run codec-server`: the codec endpoint for the Web UI and CLI, on its own port. */
import { AesGcmCodec } from './aesGcm';
import { ConfigError, loadCodecServerConfig } from '../config';
import { createLogger } from '../logger';
import { startCodecServer } from './server';

async function main(): Promise<void> {
  const logger = createLogger('codec');
  let config;
  try {
    config = loadCodecServerConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ problems: err.problems }, 'refusing to start: invalid configuration');
      process.exit(78);
    }
    throw err;
  }
  const server = await startCodecServer({ ...config, codec: new AesGcmCodec(config.codecKeys), logger });
  logger.info({ url: server.url, corsOrigins: config.corsOrigins }, 'codec endpoint listening');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void server.close().then(() => process.exit(0)));
}

void main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 'fatal', msg: 'codec server crashed', err: (err as Error).message }));
  process.exit(1);
});
