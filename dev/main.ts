/**
 * `npm run dev`: the whole system on one machine. A Temporal dev server (unless TEMPORAL_ADDRESS
 * points elsewhere) persisted under .data/, the search attributes and retention, the worker and
 * the receiver, with a signed sample delivery ready to paste.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { newToken, tokenDigest } from '../src/auth/tokensFile';
import { AesGcmCodec, generateCodecKeySpec } from '../src/codec/aesGcm';
import { startCodecServer } from '../src/codec/server';
import { loadCodecServerConfig } from '../src/config/codecServer';
import { loadReceiverConfig } from '../src/config/receiver';
import { loadSetupConfig } from '../src/config/setup';
import { loadWorkerConfig } from '../src/config/worker';
import { allDeployments } from '../src/config/deployments';
import { createLogger } from '../src/logger';
import { WEBHOOK_PATH } from '../src/receiver/app';
import { startReceiver } from '../src/receiver/server';
import { runMain } from '../src/startup';
import { startTelemetry } from '../src/telemetry';
import { connectClient, temporalSettings } from '../src/temporal/connection';
import { startDevServer, type DevServer } from './devServer';
import { ensureNamespace, registerSearchAttributes, setRetention } from '../src/temporal/namespace';
import { privateSdkMetricsAddress, startWorkerListener } from '../src/worker/listener';
import { createJourneyWorker, installRuntime } from '../src/worker/worker';
import { curlCommand, generateDevKey, sampleScoreDelivery } from './sample';

const DATA_DIR = resolve(__dirname, '..', '.data');

async function main(): Promise<void> {
  const logger = createLogger('dev');
  // Off unless OTEL_* asks for it. The worker here bundles from source, with the workflow interceptors when on.
  const telemetry = await startTelemetry('begini-dev');
  mkdirSync(DATA_DIR, { recursive: true });
  const env: NodeJS.ProcessEnv = { WORKER_METRICS_ADDRESS: '127.0.0.1:9464', ...process.env };
  if (!env.BEGINI_API_KEY && !env.BEGINI_DEPLOYMENTS_FILE) {
    env.BEGINI_API_KEY = devSecret('dev-api-key', generateDevKey);
    console.log(`\nNo BEGINI_API_KEY set: using a local dev key kept in .data/dev-api-key\n  ${env.BEGINI_API_KEY}\n`);
  }
  env.PAYLOAD_CODEC_KEYS ??= devSecret('dev-codec-keys', generateCodecKeySpec);
  const operatorAuthSet = [env.OPERATOR_TOKENS_FILE, env.OPERATOR_JWKS_URL, env.OPERATOR_JWKS_FILE].some(Boolean);
  if (!operatorAuthSet) {
    // The journey API on loopback, for one local admin whose token is kept beside the other dev secrets.
    const token = devSecret('dev-operator-token', newToken);
    env.OPERATOR_TOKENS_FILE = resolve(DATA_DIR, 'dev-operators.yaml');
    writeFileSync(
      env.OPERATOR_TOKENS_FILE,
      `operators:\n  - name: dev-admin\n    role: admin\n    sha256: ${tokenDigest(token).toString('hex')}\n`,
    );
  }
  // Every setting is checked before anything starts.
  const workerConfig = loadWorkerConfig(env);
  const receiverConfig = loadReceiverConfig(env);
  const { retentionDays } = loadSetupConfig(env);
  const sdkMetricsAddress = await privateSdkMetricsAddress();
  installRuntime(logger, { shutdownSignals: [], metricsAddress: sdkMetricsAddress });
  const codecToken = env.CODEC_AUTH_TOKEN ?? devSecret('dev-codec-token', () => randomBytes(24).toString('hex'));
  const codecConfig = loadCodecServerConfig({
    ...env,
    CODEC_AUTH_TOKEN: codecToken,
    CODEC_CORS_ORIGINS: 'http://127.0.0.1:8233,http://localhost:8233',
  });
  const codecServer = await startCodecServer({
    ...codecConfig,
    codec: new AesGcmCodec(codecConfig.codecKeys, { acceptPlaintext: true }),
    logger: createLogger('codec'),
  });
  // The UI cannot send headers to a codec endpoint, so it gets the token in the path.
  const uiCodecEndpoint = `${codecServer.url}/codec/${codecToken}`;

  let devServer: DevServer | null = null;
  if (!env.TEMPORAL_ADDRESS) {
    console.log('Starting the Temporal dev server (data in .data/temporal.db) …');
    devServer = await startDevServer({
      port: 7233,
      uiPort: 8233,
      dbFile: resolve(DATA_DIR, 'temporal.db'),
      extraArgs: ['--ui-codec-endpoint', uiCodecEndpoint],
    });
    env.TEMPORAL_ADDRESS = devServer.address;
  }
  const temporal = temporalSettings(env);

  // Each deployment's journeys live in its own namespace, with a worker polling it.
  const namespaces = [...new Set([temporal.namespace, ...allDeployments(receiverConfig).map((d) => d.namespace)])];
  const connection = await connectClient(temporal, 5_000);
  for (const namespace of namespaces) {
    await ensureNamespace(connection, namespace, retentionDays);
    // The dev server ignores --search-attribute once its database exists, so register every start.
    await registerSearchAttributes(connection, namespace);
    await setRetention(connection, namespace, retentionDays);
  }
  await connection.close();

  const workers = await Promise.all(
    namespaces.map((namespace) =>
      createJourneyWorker({
        config: workerConfig,
        temporal: { ...temporal, namespace },
        logger: createLogger('worker'),
      }),
    ),
  );
  const workerRuns = Promise.all(workers.map(({ worker }) => worker.run()));
  const workerListener = await startWorkerListener({
    address: workerConfig.metricsAddress,
    sdkMetricsUrl: `http://${sdkMetricsAddress}/metrics`,
    workers: () => workers,
    logger: createLogger('worker'),
  });
  const receiver = await startReceiver(receiverConfig, createLogger('receiver'), temporal);

  const sampleFile = resolve(DATA_DIR, 'sample-delivery.json');
  const sample = sampleScoreDelivery(`dev-${Date.now().toString(36)}`);
  writeFileSync(sampleFile, sample);
  const webhookUrl = `${receiver.url}${WEBHOOK_PATH}`;
  console.log(
    [
      '',
      'Begini × Temporal dev stack is up.',
      `  Receiver    ${webhookUrl}`,
      `  Health      ${receiver.url}/healthz · ${receiver.url}/readyz`,
      `  Internal    ${receiver.internalUrl}/metrics${receiverConfig.operatorAuth ? ` · ${receiver.internalUrl}/journeys` : ''} (operators only; loopback by default)`,
      ...(operatorAuthSet
        ? []
        : ['              journey API token (dev-admin, admin role) in .data/dev-operator-token']),
      `  Worker      ${workerListener.url}/metrics · ${workerListener.url}/healthz · ${workerListener.url}/readyz`,
      `  Temporal    ${temporal.address} (namespace${namespaces.length > 1 ? 's' : ''} ${namespaces.join(', ')}, retention ${retentionDays}d)`,
      `  Web UI      ${devServer?.uiUrl ?? '(your cluster’s UI)'}/namespaces/${temporal.namespace}/workflows`,
      `  Spool       ${receiverConfig.spool ? 'on (SPOOL_DATABASE_URL): a delivery Temporal cannot take is kept in PostgreSQL and drained' : 'off (set SPOOL_DATABASE_URL to keep deliveries Temporal cannot take)'}`,
      `  Codec       ${codecServer.url}/codec (payloads in Temporal are AES-256-GCM encrypted; token in .data/dev-codec-token)`,
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
    for (const { worker, closePolicies } of workers) {
      closePolicies();
      worker.shutdown();
    }
    await workerRuns;
    await workerListener.close();
    for (const { connection: workerConnection } of workers) await workerConnection.close();
    await devServer?.stop();
    await codecServer.close();
    await telemetry?.shutdown();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  await workerRuns.catch(async (err: unknown) => {
    logger.fatal({ err: (err as Error).message }, 'worker failed');
    await stop('worker failure');
  });
}

/** A secret for local use only, generated once and kept under .data/ (git-ignored). */
function devSecret(name: string, generate: () => string): string {
  const file = resolve(DATA_DIR, name);
  if (!existsSync(file)) writeFileSync(file, generate(), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

runMain('npm run dev', main);
