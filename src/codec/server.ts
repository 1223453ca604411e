/**
 * The remote codec endpoint the Temporal Web UI and CLI use to show decrypted payloads to
 * operators: POST {endpoint}/decode and /encode with `{ payloads: [{ metadata, data }] }` (base64).
 *
 * A decryption oracle, so it is never open: every call carries the token, either as
 * `Authorization: Bearer <token>` (CLI: `--codec-auth`) or as a path segment,
 * `/codec/<token>/decode` (for a Web UI that cannot send headers). CORS admits only the
 * configured UI origins. It listens on its own port, never on the internet-facing receiver.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import express, { type ErrorRequestHandler, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { listenOrExplain } from '../failures';
import type { Logger } from '../logger';
import { PayloadDecryptionError } from './aesGcm';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const body = z.object({
  // protojson (the Go clients) omits an empty list entirely.
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }))
    .max(1_000)
    .default([]),
});

export interface CodecServerOptions {
  /**
   * Normally `new AesGcmCodec(keys, { acceptPlaintext: true })`: this endpoint only displays what
   * history already holds, so showing a plaintext payload grants nothing, unlike a worker's decode.
   */
  codec: PayloadCodec;
  token: string;
  corsOrigins: readonly string[];
  logger: Logger;
}

export function createCodecApp({ codec, token, corsOrigins, logger }: CodecServerOptions) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const expected = digest(token);
  const allowed = (presented: string | undefined) =>
    presented !== undefined && timingSafeEqual(digest(presented), expected);

  app.use((req, res, next) => {
    const origin = req.headers.origin;
    if (origin && corsOrigins.includes(origin)) {
      res.set({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-allow-headers': 'authorization, content-type, x-namespace',
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-max-age': '600',
        vary: 'Origin',
      });
    }
    if (req.method === 'OPTIONS') return res.status(origin && corsOrigins.includes(origin) ? 204 : 403).end();
    next();
  });

  const handle = (operation: 'encode' | 'decode') => async (req: Request, res: Response, next: NextFunction) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = typeof req.params.token === 'string' ? req.params.token : bearer;
    if (!allowed(token)) {
      res
        .status(401)
        .json({ detail: 'Unauthorized', reason: 'unauthorized', message: 'a valid codec token is required' });
      return;
    }
    const parsed = body.safeParse(req.body);
    if (!parsed.success) {
      res
        .status(400)
        .json({ detail: 'Bad Request', reason: 'invalid_payloads', message: parsed.error.issues[0]!.message });
      return;
    }
    try {
      const payloads = parsed.data.payloads.map(fromJson);
      const result = operation === 'decode' ? await codec.decode(payloads) : await codec.encode(payloads);
      res.json({ payloads: result.map(toJson) });
    } catch (err) {
      if (err instanceof PayloadDecryptionError) {
        res.status(400).json({ detail: 'Bad Request', reason: err.reason, message: err.message });
        return;
      }
      next(err);
    }
  };

  // The Go SDK's codec client (the Temporal CLI) sends JSON without a JSON content type.
  const json = express.json({ limit: '4mb', type: () => true });
  for (const operation of ['encode', 'decode'] as const) {
    app.post(`/codec/${operation}`, json, handle(operation));
    app.post(`/codec/:token/${operation}`, json, handle(operation));
  }
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use((_req, res) => {
    res.status(404).json({ detail: 'Not Found', reason: 'not_found', message: 'no such endpoint' });
  });
  const errors: ErrorRequestHandler = (err, _req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status < 500 ? err.status : 500;
    if (status === 500) logger.error({ err: { name: err?.name, message: err?.message } }, 'codec endpoint error');
    res.status(status).json({
      detail: status === 500 ? 'Internal Server Error' : 'Bad Request',
      reason: status === 500 ? 'internal_error' : 'invalid_request',
      message: 'the payloads could not be processed',
    });
  };
  app.use(errors);
  return app;
}

export async function startCodecServer(
  options: CodecServerOptions & { host: string; port: number },
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(createCodecApp(options));
  await listenOrExplain(server, options.port, options.host, 'CODEC_PORT');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function fromJson(p: { metadata?: Record<string, string>; data?: string }): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}
