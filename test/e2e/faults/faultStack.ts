/**
 * The real stack as separate processes, so faults are real: a Temporal dev server persisted to a
 * SQLite file, the worker and the receiver (each `tsx` on the entry point a deployment runs), and
 * an in-process HTTP server standing in for the LOS. Any of them can be SIGKILLed and restarted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { AesGcmCodec, parseCodecKeys } from '../../../src/codec/aesGcm';
import { killAndWait } from '../../../dev/clusterApps';
import { startDevServer, type DevServer } from '../../../dev/devServer';
import { registerSearchAttributes } from '../../../src/temporal/namespace';
import { TEST_CODEC_KEYS, TEST_KEY } from '../../support/begini';
import { LOS_SECRET, startLos, type Los } from '../../../dev/losStandIn';
import { TEST_DATA_DIR } from '../../support/paths';
import { freePort } from '../../../src/freePort';

const ROOT = resolve(__dirname, '..', '..', '..');

export interface FaultStack {
  name: string;
  webhookUrl: string;
  los: Los;
  client: Client;
  /** The running worker's listener (metrics, health), e.g. http://127.0.0.1:PORT. */
  workerUrl: string;
  killServer(): Promise<void>;
  startServer(): Promise<void>;
  killWorker(): Promise<void>;
  /** SIGSTOP / SIGCONT: a worker frozen (a long GC pause, a starved CPU) while the server carries on. */
  pauseWorker(): void;
  resumeWorker(): void;
  /** Starts a worker; `extra` overrides its environment (e.g. a new POLICY_FILE, as a rollout does). */
  startWorker(extra?: Record<string, string>): Promise<void>;
  killReceiver(): Promise<void>;
  startReceiver(): Promise<void>;
  /** One more receiver process beside the first (same Temporal, same settings but `extraEnv`), stopped with the stack. */
  spawnReceiver(extraEnv?: Record<string, string>): Promise<ExtraReceiver>;
  stop(): Promise<void>;
}

export interface ExtraReceiver {
  webhookUrl: string;
  kill(): Promise<void>;
}

export async function startFaultStack(name: string, extraEnv: Record<string, string> = {}): Promise<FaultStack> {
  const dir = resolve(TEST_DATA_DIR, 'faults', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dbFile = resolve(dir, 'temporal.db');
  const temporalPort = await freePort();
  const receiverPort = await freePort();
  const los = await startLos();
  const env = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME!,
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_TASK_QUEUE: `faults-${name}`,
    PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS,
    BEGINI_API_KEY: TEST_KEY,
    LOS_CALLBACK_URL: los.url,
    LOS_CALLBACK_SECRET: LOS_SECRET,
    PORT: String(receiverPort),
    HOST: '127.0.0.1',
    INTERNAL_PORT: '0',
    TEMPORAL_ACK_TIMEOUT_MS: '3000',
    JOURNEY_HANDOFF_RETRY_INITIAL: '200ms',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };

  let server: DevServer | undefined;
  let worker: ChildProcess | undefined;
  let receiver: ChildProcess | undefined;
  const extraReceivers: ChildProcess[] = [];
  const startServer = async () => {
    server = await startDevServer({ port: temporalPort, uiPort: null, dbFile });
  };
  await startServer();
  const connection = await Connection.connect({ address: server!.address });
  await registerSearchAttributes(connection, 'default');
  const client = new Client({
    connection,
    dataConverter: { payloadCodecs: [new AesGcmCodec(parseCodecKeys(TEST_CODEC_KEYS))] },
  });

  const spawnEntry = async (entry: string, extra: Record<string, string> = {}) => {
    // The compiled entry points (built by the global setup), one process each, so SIGKILL hits
    // the service itself and the worker loads the prebuilt workflow bundle as in production.
    const child = spawn(process.execPath, [resolve(ROOT, entry)], {
      cwd: ROOT,
      env: { ...env, ...extra },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', () => undefined);
    return child;
  };
  const kill = killAndWait;
  const waitReady = async (url: string) => {
    for (let i = 0; i < 300; i++) {
      if (
        await fetch(url).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} never became ready`);
  };

  const stack: FaultStack = {
    name,
    webhookUrl: `http://127.0.0.1:${receiverPort}/webhooks/begini`,
    los,
    client,
    workerUrl: '',
    killServer: async () => server?.stop('SIGKILL'),
    startServer,
    killWorker: () => kill(worker),
    pauseWorker: () => void worker?.kill('SIGSTOP'),
    resumeWorker: () => void worker?.kill('SIGCONT'),
    async startWorker(extra = {}) {
      const metricsPort = await freePort();
      worker = await spawnEntry('dist/src/worker/main.js', {
        ...extra,
        WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      });
      stack.workerUrl = `http://127.0.0.1:${metricsPort}`;
      await waitReady(`${stack.workerUrl}/readyz`);
    },
    killReceiver: () => kill(receiver),
    async startReceiver() {
      receiver = await spawnEntry('dist/src/receiver/main.js');
      await waitReady(`http://127.0.0.1:${receiverPort}/readyz`);
    },
    async spawnReceiver(extra = {}) {
      const port = await freePort();
      const child = await spawnEntry('dist/src/receiver/main.js', { ...extra, PORT: String(port) });
      extraReceivers.push(child);
      await waitReady(`http://127.0.0.1:${port}/readyz`);
      return { webhookUrl: `http://127.0.0.1:${port}/webhooks/begini`, kill: () => kill(child) };
    },
    async stop() {
      await Promise.all(extraReceivers.map(kill));
      await kill(receiver);
      await kill(worker);
      await connection.close();
      await server?.stop();
      await los.close();
    },
  };
  await stack.startWorker();
  await stack.startReceiver();
  return stack;
}
