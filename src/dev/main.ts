/**
 * `npm run dev`: the whole system on one machine. A Temporal dev server (unless TEMPORAL_ADDRESS
 * points elsewhere) persisted under .data/, the search attributes and retention, the worker and
 * the receiver, with a signed sample delivery ready to paste.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { ConfigError, loadReceiverConfig, loadWorkerConfig } from '../config';
import { createLogger } from '../logger';
import { WEBHOOK_PATH } from '../receiver/app';
import { startReceiver } from '../receiver/server';
import { temporalSettings } from '../temporal/connection';
import { startDevServer, type DevServer } from '../temporal/devServer';
import { registerSearchAttributes, setRetention } from '../temporal/namespace';
import { createJourneyWorker, installRuntime } from '../worker/worker';
import { curlCommand, generateDevKey, sampleScoreDelivery } from './sample';

const DATA_DIR = resolve(__dirname, '..', '..', '.data');
const RETENTION_DAYS = 30;

async function main(): Promise<void> {
  const logger = createLogger('dev');
  mkdirSync(DATA_DIR, { recursive: true });
  const env: NodeJS.ProcessEnv = { WORKER_METRICS_ADDRESS: '127.0.0.1:9464', ...process.env };
  const workerConfig = loadWorkerConfig(env);
  installRuntime(logger, { shutdownSignals: [], metricsAddress: workerConfig.metricsAddress });

  if (!env.BEGINI_API_KEY && !env.BEGINI_DEPLOYMENTS_FILE) {
    const keyFile = resolve(DATA_DIR, 'dev-api-key');
    if (!existsSync(keyFile)) writeFileSync(keyFile, generateDevKey(), { mode: 0o600 });
    env.BEGINI_API_KEY = readFileSync(keyFile, 'utf8').trim();
    console.log(`\nNo BEGINI_API_KEY set: using a local dev key kept in .data/dev-api-key\n  ${env.BEGINI_API_KEY}\n`);
  }

  let devServer: DevServer | null = null;
  if (!env.TEMPORAL_ADDRESS) {
    console.log('Starting the Temporal dev server (data in .data/temporal.db) …');
    devServer = await startDevServer({ port: 7233, uiPort: 8233, dbFile: resolve(DATA_DIR, 'temporal.db') });
    env.TEMPORAL_ADDRESS = devServer.address;
  }
  const temporal = temporalSettings(env);

  const connection = await Connection.connect(temporal.connectionOptions);
  // The dev server ignores --search-attribute once its database exists, so register every start.
  await registerSearchAttributes(connection, temporal.namespace);
  await setRetention(connection, temporal.namespace, RETENTION_DAYS);
  await connection.close();

  const { worker, connection: workerConnection } = await createJourneyWorker({
    config: workerConfig,
    temporal,
    logger: createLogger('worker'),
  });
  const workerRun = worker.run();
  const receiver = await startReceiver(loadReceiverConfig(env), createLogger('receiver'), temporal);

  const sampleFile = resolve(DATA_DIR, 'sample-delivery.json');
  const sample = sampleScoreDelivery(`dev-${Date.now().toString(36)}`);
  writeFileSync(sampleFile, sample);
  const webhookUrl = `${receiver.url}${WEBHOOK_PATH}`;
  console.log(
    [
      '',
      'Begini × Temporal dev stack is up.',
      `  Receiver    ${webhookUrl}`,
      `  Health      ${receiver.url}/healthz · ${receiver.url}/readyz · ${receiver.url}/metrics`,
      `  Worker      http://${workerConfig.metricsAddress}/metrics`,
      `  Temporal    ${temporal.address} (namespace ${temporal.namespace}, retention ${RETENTION_DAYS}d)`,
      `  Web UI      ${devServer?.uiUrl ?? '(your cluster’s UI)'}/namespaces/${temporal.namespace}/workflows`,
      '',
      'Send a signed sample delivery (a psychometric score, so the journey decides at once):',
      '',
      `  ${curlCommand(webhookUrl, sampleFile, sample, env.BEGINI_API_KEY ?? '<your BEGINI_API_KEY>')}`,
      '',
      'or simulate a whole journey as Begini would send it:  npm run simulate -- happy',
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping receiver, worker and Temporal …`);
    await receiver.close();
    worker.shutdown();
    await workerRun;
    await workerConnection.close();
    await devServer?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await workerRun.catch(async (err: unknown) => {
    logger.fatal({ err: (err as Error).message }, 'worker failed');
    await stop('worker failure');
  });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
