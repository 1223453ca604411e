/**
 * Our production entry points on a Temporal cluster, installed as the Docker image installs them
 * (the compiled build plus `npm ci --omit=dev`): setup once, then receivers, workers and the codec
 * endpoint, each its own process that can be SIGKILLed. For the cluster suite and the benchmark.
 * Needs `npm run build` first.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../src/freePort';

const PROJECT_ROOT = resolve(__dirname, '..');

/** The Dockerfile's steps without Docker: production dependencies, then the built files. */
export function installLikeImage(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(resolve(dir, 'activities'), { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) cpSync(resolve(PROJECT_ROOT, file), resolve(dir, file));
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: dir,
    stdio: 'ignore',
  });
  if (!existsSync(resolve(PROJECT_ROOT, 'dist/workflow-bundle.js'))) throw new Error('run `npm run build` first');
  cpSync(resolve(PROJECT_ROOT, 'dist'), resolve(dir, 'dist'), { recursive: true });
  cpSync(resolve(PROJECT_ROOT, 'activities/default-policy.yaml'), resolve(dir, 'activities/default-policy.yaml'));
}

/** SIGKILL, then wait for the exit: a crash at the worst moment, and nothing left running after. */
export async function killAndWait(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

export interface AppOptions {
  /** Where installLikeImage put the image's files. */
  imageDir: string;
  logDir: string;
  temporalAddress: string;
  /** Every variable the entry points need beyond the Temporal address and their ports. */
  env: Record<string, string>;
  receivers: number;
  workers: number;
}

export interface ClusterApps {
  receiverUrls: string[];
  /** Each receiver's internal listener (/metrics, the journey API), in the same order. */
  receiverInternalUrls: string[];
  /** Receivers in rotation, as a load balancer with health checks would see them. */
  liveReceivers(): string[];
  codecUrl: string;
  pids(): { receivers: number[]; workers: number[] };
  killReceiver(index: number): Promise<void>;
  killWorker(index: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startClusterApps(options: AppOptions): Promise<ClusterApps> {
  mkdirSync(options.logDir, { recursive: true });
  const children: ChildProcess[] = [];
  const run = (entry: string, name: string, env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [entry], {
      cwd: options.imageDir,
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME!,
        NODE_ENV: 'production',
        TEMPORAL_ADDRESS: options.temporalAddress,
        ...options.env,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(resolve(options.logDir, `${name}.log`), { flags: 'a' });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    children.push(child);
    return child;
  };
  const kill = killAndWait;

  // Setup: the namespace, the search attributes and the retention, by our own code, run once.
  const setup = run('dist/src/temporal/setupMain.js', 'setup', { TEMPORAL_NAMESPACE: 'default' });
  const code = await new Promise<number | null>((r) => setup.once('exit', r));
  if (code !== 0) throw new Error(`setup-temporal exited ${code}; see ${options.logDir}/setup.log`);

  const workers: ChildProcess[] = [];
  const waits: Array<Promise<void>> = [];
  for (let i = 0; i < options.workers; i++) {
    const metrics = `127.0.0.1:${await freePort()}`;
    workers.push(run('dist/src/worker/main.js', `worker-${i + 1}`, { WORKER_METRICS_ADDRESS: metrics }));
    waits.push(waitReady(`http://${metrics}/metrics`));
  }
  const receivers: ChildProcess[] = [];
  const receiverUrls: string[] = [];
  const receiverInternalUrls: string[] = [];
  for (let i = 0; i < options.receivers; i++) {
    const port = await freePort();
    const internalPort = await freePort();
    receivers.push(
      run('dist/src/receiver/main.js', `receiver-${i + 1}`, {
        HOST: '127.0.0.1',
        PORT: String(port),
        INTERNAL_PORT: String(internalPort),
      }),
    );
    receiverInternalUrls.push(`http://127.0.0.1:${internalPort}`);
    receiverUrls.push(`http://127.0.0.1:${port}/webhooks/begini`);
    waits.push(waitReady(`http://127.0.0.1:${port}/readyz`));
  }
  const codecPort = await freePort();
  run('dist/src/codec/main.js', 'codec', { CODEC_HOST: '127.0.0.1', CODEC_PORT: String(codecPort) });
  waits.push(waitReady(`http://127.0.0.1:${codecPort}/healthz`));
  const down = new Set<number>();
  const apps: ClusterApps = {
    receiverUrls,
    receiverInternalUrls,
    liveReceivers: () => receiverUrls.filter((_, i) => !down.has(i)),
    codecUrl: `http://127.0.0.1:${codecPort}`,
    pids: () => ({
      receivers: receivers.filter((c) => c.exitCode === null).map((c) => c.pid!),
      workers: workers.filter((c) => c.exitCode === null).map((c) => c.pid!),
    }),
    async killReceiver(index) {
      await kill(receivers[index]);
      // A load balancer's health check takes it out of rotation a moment later.
      setTimeout(() => down.add(index), 2_000).unref();
    },
    killWorker: (index) => kill(workers[index]),
    async stop() {
      process.off('exit', stopNow);
      await Promise.all(children.map((child) => kill(child)));
    },
  };
  // A runner that exits without stop() (jest's forceExit, a crash) must not leave them running.
  const stopNow = () => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', stopNow);
  try {
    await Promise.all(waits);
  } catch (err) {
    await apps.stop();
    throw err;
  }
  return apps;
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} never became ready`);
}
