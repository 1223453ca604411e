import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { AesGcmCodec } from '../codec/aesGcm';
import type { ReceiverConfig } from '../config';
import type { Logger } from '../logger';
import { temporalSettings, type TemporalSettings } from '../temporal/connection';
import { createReceiverApp } from './app';
import { createReceiverMetrics } from './metrics';

export interface RunningReceiver {
  url: string;
  port: number;
  connection: Connection;
  client: Client;
  /** Stops accepting, lets in-flight deliveries finish, then closes the Temporal connection. */
  close(): Promise<void>;
}

export async function startReceiver(
  config: ReceiverConfig,
  logger: Logger,
  temporal: TemporalSettings = temporalSettings(),
): Promise<RunningReceiver> {
  // Lazy: the receiver starts (and answers 503) even while Temporal is unreachable.
  const connection = Connection.lazy({ ...temporal.connectionOptions, connectTimeout: config.ackTimeoutMs });
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: { payloadCodecs: [new AesGcmCodec(config.codecKeys)] } });
  const countJourneys = async (query: string) =>
    Number((await connection.withDeadline(Date.now() + 2_000, () => client.workflow.count(query))).count);
  const app = createReceiverApp({ config, connection, client, logger, metrics: createReceiverMetrics(countJourneys) });
  const server = config.tls
    ? https.createServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) }, app)
    : http.createServer(app);
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `${config.tls ? 'https' : 'http'}://${shownHost}:${port}`;
  logger.info({ url, temporal: temporal.address, namespace: temporal.namespace, tls: Boolean(config.tls) }, 'receiver listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    connection,
    client,
    close() {
      closing ??= (async () => {
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const forced = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
        await drained;
        clearTimeout(forced);
        await connection.close();
        logger.info('receiver stopped');
      })();
      return closing;
    },
  };
}
