import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Client, type ClientOptions, type ConnectionLike } from '@temporalio/client';
import type { AesGcmCodec } from '../codec/aesGcm';
import { payloadCodec } from '../codec/payloadCodec';
import type { ReceiverConfig } from '../config/receiver';
import { allDeployments } from '../config/deployments';
import { listenOrExplain } from '../failures';
import { keyUidRefs, type Logger } from '../logger';
import { activeTelemetry } from '../telemetry';
import { LazyNativeConnection, type TemporalSettings } from '../temporal/connection';
import { createInternalApp, createReceiverApp } from './app';
import { createReceiverMetrics } from './metrics';
import { backlogGate } from './backlog';
import { startDrainer } from '../spool/drain';
import { spoolInstead, vaultRefused } from '../spool/intake';
import { RefusedVault } from '../spool/vault';
import { SpoolStore } from '../spool/store';
import { erasedCheck, Tombstones } from '../spool/tombstones';

export interface RunningReceiver {
  /** The public listener: the webhook and health checks. */
  url: string;
  port: number;
  /** The internal listener: /metrics and the journey API. */
  internalUrl: string;
  connection: ConnectionLike;
  /** A client of the connection's own namespace. */
  client: Client;
  /** Stops accepting, lets in-flight deliveries finish, then closes the Temporal connection. */
  close(): Promise<void>;
}

/** A client per namespace, each sealing payloads with the codec. */
export function temporalClients(
  connection: ConnectionLike,
  namespaces: string[],
  codec: AesGcmCodec,
  interceptors: ClientOptions['interceptors'] = {},
): Map<string, Client> {
  return new Map(
    namespaces.map((namespace) => [
      namespace,
      new Client({ connection, namespace, dataConverter: { payloadCodecs: [codec] }, interceptors }),
    ]),
  );
}

export async function startReceiver(
  config: ReceiverConfig,
  logger: Logger,
  temporal: TemporalSettings,
): Promise<RunningReceiver> {
  keyUidRefs(config.codecKeys);
  // Lazy: the receiver starts (and answers 503) even while Temporal is unreachable.
  const connection = new LazyNativeConnection(temporal);
  const codec = payloadCodec(config);
  const namespaces = [...new Set([temporal.namespace, ...allDeployments(config).map((d) => d.namespace)])];
  // With tracing on, signalWithStart (and every other call) is a span whose context the workflow continues.
  const telemetry = activeTelemetry();
  const interceptors = telemetry ? { workflow: telemetry.clientInterceptors } : {};
  const clients = temporalClients(connection, namespaces, codec, interceptors);
  const countJourneys = async (namespace: string, query: string) =>
    Number(
      (await connection.withDeadline(Date.now() + 2_000, () => clients.get(namespace)!.workflow.count(query))).count,
    );
  const spool = config.spool && new SpoolStore(config.spool.databaseUrl, codec, config.spool);
  const vault = spool && new RefusedVault(spool.pool, codec, config.spool!.vault);
  const erasure = spool && vault && { spool, vault, tombstones: new Tombstones(spool.pool) };
  const isErased = erasure ? erasedCheck(erasure.tombstones) : undefined;
  const metrics = createReceiverMetrics(
    { count: countJourneys, namespaces, refreshMs: config.metricsRefreshMs },
    spool
      ? { stats: () => spool.stats(), maxRows: config.spool!.maxRows, maxBytes: config.spool!.maxBytes }
      : undefined,
  );
  const backlogged = backlogGate(connection, config.taskQueue, config.deferBacklogMs, (namespace, ageMs) =>
    metrics.journeyBacklog.set({ namespace }, ageMs / 1000),
  );
  const deps = {
    config,
    connection,
    clients,
    logger,
    metrics,
    backlogged,
    ...(spool && {
      spoolInstead: spoolInstead(spool, (err) =>
        logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'spool commit failed'),
      ),
      spoolReachable: () => spool.reachable(),
    }),
    ...(erasure && { erasure, isErased }),
    ...(vault && {
      vaultRefused: vaultRefused(
        vault,
        (outcome) => metrics.vaulted.inc({ outcome }),
        (err) =>
          logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'vaulting failed'),
      ),
    }),
  };
  // The schema is made now if the database is up; otherwise on first use (the spool's calls retry it).
  await spool
    ?.migrate()
    .then(() => erasure?.tombstones.migrate())
    .catch((err) => logger.warn({ err: { name: err.name, message: err.message } }, 'spool database not reachable yet'));
  const drainer =
    spool &&
    startDrainer({
      store: spool,
      config,
      connection,
      clients,
      logger,
      metrics,
      isErased,
      backlogged,
    });
  const app = createReceiverApp(deps);
  // Slow or idle clients are cut off within about a second of their deadline, and their number is capped.
  const serverOptions = {
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: Math.min(5_000, config.requestTimeoutMs),
    connectionsCheckingInterval: 500,
    keepAliveTimeout: 5_000,
  };
  const server = config.tls
    ? https.createServer(
        { ...serverOptions, cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) },
        app,
      )
    : http.createServer(serverOptions, app);
  server.maxConnections = config.maxConnections;
  const internal = http.createServer(serverOptions, createInternalApp(deps));

  const port = await listen(server, config.port, config.host, 'PORT');
  const internalPort = await listen(internal, config.internal.port, config.internal.host, 'INTERNAL_PORT');
  const url = `${config.tls ? 'https' : 'http'}://${shownHost(config.host)}:${port}`;
  const internalUrl = `http://${shownHost(config.internal.host)}:${internalPort}`;
  logger.info(
    { url, internalUrl, temporal: temporal.address, namespaces, tls: Boolean(config.tls), spool: Boolean(spool) },
    'receiver listening',
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    internalUrl,
    connection,
    client: clients.get(temporal.namespace)!,
    close() {
      closing ??= (async () => {
        const drained = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const forced = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
        internal.closeAllConnections();
        await Promise.all([drained, new Promise<void>((resolve) => internal.close(() => resolve()))]);
        clearTimeout(forced);
        await drainer?.stop();
        await spool?.close();
        await connection.close();
        logger.info('receiver stopped');
      })();
      return closing;
    },
  };
}

async function listen(
  server: http.Server | https.Server,
  port: number,
  host: string,
  setting: string,
): Promise<number> {
  await listenOrExplain(server, port, host, setting);
  return (server.address() as AddressInfo).port;
}

function shownHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}
