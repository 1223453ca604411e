/** Begini-shaped deliveries from the simulator's fixtures, signed and sent over real HTTP. */
import { randomUUID } from 'node:crypto';
import { sign } from '../../src/begini/verifier';
import type { JourneySettings, ScoreFacts } from '../../workflows/definitions';

export { delivery, DEFAULT_INTEGRATION as TEST_INTEGRATION } from '../../src/simulator/fixtures';

export const TEST_KEY = 'test-begini-api-key-0f3c9a7e5d1b';

/** Fixed, test-only payload keys: recorded (encrypted) histories must stay decodable for replay. */
export const TEST_CODEC_KEYS = `test-2026-11:${Buffer.alloc(32, 7).toString('base64')}`;

/** A psychometric score as the receiver parses one, with `overrides`. */
export function scoreFacts(overrides: Partial<ScoreFacts> = {}): ScoreFacts {
  return {
    kind: 'psychometric',
    score: 42,
    riskBand: 'B',
    scoreConfidence: 'HIGH',
    scoredAt: 1,
    platform: 'WEB',
    traits: [],
    permissionsGranted: [],
    permissionsDenied: [],
    ...overrides,
  };
}

/** Journey settings for the pure reducer's tests: one required score, short timers. */
export const TEST_JOURNEY_SETTINGS: JourneySettings = {
  requiredScores: ['psychometric'],
  scoreGraceMs: 60_000,
  expiryMs: 3_600_000,
  settleMs: 1_000,
  handoffRetryInitialMs: 1,
};

export function newUid(prefix = 'APP'): string {
  return `${prefix}-${randomUUID()}`;
}

export interface PostOptions {
  key?: string;
  signature?: string | null;
  headers?: Record<string, string>;
  method?: string;
  /** Aborts the request: for a test that must not wait on an answer that never comes. */
  signal?: AbortSignal;
}

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function post(
  url: string,
  body: string | Uint8Array | Record<string, unknown>,
  options: PostOptions = {},
): Promise<PostResult> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const signature = options.signature === undefined ? sign(raw, options.key ?? TEST_KEY) : options.signature;
  if (signature !== null) headers['x-signature'] = signature;
  const response = await fetch(url, {
    method: options.method ?? 'POST',
    headers,
    body: options.method === 'GET' ? undefined : raw,
    signal: options.signal,
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
