/** `npm run codec-server`: the codec endpoint for the Web UI and CLI, on its own port. */
import { loadCodecServerConfig } from '../config/codecServer';
import { createLogger } from '../logger';
import { configOrExit, runMain } from '../startup';
import { AesGcmCodec } from './aesGcm';
import { startCodecServer } from './server';

async function main(): Promise<void> {
  const logger = createLogger('codec');
  const config = configOrExit(() => loadCodecServerConfig(), logger);
  const server = await startCodecServer({
    ...config,
    codec: new AesGcmCodec(config.codecKeys, { acceptPlaintext: true }),
    logger,
  });
  logger.info({ url: server.url, corsOrigins: config.corsOrigins }, 'codec endpoint listening');
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => void server.close().then(() => process.exit(0)));
}

runMain('codec-server', main);
