/**
 * Hostile traffic against the live endpoint (real receiver, real Temporal): no crash, no 500, no
 * workflow without a valid signature, memory bounded, and bodies over the limit never buffered.
 */
import net from 'node:net';
import fc from 'fast-check';
import { sign } from '../../src/begini/verifier';
import { TEST_KEY } from '../support/begini';
import { retainedBytes } from '../support/memory';
import { recordCases } from '../support/propertyCount';
import { startStack, type Stack } from '../support/stack';

const PREFIX = `hostile${process.pid}-`;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'hostile', worker: false, env: { WORKFLOW_ID_PREFIX: PREFIX } });
});
afterAll(async () => {
  await stack.stop();
});

// 422: an event whose own timestamps are older than the deployment accepts (random `*_at` keys).
const ALLOWED = new Set([200, 400, 403, 405, 413, 415, 422]);

test('random methods, content types, encodings, bodies and signatures', async () => {
  const acknowledged = new Set<string>();
  const sentUids = new Set<string>();
  const statuses = new Map<number, number>();
  let requests = 0;
  let retainedAfterWarmUp = 0;

  // Including uids shaped like a derived workflow ID of another uid.
  const uid = fc.oneof(
    fc.uuid(),
    fc.string({ minLength: 1, maxLength: 30 }).map((s) => `u-${s}`),
    fc.uuid().map((u) => `${u}/after-close`),
  );
  const longText = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ minLength: 2_100, maxLength: 3_000 }),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
  );
  const scoreDetails = fc.record({
    scored_at: fc.constant(Math.floor(Date.now() / 1000)),
    platform: longText,
    calculated: fc.record({
      score: fc.integer(),
      risk_band: longText,
      score_confidence: longText,
      traits: fc.array(fc.record({ key: longText, risk_band: longText }), { maxLength: 5 }),
    }),
  });
  const envelope = fc.record({
    uid,
    integration_id: fc.oneof(fc.constant('62137183e877704b06fab0f2'), fc.string()),
    event: fc.record({
      type: fc.oneof(
        fc.constantFrom('psychometric_score.complete', 'application.complete', 'application.expired'),
        fc.string(),
      ),
      details: fc.oneof(fc.jsonValue(), scoreDetails),
    }),
  });
  const body = fc.oneof(
    envelope.map((e) => ({ uid: e.uid, bytes: Buffer.from(JSON.stringify(e)) })),
    envelope.map((e) => ({
      uid: e.uid,
      bytes: Buffer.from(JSON.stringify(e).slice(0, Math.max(1, JSON.stringify(e).length - 7))),
    })),
    fc.uint8Array({ maxLength: 2048 }).map((b) => ({ uid: undefined, bytes: Buffer.from(b) })),
    fc.jsonValue().map((v) => ({ uid: undefined, bytes: Buffer.from(JSON.stringify(v) ?? 'null') })),
  );
  const request = fc.record({
    body,
    signing: fc.constantFrom('valid', 'valid', 'valid-upper', 'none', 'random', 'other-key', 'garbage'),
    method: fc.constantFrom('POST', 'POST', 'POST', 'POST', 'PUT', 'PATCH', 'DELETE', 'GET'),
    contentType: fc.constantFrom(
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '',
    ),
    contentEncoding: fc.constantFrom(undefined, undefined, undefined, 'gzip', 'deflate', 'br', 'identity'),
    randomHeader: fc.tuple(fc.stringMatching(/^x-[a-z]{1,12}$/), fc.stringMatching(/^[ -~]{0,40}$/)),
  });

  const runs = 1_500;
  // Compiled code, caches and pools grow over the first requests; growth after them is what leaks.
  const warmUp = 300;
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      if (++requests === warmUp) retainedAfterWarmUp = await retainedBytes();
      const headers: Record<string, string> = { [r.randomHeader[0]]: r.randomHeader[1] };
      if (r.contentType) headers['content-type'] = r.contentType;
      if (r.contentEncoding) headers['content-encoding'] = r.contentEncoding;
      const good = sign(r.body.bytes, TEST_KEY);
      const signature = {
        valid: good,
        'valid-upper': good.toUpperCase(),
        none: undefined,
        random: sign(r.body.bytes, 'x'),
        'other-key': sign(r.body.bytes, `${TEST_KEY}-other`),
        garbage: 'zz',
      }[r.signing];
      if (signature) headers['x-signature'] = signature;
      const response = await fetch(stack.webhookUrl, {
        method: r.method,
        headers,
        body: r.method === 'GET' ? undefined : r.body.bytes,
      });
      const answer = (await response.json()) as { reason?: string; status?: string };
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect(ALLOWED.has(response.status)).toBe(true);
      if (response.status !== 200) expect(typeof answer.reason).toBe('string');
      if (r.body.uid) sentUids.add(r.body.uid);
      if (response.status === 200) {
        expect(r.signing.startsWith('valid')).toBe(true);
        acknowledged.add(r.body.uid!);
      }
    }),
    { numRuns: runs },
  );
  recordCases('http: random requests', runs);

  // Every workflow under this run's prefix belongs to a delivery that was verified and acknowledged.
  const started = new Set<string>();
  for await (const w of stack.client.workflow.list({ query: `WorkflowId STARTS_WITH '${PREFIX}'` }))
    started.add(w.workflowId.slice(PREFIX.length));
  expect([...started].filter((id) => !acknowledged.has(id))).toEqual([]);
  for (const id of acknowledged) expect(started.has(id) || (await stack.exists(`${PREFIX}${id}`))).toBe(true);
  // Both sides of the property were exercised.
  expect(acknowledged.size).toBeGreaterThanOrEqual(5);
  expect(sentUids.size).toBeGreaterThan(acknowledged.size);

  // Even 5 KiB kept per request (one body, one socket's state) would add about 6 MiB here; the bound
  // sits under that and over what a full suite's heap drifts by meanwhile (0.8 alone, 4.1 once in CI).
  const grownMb = ((await retainedBytes()) - retainedAfterWarmUp) / 2 ** 20;
  console.log(
    `hostile http: ${runs} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${acknowledged.size} journeys, heap retained over the last ${runs - warmUp}: ${grownMb.toFixed(1)} MiB`,
  );
  expect(grownMb).toBeLessThan(5);
});

test('a body over the limit is refused before it is read: 50 MiB streamed, 413 after a few', async () => {
  let pulled = 0;
  const chunk = new Uint8Array(64 * 1024).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= 50 * 2 ** 20) return controller.close();
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const response = await fetch(stack.webhookUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': 'a'.repeat(128) },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  expect(response.status).toBe(413);
  expect(await response.json()).toMatchObject({ reason: 'payload_too_large' });
  // What the client never sent, the receiver cannot have buffered; RSS would only measure the allocator.
  expect(pulled).toBeLessThan(8 * 2 ** 20);
  recordCases('http: oversized stream', 1);
});

test('a truncated body (the connection closes early) crashes nothing', async () => {
  const { port } = new URL(stack.webhookUrl);
  for (let i = 0; i < 20; i++) {
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /webhooks/begini HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Signature: ${'b'.repeat(128)}\r\nContent-Length: 5000\r\n\r\n{"uid":"trunc`,
        );
        setTimeout(() => socket.destroy(), 20);
      });
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
  }
  expect((await fetch(stack.webhookUrl.replace('/webhooks/begini', '/healthz'))).status).toBe(200);
  recordCases('http: truncated bodies', 20);
});
