import { createHmac, hkdfSync } from 'node:crypto';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON logs. Keys, signatures and bodies are redacted wherever they might be attached;
 * uids are never logged, only `uidRef`.
 */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * LOG_LEVEL is validated with the rest of the configuration (a bad one stops the process with
 * status 78); until then, and for a bad one, loggers log at info so the refusal itself is seen.
 */
function levelFromEnv(): LogLevel {
  const level = process.env.LOG_LEVEL;
  return (LOG_LEVELS as readonly string[]).includes(level ?? '') ? (level as LogLevel) : 'info';
}

export function createLogger(
  name: string,
  level: string = levelFromEnv(),
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: {
      paths: [
        'key',
        'secret',
        'apiKey',
        'signature',
        'body',
        'rawBody',
        'uid',
        '*.key',
        '*.secret',
        '*.apiKey',
        '*.uid',
      ],
      censor: '[redacted]',
    },
    // With tracing on (src/telemetry.ts), a line logged inside a span names it; off, there never is one.
    mixin: traceFields,
  };
  return destination ? pino(options, destination) : pino(options);
}

function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

/** One HMAC key per configured codec key, the first (the current one) first. */
let uidRefKeys: Buffer[] = [];

/**
 * Keys `uidRef` with a secret derived from the deployment's first payload codec key, which every
 * process that logs already holds: an unkeyed hash of a guessable uid (a loan number) is reversible
 * by trying them all. Rotating that codec key changes the refs from then on.
 */
export function keyUidRefs(codecKeys: ReadonlyArray<{ key: Buffer }>): void {
  uidRefKeys = codecKeys.map(({ key }) =>
    Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'begini-temporal/uid-ref/v1', 32)),
  );
}

/** A stable, non-reversible handle for a uid, so log lines about one applicant can be correlated. */
export function uidRef(uid: string): string {
  return refUnder(uidRefKeys[0], uid);
}

/**
 * The uid's ref under every configured codec key: what a row written before a codec key rotation
 * (an erasure tombstone) was keyed with, as long as that key is still configured.
 */
export function uidRefsUnderEveryKey(uid: string): string[] {
  if (uidRefKeys.length === 0) return [uidRef(uid)];
  return uidRefKeys.map((key) => refUnder(key, uid));
}

function refUnder(key: Buffer | undefined, uid: string): string {
  if (!key) throw new Error('uidRef needs a key: call keyUidRefs at start-up');
  return createHmac('sha256', key).update(uid).digest('hex').slice(0, 16);
}
