/**
 * Connection settings come from Temporal's environment configuration (`TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS_*`, `TEMPORAL_PROFILE` or a TOML profile),
 * so the same build runs against the dev server, a self-hosted cluster or Temporal Cloud.
 */
import { Connection, type ConnectionLike } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { TemporalUnreachableError } from '../failures';
import { rememberingStarts } from './runTypes';

export interface TemporalSettings {
  connectionOptions: NativeConnectionOptions;
  address: string;
  namespace: string;
}

/**
 * Read once by each entry point, which hands the same settings to its configuration (the default
 * namespace) and its connection. `NAME=` means not set, as for every other setting.
 */
export function temporalSettings(env: Record<string, string | undefined> = process.env): TemporalSettings {
  const defined = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => Boolean(e[1])));
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
  /** The native workflow service, with the runs its signalWithStarts started remembered (runTypes.ts). */
  private nativeWorkflowService: NativeConnection['workflowService'] | undefined;
  private connecting: Promise<NativeConnection> | undefined;
  private closed = false;
  /** Any method of either service, before the connection exists: connect, then make the call. */
  private readonly pending = {
    workflowService: this.deferred('workflowService'),
    operatorService: this.deferred('operatorService'),
  };

  constructor(private readonly settings: TemporalSettings) {}

  get workflowService(): NativeConnection['workflowService'] {
    return this.nativeWorkflowService ?? this.pending.workflowService;
  }

  get operatorService(): NativeConnection['operatorService'] {
    return this.native?.operatorService ?? this.pending.operatorService;
  }

  async ensureConnected(): Promise<void> {
    await this.connect();
  }

  // A deadline or abort covers the connecting too: an address that drops packets would otherwise
  // hold the call until the OS gives up on the TCP connect, minutes later.
  async withDeadline<R>(deadline: number | Date, fn: () => Promise<R>): Promise<R> {
    const native = this.native ?? (await this.connectWithin(Number(deadline) - Date.now()));
    return native.withDeadline(deadline, fn);
  }

  async withMetadata<R>(metadata: Record<string, string | Buffer>, fn: () => Promise<R>): Promise<R> {
    const native = this.native ?? (await this.connect());
    return native.withMetadata(metadata, fn);
  }

  async withAbortSignal<R>(abortSignal: AbortSignal, fn: () => Promise<R>): Promise<R> {
    const native = this.native ?? (await this.connectUnless(abortSignal));
    return native.withAbortSignal(abortSignal, fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    // A connect still under way closes what it opens (see connect), so close never waits on it.
    const native = this.native;
    this.native = undefined;
    this.nativeWorkflowService = undefined;
    await native?.close();
  }

  private connectWithin(ms: number): Promise<NativeConnection> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), Math.max(ms, 0));
    return this.connectUnless(timeout.signal, 'deadline exceeded while connecting').finally(() => clearTimeout(timer));
  }

  private connectUnless(signal: AbortSignal, why = 'aborted while connecting'): Promise<NativeConnection> {
    if (signal.aborted) return Promise.reject(new TemporalUnreachableError(this.settings.address, why));
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new TemporalUnreachableError(this.settings.address, why));
      signal.addEventListener('abort', onAbort, { once: true });
      this.connect()
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
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
        this.nativeWorkflowService = rememberingStarts(native.workflowService);
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
          await this.connect();
          const target = this[service] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
          return target[method]!(...args);
        };
      },
    });
  }
}
