/**
 * Begini-shaped deliveries from test/fixtures/deliveries.json and signature cases from
 * test/vectors/signatures.json: the same files the tests read.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const TEST_DIR = resolve(__dirname, '..', '..', 'test');

type Json = Record<string, unknown>;
let deliveries: Record<string, Json> | undefined;

export const DEFAULT_INTEGRATION = '62137183e877704b06fab0f2';

export function fixtureTypes(): string[] {
  return Object.keys(loadDeliveries()).filter((k) => !k.startsWith('_'));
}

export interface FixtureOptions {
  integrationId?: string;
  /** Epoch seconds the `{{now}}` placeholders count from. */
  now?: number;
  /** Deep-merged over the fixture's `event.details`. */
  details?: Json;
}

/** A delivery of `type` for `uid`, placeholders filled in. */
export function delivery(type: string, uid: string, options: FixtureOptions = {}): Json {
  const fixture = loadDeliveries()[type];
  if (!fixture) throw new Error(`no fixture for event type ${type}`);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const filled = JSON.parse(JSON.stringify(fixture), (_key, value: unknown) => {
    if (typeof value !== 'string') return value;
    if (value === '{{uid}}') return uid;
    if (value === '{{integration_id}}') return options.integrationId ?? DEFAULT_INTEGRATION;
    const time = /^\{\{now(?:-(\d+))?\}\}$/.exec(value);
    return time ? now - Number(time[1] ?? 0) : value;
  }) as { event: { details: Json } };
  if (options.details) filled.event.details = merge(filled.event.details, options.details);
  return filled as unknown as Json;
}

/** `X-Signature` values the vectors say are malformed whatever the body. */
export function malformedSignatures(): string[] {
  const { vectors } = JSON.parse(readFileSync(resolve(TEST_DIR, 'vectors/signatures.json'), 'utf8')) as {
    vectors: Array<{ header: string | null; expect: { reason?: string } }>;
  };
  return vectors.filter((v) => v.expect.reason === 'malformed_signature' && v.header).map((v) => v.header!);
}

function loadDeliveries(): Record<string, Json> {
  deliveries ??= JSON.parse(readFileSync(resolve(TEST_DIR, 'fixtures/deliveries.json'), 'utf8')) as Record<string, Json>;
  return deliveries;
}

function merge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isObject(value) && isObject(current) ? merge(current, value) : value;
  }
  return out;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
