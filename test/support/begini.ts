/** Begini-shaped deliveries from test/fixtures/deliveries.json, signed and sent over real HTTP. */
import { randomUUID } from 'node:crypto';
import fixtures from '../fixtures/deliveries.json';
import { sign } from '../../src/begini/verifier';

export const TEST_KEY = 'test-begini-api-key-0f3c9a7e5d1b';
export const TEST_INTEGRATION = '62137183e877704b06fab0f2';

export type FixtureType = Exclude<keyof typeof fixtures, '_comment'>;

export function newUid(prefix = 'APP'): string {
  return `${prefix}-${randomUUID()}`;
}

export interface FixtureOptions {
  integrationId?: string;
  /** Epoch seconds the `{{now}}` placeholders count from. */
  now?: number;
  /** Deep-merged over the fixture's `event.details`. */
  details?: Record<string, unknown>;
}

export function delivery(type: FixtureType, uid: string, options: FixtureOptions = {}): Record<string, unknown> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const filled = JSON.parse(JSON.stringify(fixtures[type]), (_key, value: unknown) => {
    if (typeof value !== 'string') return value;
    if (value === '{{uid}}') return uid;
    if (value === '{{integration_id}}') return options.integrationId ?? TEST_INTEGRATION;
    const time = /^\{\{now(?:-(\d+))?\}\}$/.exec(value);
    return time ? now - Number(time[1] ?? 0) : value;
  }) as { event: { details: Record<string, unknown> } };
  if (options.details) filled.event.details = merge(filled.event.details, options.details);
  return filled as unknown as Record<string, unknown>;
}

export interface PostOptions {
  key?: string;
  signature?: string | null;
  headers?: Record<string, string>;
  method?: string;
}

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export async function post(url: string, body: string | Uint8Array | Record<string, unknown>, options: PostOptions = {}): Promise<PostResult> {
  const raw = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const signature = options.signature === undefined ? sign(raw, options.key ?? TEST_KEY) : options.signature;
  if (signature !== null) headers['x-signature'] = signature;
  const response = await fetch(url, { method: options.method ?? 'POST', headers, body: options.method === 'GET' ? undefined : raw });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && current && typeof current === 'object' && !Array.isArray(current)
        ? merge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
