import { createHash } from 'node:crypto';
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

/** A stable, non-reversible handle for a uid, so log lines about one applicant can be correlated. */
export function uidRef(uid: string): string {
  return createHash('sha256').update(`begini-uid:${uid}`).digest('hex').slice(0, 16);
}
