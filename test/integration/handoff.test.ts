/** The LOS hand-off against real HTTP servers on loopback (integration tier: sockets, but no Temporal). */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { Webhook } from 'standardwebhooks';
import { callbackBody, handOff, type HandoffTarget } from '../../activities/handoff';
import { verifySignature } from '../../src/begini/verifier';
import { createLogger, keyUidRefs } from '../../src/logger';
import { HANDOFF_FAILURE } from '../../workflows/definitions';
import type { HandoffRequest } from '../../workflows/handoffRequests';

keyUidRefs([{ key: Buffer.alloc(32, 1) }]);

const SECRET = 'the-los-shared-secret';
const logger = createLogger('test', 'silent');

const request: HandoffRequest = {
  kind: 'decision',
  uid: 'applicant-1',
  idempotencySource: 'journey-1/decision-1',
  payload: {
    decision: {
      outcome: 'APPROVE',
      reasons: [],
      policyVersion: 'v',
      decidedAt: '2026-11-28T10:00:00.000Z',
      decidedBy: 'policy',
    },
    scores: {},
    trigger: 'scores_complete',
    integrationId: 'integration-1',
    environment: 'production',
  },
};

interface Received {
  method: string | undefined;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

interface TestServer {
  url: string;
  received: Received[];
}

let servers: Server[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<TestServer> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/los/decisions`, received };
}

afterEach(async () => {
  const closing = servers.map(
    (server) =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  servers = [];
  await Promise.all(closing);
});

function target(url: string, timeoutMs = 10_000, secret = SECRET): HandoffTarget {
  return { url, secret, timeoutMs };
}

const accept = (_req: IncomingMessage, res: ServerResponse) => res.writeHead(200).end('{"ok":true}');

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => {
      throw new Error('expected handOff to reject');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('handOff', () => {
  test('200: delivered, signed over the exact body, with the Idempotency-Key', async () => {
    const los = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'),
    );
    const result = await handOff(target(los.url), request, logger);

    expect(result).toEqual({ delivered: true, status: 200, idempotencyKey: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(los.received).toHaveLength(1);
    const [got] = los.received;
    expect(got!.method).toBe('POST');
    expect(got!.headers['idempotency-key']).toBe(result.idempotencyKey);
    expect(verifySignature(got!.body, got!.headers['x-signature'], [{ id: 'los', secret: SECRET }])).toEqual({
      ok: true,
      keyId: 'los',
    });
    // The body the schema tests (test/unit/callbackSchema.test.ts) check is the one sent.
    expect(got!.body.toString('utf8')).toBe(callbackBody(request));
    expect(JSON.parse(got!.body.toString('utf8'))).toMatchObject({
      kind: 'decision',
      uid: request.uid,
      idempotencyKey: result.idempotencyKey,
    });
  });

  test('422: a non-retryable HandoffRejected', async () => {
    const los = await serve((_req, res) => res.writeHead(422).end('{"error":"bad decision"}'));
    const failure = await failureOf(handOff(target(los.url), request, logger));
    expect(failure.type).toBe(HANDOFF_FAILURE.rejected);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ status: 422 }]);
  });

  test('503: retryable', async () => {
    const los = await serve((_req, res) => res.writeHead(503).end('down for maintenance'));
    const failure = await failureOf(handOff(target(los.url), request, logger));
    expect(failure.type).toBe(HANDOFF_FAILURE.failed);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.details).toEqual([{ status: 503 }]);
  });

  test.each([302, 303, 307, 308])(
    '%i: not followed; the Location server hears nothing; a retryable HandoffRedirected',
    async (status) => {
      const elsewhere = await serve((_req, res) => res.writeHead(200).end('{"ok":true}'));
      const los = await serve((_req, res) => res.writeHead(status, { location: `${elsewhere.url}?leak=1` }).end());
      const lines: string[] = [];
      const captured = createLogger(
        'test',
        'warn',
        new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(chunk.toString('utf8'));
            done();
          },
        }),
      );

      const failure = await failureOf(handOff(target(los.url), request, captured));

      expect(los.received).toHaveLength(1);
      expect(elsewhere.received).toHaveLength(0);
      expect(failure.type).toBe(HANDOFF_FAILURE.redirected);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.details).toEqual([{ status }]);
      expect(failure.message).toContain(`HTTP ${status}`);
      const warned = lines.map((line) => JSON.parse(line) as { level: number; status?: number });
      expect(warned).toEqual([expect.objectContaining({ level: 40, status })]);
      expect(lines.join('')).not.toContain(elsewhere.url.split('/los/')[0]!);
    },
  );

  test('2xx with an endless body: delivered promptly, the connection is dropped', async () => {
    let socketClosed!: Promise<void>;
    const los = await serve((req, res) => {
      socketClosed = new Promise((resolve) => req.socket.once('close', () => resolve()));
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      // Respects backpressure, so the server side cannot balloon if the client stops reading.
      const timer = setInterval(() => {
        if (!res.writableNeedDrain && !res.destroyed) res.write(chunk);
      }, 2);
      req.socket.once('close', () => clearInterval(timer));
    });

    const started = Date.now();
    const result = await handOff(target(los.url, 20_000), request, logger);
    const elapsed = Date.now() - started;

    expect(result).toMatchObject({ delivered: true, status: 200 });
    expect(elapsed).toBeLessThan(5_000);
    await expect(
      Promise.race([
        socketClosed,
        new Promise((_resolve, reject) => setTimeout(() => reject(new Error('socket still open')), 5_000).unref()),
      ]),
    ).resolves.toBeUndefined();
  }, 30_000);
});

/** The LOS side exactly as docs/los-callback.md has it: the official library, the documented secret rule. */
function losWebhook(secret: string): Webhook {
  return secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret), { format: 'raw' });
}

/** What an LOS passes on: the request's headers as they arrived. */
const headersOf = (got: Received) => got.headers as Record<string, string>;

function withClock<T>(epochMs: number, work: () => T): T {
  const clock = jest.spyOn(Date, 'now').mockReturnValue(epochMs);
  try {
    return work();
  } finally {
    clock.mockRestore();
  }
}

describe('Standard Webhooks', () => {
  test.each([
    ['a plain secret, keyed as its UTF-8 bytes', SECRET],
    ['a non-ASCII plain secret, keyed as its UTF-8 bytes', 'clé-partagée-du-LOS-ü'],
    ['a whsec_ secret, keyed as its base64 payload', `whsec_${randomBytes(32).toString('base64')}`],
  ])('%s: the official standardwebhooks Webhook.verify accepts the callback', async (_name, secret) => {
    const los = await serve(accept);
    const before = Math.floor(Date.now() / 1000);
    const result = await handOff(target(los.url, 10_000, secret), request, logger);
    const after = Math.floor(Date.now() / 1000);

    const [got] = los.received;
    expect(losWebhook(secret).verify(got!.body, headersOf(got!))).toEqual(JSON.parse(got!.body.toString('utf8')));
    expect(got!.headers['webhook-id']).toBe(result.idempotencyKey);
    expect(Number(got!.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(Number(got!.headers['webhook-timestamp'])).toBeLessThanOrEqual(after);
    expect(got!.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(got!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(got!.headers['content-type']).toBe('application/json');
    // The legacy header is unchanged, for the LOSes that verify it today.
    expect(verifySignature(got!.body, got!.headers['x-signature'], [{ id: 'los', secret }])).toEqual({
      ok: true,
      keyId: 'los',
    });
  });

  test('a whsec_ secret that is not base64 is keyed as its UTF-8 bytes, like a plain one', async () => {
    const secret = 'whsec_not-base64-at-all!';
    const los = await serve(accept);
    await handOff(target(los.url, 10_000, secret), request, logger);

    const [got] = los.received;
    expect(() => new Webhook(secret)).toThrow();
    expect(new Webhook(Buffer.from(secret), { format: 'raw' }).verify(got!.body, headersOf(got!))).toMatchObject({
      kind: 'decision',
    });
  });

  test('a replay after the tolerance, a renewed timestamp, another id or an altered body is rejected', async () => {
    const los = await serve(accept);
    await handOff(target(los.url), request, logger);
    const [got] = los.received;
    const headers = headersOf(got!);
    const wh = losWebhook(SECRET);
    expect(() => wh.verify(got!.body, headers)).not.toThrow();

    // The same bytes, recorded and sent again ten minutes later.
    const tenMinutesOn = Date.now() + 10 * 60 * 1000;
    expect(() => withClock(tenMinutesOn, () => wh.verify(got!.body, headers))).toThrow('Message timestamp too old');
    // ... with the timestamp brought up to date: it is signed, so the signature no longer matches.
    const renewed = { ...headers, 'webhook-timestamp': String(Math.floor(tenMinutesOn / 1000)) };
    expect(() => withClock(tenMinutesOn, () => wh.verify(got!.body, renewed))).toThrow('No matching signature found');
    // ... under another callback's id, to slip past the LOS's dedupe: the id is signed too.
    expect(() => wh.verify(got!.body, { ...headers, 'webhook-id': 'f'.repeat(40) })).toThrow(
      'No matching signature found',
    );
    const altered = Buffer.from(got!.body.toString('utf8').replace('"APPROVE"', '"DECLINE"'));
    expect(altered.equals(got!.body)).toBe(false);
    expect(() => wh.verify(altered, headers)).toThrow('No matching signature found');
  });

  test('webhook-id is the Idempotency-Key on every attempt; the timestamp and signature are per attempt', async () => {
    let answered = 0;
    const los = await serve((_req, res) => res.writeHead(answered++ === 0 ? 503 : 200).end());
    const firstAttemptAt = Date.now() - 90_000;

    // The clock is read before handOff's first await, so the first attempt is stamped 90 s ago.
    const failure = await failureOf(withClock(firstAttemptAt, () => handOff(target(los.url), request, logger)));
    expect(failure.type).toBe(HANDOFF_FAILURE.failed);
    const result = await handOff(target(los.url), request, logger);

    const [first, second] = los.received;
    expect(los.received).toHaveLength(2);
    for (const got of [first!, second!]) {
      expect(got.headers['webhook-id']).toBe(result.idempotencyKey);
      expect(got.headers['idempotency-key']).toBe(result.idempotencyKey);
      expect(() => losWebhook(SECRET).verify(got.body, headersOf(got))).not.toThrow();
    }
    expect(first!.headers['webhook-timestamp']).toBe(String(Math.floor(firstAttemptAt / 1000)));
    expect(Number(second!.headers['webhook-timestamp'])).toBeGreaterThan(Number(first!.headers['webhook-timestamp']));
    expect(second!.headers['webhook-signature']).not.toBe(first!.headers['webhook-signature']);
    expect(second!.body.equals(first!.body)).toBe(true);
  });
});
