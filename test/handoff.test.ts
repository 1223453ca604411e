/** The LOS hand-off against real HTTP servers on loopback (pure unit tier: no Temporal needed). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { handOff, type HandoffRequest, type HandoffTarget } from '../activities/handoff';
import { verifySignature } from '../src/begini/verifier';
import { createLogger, keyUidRefs } from '../src/logger';
import { HANDOFF_REJECTED } from '../workflows/definitions';

keyUidRefs([{ key: Buffer.alloc(32, 1) }]);

const SECRET = 'the-los-shared-secret';
const logger = createLogger('test', 'silent');

const request: HandoffRequest = {
  kind: 'decision',
  uid: 'applicant-1',
  idempotencySource: 'journey-1/decision-1',
  payload: { decision: { outcome: 'approve', reasons: [] } },
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

function target(url: string, timeoutMs = 10_000): HandoffTarget {
  return { url, secret: SECRET, timeoutMs };
}

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
    const los = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    const result = await handOff(target(los.url), request, logger);

    expect(result).toEqual({ delivered: true, status: 200, idempotencyKey: expect.stringMatching(/^[0-9a-f]{40}$/) });
    expect(los.received).toHaveLength(1);
    const [got] = los.received;
    expect(got!.method).toBe('POST');
    expect(got!.headers['idempotency-key']).toBe(result.idempotencyKey);
    expect(verifySignature(got!.body, got!.headers['x-signature'], [{ id: 'los', secret: SECRET }])).toEqual({ ok: true, keyId: 'los' });
    expect(JSON.parse(got!.body.toString('utf8'))).toMatchObject({ kind: 'decision', uid: request.uid, idempotencyKey: result.idempotencyKey });
  });

  test('422: a non-retryable HandoffRejected', async () => {
    const los = await serve((_req, res) => res.writeHead(422).end('{"error":"bad decision"}'));
    const failure = await failureOf(handOff(target(los.url), request, logger));
    expect(failure.type).toBe(HANDOFF_REJECTED);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ status: 422 }]);
  });

  test('503: retryable', async () => {
    const los = await serve((_req, res) => res.writeHead(503).end('down for maintenance'));
    const failure = await failureOf(handOff(target(los.url), request, logger));
    expect(failure.type).toBe('HandoffFailed');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.details).toEqual([{ status: 503 }]);
  });

  test.each([302, 303, 307, 308])('%i: not followed; the Location server hears nothing; a retryable HandoffRedirected', async (status) => {
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
    expect(failure.type).toBe('HandoffRedirected');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.details).toEqual([{ status }]);
    expect(failure.message).toContain(`HTTP ${status}`);
    const warned = lines.map((line) => JSON.parse(line) as { level: number; status?: number });
    expect(warned).toEqual([expect.objectContaining({ level: 40, status })]);
    expect(lines.join('')).not.toContain(elsewhere.url.split('/los/')[0]!);
  });

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
      Promise.race([socketClosed, new Promise((_resolve, reject) => setTimeout(() => reject(new Error('socket still open')), 5_000).unref())]),
    ).resolves.toBeUndefined();
  }, 30_000);
});
