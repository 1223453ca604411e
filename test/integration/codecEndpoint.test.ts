/**
 * The codec endpoint the Web UI and CLI decrypt through, and a raw journey history that holds no
 * plaintext payload (the codec itself is unit-tested in codec.test.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec, ENCRYPTED_ENCODING } from '../../src/codec/aesGcm';
import { startCodecServer } from '../../src/codec/server';
import { createLogger } from '../../src/logger';
import { delivery, newUid } from '../support/begini';
import { startStack } from '../support/stack';

const key = (id: string) => ({ id, key: randomBytes(32) });
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value)!;
const text = (p: Payload) => Buffer.from(p.data ?? []).toString('utf8');
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString('utf8');

describe('the codec endpoint', () => {
  const TOKEN = 'codec-token-for-tests-8c1f2b9e';
  const UI = 'http://127.0.0.1:8233';
  const keys = [key('2026-11')];
  let url: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    // As deployed: the endpoint only displays what history already holds, so it may show plaintext.
    const server = await startCodecServer({
      codec: new AesGcmCodec(keys, { acceptPlaintext: true }),
      token: TOKEN,
      corsOrigins: [UI],
      logger: createLogger('codec-test', 'silent'),
      host: '127.0.0.1',
      port: 0,
    });
    url = server.url;
    close = server.close;
  });
  afterAll(() => close());

  const asJson = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
    data: Buffer.from(p.data!).toString('base64'),
  });
  const call = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  test.each([
    ['no token', '/codec/decode', {}],
    ['a wrong bearer token', '/codec/decode', { authorization: 'Bearer nope-nope-nope-nope-nope-nope' }],
    ['a wrong path token', '/codec/wrong-token-wrong-token-wrong/decode', {}],
  ])('%s gets 401', async (_name, path, headers) => {
    const response = await call(path, { payloads: [] }, headers);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ reason: 'unauthorized' });
  });

  test('decodes with the bearer token, and with the token in the path (for the Web UI)', async () => {
    const [encrypted] = await new AesGcmCodec(keys).encode([plain({ score: 42 })]);
    for (const [path, headers] of [
      ['/codec/decode', { authorization: `Bearer ${TOKEN}` }],
      [`/codec/${TOKEN}/decode`, {}],
    ] as const) {
      const response = await call(path, { payloads: [asJson(encrypted!)] }, headers);
      expect(response.status).toBe(200);
      const { payloads } = (await response.json()) as { payloads: Array<{ data: string }> };
      expect(JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString('utf8'))).toEqual({ score: 42 });
    }
  });

  test('a payload under an unknown key gets 400 unknown_key', async () => {
    const [foreign] = await new AesGcmCodec([key('elsewhere')]).encode([plain(1)]);
    const response = await call(
      '/codec/decode',
      { payloads: [asJson(foreign!)] },
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ reason: 'unknown_key' });
  });

  test('displays a payload written before encryption (acceptPlaintext: true), which a worker-side codec refuses', async () => {
    const before = plain({ legacy: true, score: 7 });
    const response = await call('/codec/decode', { payloads: [asJson(before)] }, { authorization: `Bearer ${TOKEN}` });
    expect(response.status).toBe(200);
    const { payloads } = (await response.json()) as {
      payloads: Array<{ metadata: Record<string, string>; data: string }>;
    };
    expect(payloads).toEqual([asJson(before)]);
    // The worker's codec (default options) refuses the very same payload.
    await expect(new AesGcmCodec(keys).decode([before])).rejects.toMatchObject({ reason: 'plaintext' });
  });

  test('an endpoint whose codec refuses plaintext answers 400 with reason plaintext', async () => {
    const strict = await startCodecServer({
      codec: new AesGcmCodec(keys),
      token: TOKEN,
      corsOrigins: [UI],
      logger: createLogger('codec-test', 'silent'),
      host: '127.0.0.1',
      port: 0,
    });
    try {
      const response = await fetch(`${strict.url}/codec/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ payloads: [asJson(plain({ legacy: true }))] }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        reason: 'plaintext',
        message: expect.stringContaining('PAYLOAD_CODEC_ACCEPT_PLAINTEXT_UNTIL'),
      });
    } finally {
      await strict.close();
    }
  });

  test('encoding through the endpoint still encrypts', async () => {
    const response = await call(
      '/codec/encode',
      { payloads: [asJson(plain({ score: 42 }))] },
      { authorization: `Bearer ${TOKEN}` },
    );
    expect(response.status).toBe(200);
    const { payloads } = (await response.json()) as { payloads: Array<{ metadata: Record<string, string> }> };
    expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString('utf8')).toBe(ENCRYPTED_ENCODING);
  });

  test('CORS admits the Web UI’s origin only', async () => {
    const preflight = (origin: string) =>
      fetch(`${url}/codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,x-namespace',
        },
      });
    const ok = await preflight(UI);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('https://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

test('a journey’s raw history holds no plaintext payload: no uid, no score', async () => {
  const stack = await startStack({ name: 'codec-history' });
  try {
    const uid = newUid();
    await stack.send(delivery('application.complete', uid));
    await stack.send(delivery('psychometric_score.complete', uid, { details: { calculated: { score: 913 } } }));
    await stack.waitForJourney(uid, (v) => v.stage === 'decided');
    // Raw: straight from the service, through no data converter.
    const { history } = await stack.receiver.connection.workflowService.getWorkflowExecutionHistory({
      namespace: 'default',
      execution: { workflowId: uid },
    });
    const payloads: Array<{ path: string; payload: Payload }> = [];
    const walk = (node: unknown, path: string): void => {
      if (!node || typeof node !== 'object') return;
      const candidate = node as Payload;
      if (candidate.metadata && 'encoding' in candidate.metadata && candidate.data !== undefined) {
        payloads.push({ path, payload: candidate });
        return;
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${path}.${k}`);
    };
    walk(history, 'history');
    const notEncrypted = payloads.filter((p) => meta(p.payload, 'encoding') !== ENCRYPTED_ENCODING);
    // Only search attributes and the SDK's own patch markers (a patch id, no data) are stored as
    // they are; codecs never see them.
    expect(
      notEncrypted
        .map((p) => p.path)
        .filter((path) => !/\.searchAttributes\.indexedFields\.|\.markerRecordedEventAttributes\.details\./.test(path)),
    ).toEqual([]);
    expect(payloads.length - notEncrypted.length).toBeGreaterThan(5);
    for (const { payload } of payloads) {
      expect(text(payload)).not.toContain(uid);
      // The score as a number of its own: a marker's plaintext timestamps can hold the digits.
      expect(text(payload)).not.toMatch(/(?<![0-9])913(?![0-9])/);
    }
  } finally {
    await stack.stop();
  }
});
