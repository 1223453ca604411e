/**
 * Connection settings come from Temporal's environment configuration (`TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `TEMPORAL_PROFILE` or a TOML profile),
 * so the same build runs against the dev server, a self-hosted cluster or Temporal Cloud.
 */
import { Connection, type ConnectionLike } from '@temporalio/client';
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

/**
 * The receiver's connection: the Rust-core `NativeConnection`, which costs a fraction of grpc-js's
 * CPU per call (bench: the receiver's CPU per delivery), held so that the receiver still starts,
 * and answers 503, while Temporal is unreachable. `NativeConnection.connect` needs the server up
 * and has no lazy mode, so the holder connects on first use and again on the first use after a
 * failed attempt, one attempt at a time; a call made meanwhile waits for that attempt and fails
 * with it. Once connected, Rust core reconnects by itself after an outage.
 */
export class LazyNativeConnection implements ConnectionLike {
  readonly plugins = [];
  private native: NativeConnection | undefined;
  private connecting: Promise<NativeConnection> | undefined;
  private closed = false;
  /** Any method of either service, before the connection exists: connect, then make the call. */
  private readonly pending = {
    workflowService: this.deferred('workflowService'),
    operatorService: this.deferred('operatorService'),
  };

  constructor(private readonly settings: TemporalSettings) {}

  get workflowService(): NativeConnection['workflowService'] {
    return this.native?.workflowService ?? this.pending.workflowService;
  }

  get operatorService(): NativeConnection['operatorService'] {
    return this.native?.operatorService ?? this.pending.operatorService;
  }

  async ensureConnected(): Promise<void> {
    await this.connect();
  }

  withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R> {
    return this.native ? this.native.withDeadline(deadline, fn) : fn();
  }

  withMetadata<R>(metadata: Record<string, string | Buffer>, fn: () => Promise<R>): Promise<R> {
    return this.native ? this.native.withMetadata(metadata, fn) : fn();
  }

  withAbortSignal<R>(abortSignal: AbortSignal, fn: () => Promise<R>): Promise<R> {
    return this.native ? this.native.withAbortSignal(abortSignal, fn) : fn();
  }

  async close(): Promise<void> {
    this.closed = true;
    const native = this.native ?? (await this.connecting?.catch(() => undefined));
    this.native = undefined;
    await native?.close();
  }

  private connect(): Promise<NativeConnection> {
    if (this.native) return Promise.resolve(this.native);
    if (this.closed) return Promise.reject(new TemporalUnreachableError(this.settings.address, 'connection closed'));
    this.connecting ??= connectWorker(this.settings).then(
      (native) => {
        this.connecting = undefined;
        if (this.closed) {
          void native.close();
          throw new TemporalUnreachableError(this.settings.address, 'connection closed');
        }
        this.native = native;
        return native;
      },
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return this.connecting;
  }

  private deferred<K extends 'workflowService' | 'operatorService'>(service: K): NativeConnection[K] {
    return new Proxy({} as NativeConnection[K], {
      get: (_target, method) => {
        if (typeof method !== 'string' || method === 'then') return undefined;
        return async (...args: unknown[]) => {
          const native = await this.connect();
          const target = native[service] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
          return target[method]!(...args);
        };
      },
    });
  }
}
