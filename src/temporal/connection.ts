/**
 * Connection settings come from Temporal's environment configuration (`TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `TEMPORAL_PROFILE` or a TOML profile),
 * so the same build runs against the dev server, a self-hosted cluster or Temporal Cloud.
 */
import { Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { TemporalUnreachableError } from '../failures';

export interface TemporalSettings {
  connectionOptions: NativeConnectionOptions;
  address: string;
  namespace: string;
}

export function temporalSettings(env: Record<string, string | undefined> = process.env): TemporalSettings {
  const defined = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: defined });
  const address = connectionOptions.address ?? 'localhost:7233';
  return { connectionOptions: { ...connectionOptions, address }, address, namespace: namespace ?? 'default' };
}

/** A client connection, or a failure that says Temporal is unreachable and what to do. */
export async function connectClient(settings: TemporalSettings, connectTimeout?: number): Promise<Connection> {
  try {
    return await Connection.connect({ ...settings.connectionOptions, ...(connectTimeout ? { connectTimeout } : {}) });
  } catch (err) {
    throw new TemporalUnreachableError(settings.address, err);
  }
}

/** A worker's connection, or a failure that says Temporal is unreachable and what to do. */
export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(settings.connectionOptions);
  } catch (err) {
    throw new TemporalUnreachableError(settings.address, err);
  }
}
