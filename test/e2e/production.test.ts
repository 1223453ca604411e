/**
 * What the Docker image holds, exercised without Docker: the compiled entry points, with production
 * dependencies only, as separate processes against the dev server. Also: both refuse to start
 * without their keys.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EXIT } from '../../src/failures';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { journeyQuery } from '../../workflows/definitions';
import { AesGcmCodec, parseCodecKeys } from '../../src/codec/aesGcm';
import { delivery, newUid, post, TEST_CODEC_KEYS, TEST_KEY } from '../support/begini';
import { LOS_SECRET, startLos, type Los } from '../../dev/losStandIn';
import { TEST_DATA_DIR } from '../support/paths';
import { installLikeImage } from '../../dev/clusterApps';
import { freePort } from '../../src/freePort';

const ROOT = resolve(__dirname, '..', '..');
const IMAGE = resolve(TEST_DATA_DIR, 'image');
const children: ChildProcess[] = [];
let los: Los;

beforeAll(() => {
  // The Dockerfile's steps; `npm run build` ran in the global setup.
  installLikeImage(IMAGE);
  expect(existsSync(resolve(IMAGE, 'dist/workflow-bundle.js'))).toBe(true);
}, 180_000);

beforeAll(async () => {
  los = await startLos();
});

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  await los.close();
});

function run(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn('node', [entry], {
    cwd: IMAGE,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return child;
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

/** Runs an entry point that must refuse to start: exit 78, naming what is missing. */
async function expectRefusal(entry: string, env: Record<string, string>, missing: string): Promise<void> {
  const child = run(entry, { TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!, ...env });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  expect(await exitCode(child)).toBe(78);
  expect(output).toContain(missing);
}

test('the receiver refuses to start without a Begini key', async () => {
  await expectRefusal(
    'dist/src/receiver/main.js',
    { PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS },
    'no Begini API key configured',
  );
});

test('both refuse to start without payload encryption keys', async () => {
  const complete = {
    BEGINI_API_KEY: TEST_KEY,
    LOS_CALLBACK_URL: 'http://127.0.0.1:1/x',
    LOS_CALLBACK_SECRET: LOS_SECRET,
  };
  await expectRefusal('dist/src/receiver/main.js', complete, 'PAYLOAD_CODEC_KEYS');
  await expectRefusal('dist/src/worker/main.js', complete, 'PAYLOAD_CODEC_KEYS');
});

test('the worker refuses to start without somewhere to send decisions', async () => {
  await expectRefusal('dist/src/worker/main.js', { PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS }, 'LOS_CALLBACK_URL');
});

test('receiver and worker from the built image decide a journey end to end', async () => {
  const port = await freePort();
  const taskQueue = `production-${process.pid}`;
  const common = {
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: 'warn',
    PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS,
  };
  run('dist/src/worker/main.js', {
    ...common,
    LOS_CALLBACK_URL: los.url,
    LOS_CALLBACK_SECRET: LOS_SECRET,
    WORKER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
  });
  run('dist/src/receiver/main.js', {
    ...common,
    BEGINI_API_KEY: TEST_KEY,
    PORT: String(port),
    HOST: '127.0.0.1',
    INTERNAL_PORT: '0',
  });

  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const uid = newUid();
  expect((await post(`${url}/webhooks/begini`, delivery('psychometric_score.complete', uid))).status).toBe(200);

  for (let i = 0; i < 150 && los.acceptedFor(uid, 'decision').length === 0; i++)
    await new Promise((r) => setTimeout(r, 200));
  expect(los.acceptedFor(uid, 'decision')).toHaveLength(1);
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS! });
  try {
    const dataConverter = { payloadCodecs: [new AesGcmCodec(parseCodecKeys(TEST_CODEC_KEYS))] };
    const view = await new Client({ connection, dataConverter }).workflow.getHandle(uid).query(journeyQuery);
    expect(view).toMatchObject({ stage: 'decided', handoff: { status: 'delivered' } });
  } finally {
    await connection.close();
  }
});

describe('a failure to start is one line that says what and what to do, with its own exit status', () => {
  /** Runs an entry point to its exit; returns the status and everything it wrote. */
  async function outcome(child: ChildProcess): Promise<{ code: number | null; output: string }> {
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    return { code: await exitCode(child), output };
  }
  const expectOneLine = (output: string, pattern: RegExp) => {
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toMatch(pattern);
    expect(output).not.toMatch(/\n\s+at /);
  };
  let held: Server;
  let heldPort: number;
  beforeAll(async () => {
    held = createServer();
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
    heldPort = (held.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => held.close(() => r())));

  const base = { PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS, LOG_LEVEL: 'warn' };

  test('the worker, with Temporal unreachable', async () => {
    const worker = run('dist/src/worker/main.js', {
      ...base,
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      LOS_CALLBACK_URL: los.url,
      LOS_CALLBACK_SECRET: LOS_SECRET,
      WORKER_METRICS_ADDRESS: '127.0.0.1:0',
    });
    const { code, output } = await outcome(worker);
    expect(code).toBe(EXIT.unavailable);
    expectOneLine(output, /^worker: Temporal at 127\.0\.0\.1:1 is unreachable .*TEMPORAL_ADDRESS/);
  });

  test('the receiver and the codec endpoint, with their port taken', async () => {
    const receiver = await outcome(
      run('dist/src/receiver/main.js', {
        ...base,
        BEGINI_API_KEY: TEST_KEY,
        HOST: '127.0.0.1',
        PORT: String(heldPort),
      }),
    );
    expect(receiver.code).toBe(EXIT.portInUse);
    expectOneLine(
      receiver.output,
      new RegExp(`^receiver: cannot listen on 127\\.0\\.0\\.1:${heldPort} \\(in use\\).*set PORT`),
    );
    const codec = await outcome(
      run('dist/src/codec/main.js', { ...base, CODEC_AUTH_TOKEN: 'x'.repeat(24), CODEC_PORT: String(heldPort) }),
    );
    expect(codec.code).toBe(EXIT.portInUse);
    expectOneLine(codec.output, /^codec-server: cannot listen on .*set CODEC_PORT/);
  });

  test('a bad LOG_LEVEL is a configuration error like any other', async () => {
    const receiver = run('dist/src/receiver/main.js', {
      ...base,
      BEGINI_API_KEY: TEST_KEY,
      LOG_LEVEL: 'loud',
      PORT: '0',
      INTERNAL_PORT: '0',
    });
    const { code, output } = await outcome(receiver);
    expect(code).toBe(EXIT.config);
    expect(output).toContain('LOG_LEVEL');
  });

  test('npm run dev, with TEMPORAL_ADDRESS pointing at nothing', async () => {
    const dev = spawn(resolve(ROOT, 'node_modules/.bin/tsx'), ['dev/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME!,
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        PORT: '0',
        INTERNAL_PORT: '0',
        CODEC_PORT: '0',
        WORKER_METRICS_ADDRESS: '127.0.0.1:0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(dev);
    const { code, output } = await outcome(dev);
    expect(code).toBe(EXIT.unavailable);
    const lines = output.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^npm run dev: Temporal at 127\.0\.0\.1:1 is unreachable/);
    expect(output).not.toMatch(/\n\s+at /);
  });
});
