/**
 * The dev-server stack the bench measures on: a Temporal dev server (SQLite file or in memory), the
 * worker and the receiver as the compiled entry points, a bare HMAC server as the HTTP ceiling, and
 * an LOS stand-in. The dev server can be SIGKILLed and started again on the same port and file, and
 * the receiver restarted with other settings, for the spool section (bench/spool.ts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parseCodecKeys } from '../src/codec/aesGcm';
import { payloadCodec } from '../src/codec/payloadCodec';
import { LOS_SECRET, startLos, type Los } from '../dev/losStandIn';
import { freePort } from '../src/freePort';
import { startDevServer, type DevServer } from '../dev/devServer';
import { registerSearchAttributes } from '../src/temporal/namespace';
import { BENCH_CODEC_KEYS as CODEC_KEYS, BENCH_KEY as KEY } from './load';

const ROOT = resolve(__dirname, '..');
export const TASK_QUEUE = 'bench';

export interface Stack {
  server: DevServer;
  client: Client;
  connection: Connection;
  los: Los;
  worker: ChildProcess;
  receiver: ChildProcess;
  bare: ChildProcess;
  receiverUrl: string;
  bareUrl: string;
  /** The worker's /metrics (its listener, the SDK's Prometheus metrics passed through). */
  workerMetricsUrl: string;
  /** Another process from the repository, with the worker's and receiver's environment and `extraEnv`. */
  spawn(args: string[], extraEnv: Record<string, string>, stdout?: 'pipe' | 'ignore'): ChildProcess;
  /** SIGKILL: Temporal unreachable, as in an outage. */
  killServer(): Promise<void>;
  /** The dev server again, on the same port and store (a SQLite file keeps what it held). */
  startServer(): Promise<void>;
  /** The receiver stopped and started again on the same port, with `extraEnv` over its settings. */
  restartReceiver(extraEnv: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Compiles what the stack runs: the entry points, and the prebuilt workflow bundle the worker loads
 * (without it, the bench measures stale workflow code).
 */
export function buildEntryPoints(): void {
  console.log(`building …`);
  execFileSync(resolve(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  execFileSync(process.execPath, ['dist/src/worker/bundle.js'], { cwd: ROOT, stdio: 'inherit' });
}

export async function startStack(store: 'sqlite' | 'memory', receiverEnv: Record<string, string> = {}): Promise<Stack> {
  const dataDir = resolve(ROOT, '.data', 'bench');
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const serverOptions = {
    port: await freePort(),
    uiPort: null,
    dbFile: store === 'sqlite' ? resolve(dataDir, 'temporal.db') : null,
  };
  const server = await startDevServer(serverOptions);
  const connection = await Connection.connect({ address: server.address });
  await registerSearchAttributes(connection, 'default');
  const client = new Client({
    connection,
    dataConverter: { payloadCodecs: [payloadCodec({ codecKeys: parseCodecKeys(CODEC_KEYS) })] },
  });
  const los = await startLos();
  const [receiverPort, barePort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME!,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    PAYLOAD_CODEC_KEYS: CODEC_KEYS,
    BEGINI_API_KEY: KEY,
    LOS_CALLBACK_URL: los.url,
    LOS_CALLBACK_SECRET: LOS_SECRET,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  const run = (args: string[], extra: Record<string, string>, stdout: 'pipe' | 'ignore' = 'ignore') =>
    spawn(process.execPath, args, { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', stdout, 'inherit'] });
  // BENCH_PROFILE_DIR: the worker (or, with BENCH_PROFILE_PROCESS=receiver, the receiver) writes V8
  // CPU profiles there (one per thread) when it stops.
  const profiled = process.env.BENCH_PROFILE_PROCESS ?? 'worker';
  const profile = (which: 'worker' | 'receiver') =>
    process.env.BENCH_PROFILE_DIR && profiled === which
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
      : [];
  const startReceiver = (extra: Record<string, string>) =>
    run([...profile('receiver'), 'dist/src/receiver/main.js'], {
      PORT: String(receiverPort),
      INTERNAL_PORT: '0',
      ...receiverEnv,
      ...extra,
    });
  const worker = run([...profile('worker'), 'dist/src/worker/main.js'], {
    WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
  });
  const bare = run(['--import', 'tsx', 'bench/bareHmacServer.ts'], { PORT: String(barePort) });
  const receiver = startReceiver({});
  const receiverReady = `http://127.0.0.1:${receiverPort}/readyz`;
  await waitReady(receiverReady);
  await waitReady(`http://127.0.0.1:${metricsPort}/metrics`);
  await new Promise((r) => setTimeout(r, 500));
  const stack: Stack = {
    server,
    client,
    connection,
    los,
    worker,
    receiver,
    bare,
    receiverUrl: `http://127.0.0.1:${receiverPort}/webhooks/begini`,
    bareUrl: `http://127.0.0.1:${barePort}/`,
    workerMetricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    spawn: run,
    killServer: () => stack.server.stop('SIGKILL'),
    async startServer() {
      stack.server = await startDevServer(serverOptions);
    },
    async restartReceiver(extra) {
      stack.receiver.kill('SIGTERM');
      await exited(stack.receiver);
      stack.receiver = startReceiver(extra);
      await waitReady(receiverReady);
    },
    async stop() {
      const children = [stack.receiver, worker, bare];
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(children.map(exited));
      await connection.close();
      await los.close();
      await stack.server.stop();
    },
  };
  return stack;
}

/** `run` on a stack of its own, stopped afterwards however `run` ends. */
export async function withStack<T>(
  store: 'sqlite' | 'memory',
  receiverEnv: Record<string, string>,
  run: (stack: Stack) => Promise<T>,
): Promise<T> {
  const stack = await startStack(store, receiverEnv);
  try {
    return await run(stack);
  } finally {
    await stack.stop();
  }
}

/** Once `child` has exited. */
export const exited = (child: ChildProcess) =>
  new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));

export async function waitReady(url: string): Promise<void> {
  for (
    let i = 0;
    !(await fetch(url).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  ) {
    if (i > 300) throw new Error(`${url} never became ready`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the worker has run the first task of every journey started so far; seconds it took. */
export async function drain(stack: Stack, prefix: string, expected: number): Promise<number> {
  const started = Date.now();
  const query = `WorkflowId STARTS_WITH '${prefix}' AND BeginiStage = 'awaiting_scores'`;
  for (;;) {
    const waiting = Number((await stack.client.workflow.count(query)).count);
    if (waiting >= expected || Date.now() - started > 600_000) return (Date.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 500));
  }
}
