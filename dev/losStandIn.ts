/** A real HTTP server standing in for the loan origination system, for the tests and the benchmark. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../src/begini/verifier';

export const LOS_SECRET = 'los-outbound-secret-for-tests-7d2e';

export interface LosRequest {
  idempotencyKey: string;
  signatureValid: boolean;
  /** The body as sent, byte for byte: what one Idempotency-Key must carry on every attempt. */
  raw: string;
  body: { kind: string; uid: string; decision?: { outcome: string; reasons: string[] }; [key: string]: unknown };
  answered: number;
  /** The W3C trace context the worker sent (tracing on), or null. */
  traceparent: string | null;
}

export interface Los {
  url: string;
  requests: LosRequest[];
  /** Chooses the status for each request; 200 by default. */
  respond: (request: LosRequest, attemptForKey: number) => number;
  /** Delay before answering, to keep hand-offs in flight. */
  delayMs: number;
  forUid(uid: string, kind?: string): LosRequest[];
  /** Stops listening (callers get connection refused) until `up()`, on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Successful hand-offs, one per Idempotency-Key. */
  acceptedFor(uid: string, kind?: string): LosRequest[];
  close(): Promise<void>;
}

export async function startLos(): Promise<Los> {
  const attempts = new Map<string, number>();
  const los: Los = {
    url: '',
    requests: [],
    respond: () => 200,
    delayMs: 0,
    down: async () => undefined,
    up: async () => undefined,
    forUid: (uid, kind) => los.requests.filter((r) => r.body.uid === uid && (!kind || r.body.kind === kind)),
    acceptedFor(uid, kind) {
      const byKey = new Map<string, LosRequest>();
      for (const r of los.forUid(uid, kind)) if (r.answered === 200) byKey.set(r.idempotencyKey, r);
      return [...byKey.values()];
    },
    close: async () => undefined,
  };
  const pending = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const idempotencyKey = String(req.headers['idempotency-key'] ?? '');
      const request: LosRequest = {
        idempotencyKey,
        signatureValid: verifySignature(raw, req.headers['x-signature'], [{ id: 'los', secret: LOS_SECRET }]).ok,
        raw: raw.toString('utf8'),
        body: JSON.parse(raw.toString('utf8')) as LosRequest['body'],
        answered: 0,
        traceparent: typeof req.headers.traceparent === 'string' ? req.headers.traceparent : null,
      };
      const attempt = (attempts.get(idempotencyKey) ?? 0) + 1;
      attempts.set(idempotencyKey, attempt);
      request.answered = los.respond(request, attempt);
      los.requests.push(request);
      const answer = setTimeout(() => {
        pending.delete(answer);
        res.writeHead(request.answered, { 'content-type': 'application/json' }).end('{}');
      }, los.delayMs);
      pending.add(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  los.url = `http://127.0.0.1:${port}/decisions`;
  los.close = () =>
    new Promise<void>((resolve) => {
      // Delayed answers would keep the process (and a test runner) alive after the stand-in is gone.
      for (const answer of pending) clearTimeout(answer);
      pending.clear();
      server.closeAllConnections();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  los.down = los.close;
  los.up = () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return los;
}
