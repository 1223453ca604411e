import { createHmac, hkdfSync } from 'node:crypto';
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Structured JSON logs. Keys, signatures and bodies are redacted wherever they might be attached;
 * uids are never logged, only `uidRef`.
 */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    redact: {
      paths: ['key', 'secret', 'apiKey', 'signature', 'body', 'rawBody', 'uid', '*.key', '*.secret', '*.apiKey', '*.uid'],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

let uidRefKey: Buffer | undefined;

/**
 * Keys `uidRef` with a secret derived from the deployment's first payload codec key, which every
 * process that logs already holds: an unkeyed hash of a guessable uid (a loan number) is reversible
 * by trying them all. Rotating that codec key changes the refs from then on.
 */
export function keyUidRefs(codecKeys: ReadonlyArray<{ key: Buffer }>): void {
  uidRefKey = Buffer.from(hkdfSync('sha256', codecKeys[0]!.key, Buffer.alloc(0), 'begini-temporal/uid-ref/v1', 32));
}

/** A stable, non-reversible handle for a uid, so log lines about one applicant can be correlated. */
export function uidRef(uid: string): string {
  if (!uidRefKey) throw new Error('uidRef needs a key: call keyUidRefs at start-up');
  return createHmac('sha256', uidRefKey).update(uid).digest('hex').slice(0, 16);
}
