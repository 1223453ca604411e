/**
 * Begini-shaped deliveries (deliveries.json, one per documented event type) and the verifier's
 * signature vectors: the same files the tests read, shipped with the simulator.
 */
import vectorFile from '../begini/signature-vectors.json';
import deliveryFile from './deliveries.json';

type Json = Record<string, unknown>;
const deliveries = deliveryFile as unknown as Record<string, Json>;

export const DEFAULT_INTEGRATION = '62137183e877704b06fab0f2';

export function fixtureTypes(): string[] {
  return Object.keys(deliveries).filter((k) => !k.startsWith('_'));
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
  const fixture = deliveries[type];
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
  const { vectors } = vectorFile as { vectors: Array<{ header: string | null; expect: { reason?: string } }> };
  return vectors.filter((v) => v.expect.reason === 'malformed_signature' && v.header).map((v) => v.header!);
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
