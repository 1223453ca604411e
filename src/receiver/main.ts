import { loadReceiverConfig } from '../config/receiver';
import { createLogger } from '../logger';
import { configOrExit, runMain } from '../startup';
import { startTelemetry } from '../telemetry';
import { temporalSettings } from '../temporal/connection';
import { startReceiver } from './server';

async function main(): Promise<void> {
  const logger = createLogger('receiver');
  // Off unless OTEL_* asks for it (a bad OTEL_* stops it with status 78); before the Temporal client.
  const telemetry = await startTelemetry('begini-receiver');
  const temporal = temporalSettings();
  const receiver = await startReceiver(
    configOrExit(() => loadReceiverConfig(process.env, temporal), logger),
    logger,
    temporal,
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      void receiver
        .close()
        .then(() => telemetry?.shutdown())
        .then(() => process.exit(0));
    });
  }
}

runMain('receiver', main);
