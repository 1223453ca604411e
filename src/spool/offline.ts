/**
 * What an operator's command run beside the receivers needs of them (npm run replay-refused,
 * npm run erase): the receiver's own configuration from the environment, its database's stores and
 * a client per namespace, or why it cannot have them (an invalid configuration, no SPOOL_DATABASE_URL).
 */
import type { Client } from '@temporalio/client';
import { payloadCodec } from '../codec/payloadCodec';
import { loadReceiverConfig, type ReceiverConfig } from '../config/receiver';
import { allDeployments } from '../config/deployments';
import { EXIT } from '../failures';
import { keyUidRefs } from '../logger';
import { temporalClients } from '../receiver/server';
import { LazyNativeConnection, temporalSettings } from '../temporal/connection';
import { SpoolStore } from './store';
import { RefusedVault } from './vault';

export interface OfflineStores {
  config: ReceiverConfig;
  spool: SpoolStore;
  vault: RefusedVault;
  connection: LazyNativeConnection;
  clients: Map<string, Client>;
  close(): Promise<void>;
}

/** The stores, or the line to print and the exit status (EX_CONFIG) when they cannot be opened. */
export function openOfflineStores(
  env: Record<string, string | undefined>,
  noDatabase: string,
): OfflineStores | { refused: string; exitCode: number } {
  const temporal = temporalSettings(env);
  let config: ReceiverConfig;
  try {
    config = loadReceiverConfig(env, temporal);
  } catch (err) {
    return { refused: `invalid configuration: ${(err as Error).message}`, exitCode: EXIT.config };
  }
  if (!config.spool) return { refused: noDatabase, exitCode: EXIT.config };
  keyUidRefs(config.codecKeys);
  // No migration allowance: the database's rows were sealed by this codec, never plaintext.
  const codec = payloadCodec({ codecKeys: config.codecKeys });
  const spool = new SpoolStore(config.spool.databaseUrl, codec, config.spool);
  const vault = new RefusedVault(spool.pool, codec, config.spool.vault);
  const connection = new LazyNativeConnection(temporal);
  const namespaces = [...new Set(allDeployments(config).map((d) => d.namespace))];
  const clients = temporalClients(connection, namespaces, codec);
  return {
    config,
    spool,
    vault,
    connection,
    clients,
    async close() {
      await connection.close();
      await spool.close();
    },
  };
}
