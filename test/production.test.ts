/**
 * What the Docker image holds, exercised without Docker: the compiled entry points, with production
 * dependencies only, as separate processes against the dev server. Also: both refuse to start
 * without their keys.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { journeyQuery } from '../workflows/definitions';
import { AesGcmCodec, parseCodecKeys } from '../src/codec/aesGcm';
import { delivery, newUid, post, TEST_CODEC_KEYS, TEST_KEY } from './support/begini';
import { LOS_SECRET, startLos, type Los } from '../src/dev/losStandIn';
import { TEST_DATA_DIR } from './support/paths';
import { freePort } from '../src/dev/ports';

const ROOT = resolve(__dirname, '..');
const IMAGE = resolve(TEST_DATA_DIR, 'image');
const children: ChildProcess[] = [];
let los: Los;

beforeAll(() => {
  // The Dockerfile's steps: build, then production dependencies only, then the built files.
  rmSync(IMAGE, { recursive: true, force: true });
  mkdirSync(IMAGE, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) cpSync(resolve(ROOT, file), resolve(IMAGE, file));
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: IMAGE, stdio: 'ignore' });
  execFileSync(resolve(ROOT, 'node_modules/.bin/tsc'), ['-p', resolve(ROOT, 'tsconfig.build.json'), '--outDir', resolve(IMAGE, 'dist')], { cwd: ROOT });
  mkdirSync(resolve(IMAGE, 'activities'));
  cpSync(resolve(ROOT, 'activities/default-policy.yaml'), resolve(IMAGE, 'activities/default-policy.yaml'));
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
  const child = spawn('node', [entry], { cwd: IMAGE, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
  await expectRefusal('dist/src/receiver/main.js', { PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS }, 'no Begini API key configured');
});

test('both refuse to start without payload encryption keys', async () => {
  const complete = { BEGINI_API_KEY: TEST_KEY, LOS_CALLBACK_URL: 'http://127.0.0.1:1/x', LOS_CALLBACK_SECRET: LOS_SECRET };
  await expectRefusal('dist/src/receiver/main.js', complete, 'PAYLOAD_CODEC_KEYS');
  await expectRefusal('dist/src/worker/main.js', complete, 'PAYLOAD_CODEC_KEYS');
});

test('the worker refuses to start without somewhere to send decisions', async () => {
  await expectRefusal('dist/src/worker/main.js', { PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS }, 'LOS_CALLBACK_URL');
});

test('receiver and worker from the built image decide a journey end to end', async () => {
  const port = await freePort();
  const taskQueue = `production-${process.pid}`;
  const common = { TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS!, TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: 'warn', PAYLOAD_CODEC_KEYS: TEST_CODEC_KEYS };
  run('dist/src/worker/main.js', { ...common, LOS_CALLBACK_URL: los.url, LOS_CALLBACK_SECRET: LOS_SECRET, WORKER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}` });
  run('dist/src/receiver/main.js', { ...common, BEGINI_API_KEY: TEST_KEY, PORT: String(port), HOST: '127.0.0.1' });

  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const uid = newUid();
  expect((await post(`${url}/webhooks/begini`, delivery('psychometric_score.complete', uid))).status).toBe(200);

  for (let i = 0; i < 150 && los.acceptedFor(uid, 'decision').length === 0; i++) await new Promise((r) => setTimeout(r, 200));
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
