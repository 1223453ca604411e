/** Sends a delivery as Begini does: the exact bytes, HMAC-SHA512 hex in X-Signature, and a retry
 * with backoff on anything but 200. */
import { sign } from '../begini/verifier';

export type Signing = 'valid' | 'missing' | 'malformed' | 'other-key' | 'wrong-environment';

export interface SendOptions {
  /** A function picks the URL per attempt, as a load balancer in front of several receivers would. */
  url: string | (() => string);
  key: string;
  /** The key of the other environment (a Test key sent to Production, or the reverse). */
  otherEnvironmentKey: string;
  malformedSignature: string;
  retries: number;
  backoffMs: number;
  /** Cap on the doubling backoff. */
  maxBackoffMs?: number;
}

export interface SendResult {
  /** The last answer (0: no answer at all). */
  status: number;
  body: string;
  attempts: number;
  /** Every answer, in order, retries included. */
  statuses: number[];
  ms: number;
}

export async function send(raw: string, signing: Signing, options: SendOptions): Promise<SendResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const signature = signatureFor(raw, signing, options);
  if (signature !== null) headers['x-signature'] = signature;
  const started = Date.now();
  let attempts = 0;
  const statuses: number[] = [];
  let last: { status: number; body: string } = { status: 0, body: '' };
  while (attempts <= options.retries) {
    attempts++;
    try {
      const url = typeof options.url === 'string' ? options.url : options.url();
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: raw,
        signal: AbortSignal.timeout(10_000),
      });
      last = { status: response.status, body: await response.text() };
    } catch (err) {
      last = { status: 0, body: (err as Error).message };
    }
    statuses.push(last.status);
    if (last.status === 200) break;
    if (attempts <= options.retries) {
      await new Promise((r) =>
        setTimeout(r, Math.min(options.backoffMs * 2 ** (attempts - 1), options.maxBackoffMs ?? 5_000)),
      );
    }
  }
  return { ...last, attempts, statuses, ms: Date.now() - started };
}

function signatureFor(raw: string, signing: Signing, options: SendOptions): string | null {
  switch (signing) {
    case 'valid':
      return sign(raw, options.key);
    case 'missing':
      return null;
    case 'malformed':
      return options.malformedSignature;
    case 'other-key':
      return sign(raw, `not-${options.key}`);
    case 'wrong-environment':
      return sign(raw, options.otherEnvironmentKey);
  }
}
