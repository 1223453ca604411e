/**
 * Begini webhook payloads, after ../shared/begini-webhooks.md.
 *
 * Lenient on purpose: Begini publishes no enumerations and several shapes are undocumented, so
 * unknown fields pass through, enums are open strings, and a known type whose details do not fit
 * is still delivered (marked malformed) rather than rejected. Only the envelope is strict, because
 * without it the event cannot be routed to a journey.
 */
import { z } from 'zod';

export const MAX_UID_LENGTH = 128;

// Control characters would corrupt workflow IDs, logs and the Web UI.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

export const envelopeSchema = z.object({
  uid: z
    .string()
    .min(1, 'must not be empty')
    .max(MAX_UID_LENGTH, `must be at most ${MAX_UID_LENGTH} characters`)
    .refine((uid) => !CONTROL_CHARS.test(uid), 'must not contain control characters'),
  integration_id: z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters'),
  event: z.looseObject({
    type: z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
    details: z.unknown().optional(),
    reasons: z.unknown().optional(),
  }),
});

const epochSeconds = z.number().int().nonnegative();
const reasons = z.array(z.unknown());

const trait = z.looseObject({
  key: z.string(),
  value: z.unknown().optional(),
  risk_band: z.string().optional(),
});

const scoreDetails = z.looseObject({
  application_started_at: epochSeconds.optional(),
  application_completed_at: epochSeconds.optional(),
  scored_at: epochSeconds,
  platform: z.string().optional(),
  calculated: z.looseObject({
    score: z.number().int(),
    risk_band: z.string(),
    score_confidence: z.string().optional(),
    traits: z.array(trait).optional(),
  }),
});

export const eventDetailSchemas = {
  'application.complete': z.looseObject({
    application_started_at: epochSeconds.optional(),
    application_completed_at: epochSeconds,
  }),
  'application.expired': z.looseObject({}),
  'application.incomplete': z.looseObject({ reasons: reasons.optional() }),
  'application.cancelled': z.looseObject({ reasons: reasons.optional() }),
  'psychometric_score.complete': scoreDetails,
  'android_score.complete': scoreDetails,
  'ios_score.complete': scoreDetails,
} as const;

export type KnownEventType = keyof typeof eventDetailSchemas;
export const KNOWN_EVENT_TYPES = Object.keys(eventDetailSchemas) as KnownEventType[];

export function isKnownEventType(type: string): type is KnownEventType {
  return Object.prototype.hasOwnProperty.call(eventDetailSchemas, type);
}

/** The facts decisioning needs from a score event, whatever its platform. */
export interface ScoreFacts {
  /** `psychometric`, `android`, `ios`: the event type without `_score.complete`. */
  kind: string;
  score: number;
  riskBand: string;
  scoreConfidence: string | null;
  scoredAt: number;
  platform: string | null;
  traits: Array<{ key: string; riskBand: string | null }>;
  permissionsGranted: string[];
  permissionsDenied: string[];
}

export interface ParsedEvent {
  type: string;
  recognised: boolean;
  malformed: boolean;
  /** Schema issues, as `path: message`, when malformed. */
  issues: string[];
  details: Record<string, unknown>;
  reasons: unknown[] | null;
  score: ScoreFacts | null;
  /** The event's own timestamps (`*_at`, epoch seconds), the basis of its semantic key. */
  timestamps: Record<string, number>;
}

export type ParseFailure = { ok: false; reason: 'invalid_json' | 'invalid_envelope'; message: string };
export type ParseSuccess = { ok: true; uid: string; integrationId: string; event: ParsedEvent };

/** Reads just enough of an unverified body to pick the keys that must verify it. */
export function peekIntegrationId(json: unknown): string | undefined {
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    const value = (json as Record<string, unknown>).integration_id;
    if (typeof value === 'string') return value;
  }
  return undefined;
}

export function parseDelivery(json: unknown): ParseFailure | ParseSuccess {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, reason: 'invalid_json', message: 'body must be a JSON object' };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    const issue = envelope.error.issues[0]!;
    const field = issue.path.length ? issue.path.join('.') : 'body';
    return { ok: false, reason: 'invalid_envelope', message: `${field}: ${issue.message}` };
  }
  const { uid, integration_id: integrationId, event } = envelope.data;
  return { ok: true, uid, integrationId, event: parseEvent(event.type, event.details, event.reasons) };
}

function parseEvent(type: string, rawDetails: unknown, outerReasons: unknown): ParsedEvent {
  const details = isPlainObject(rawDetails) ? rawDetails : {};
  const issues: string[] = [];
  if (rawDetails !== undefined && !isPlainObject(rawDetails)) issues.push('details: must be an object');

  let reasonsFound: unknown[] | null = null;
  for (const candidate of [outerReasons, details.reasons]) {
    if (candidate === undefined) continue;
    if (Array.isArray(candidate)) reasonsFound = [...(reasonsFound ?? []), ...candidate];
    else issues.push('reasons: must be an array');
  }

  const recognised = isKnownEventType(type);
  let score: ScoreFacts | null = null;
  if (recognised) {
    const result = eventDetailSchemas[type].safeParse(details);
    if (result.success) {
      if (type.endsWith('_score.complete')) score = scoreFacts(type, result.data as z.infer<typeof scoreDetails>);
    } else {
      for (const issue of result.error.issues) issues.push(`details.${issue.path.join('.')}: ${issue.message}`);
    }
  }

  return {
    type,
    recognised,
    malformed: recognised && issues.length > 0,
    issues: issues.slice(0, 20),
    details,
    reasons: reasonsFound,
    score,
    timestamps: eventTimestamps(details),
  };
}

function scoreFacts(type: string, details: z.infer<typeof scoreDetails>): ScoreFacts {
  const { calculated } = details;
  return {
    kind: type.slice(0, -'_score.complete'.length),
    score: calculated.score,
    riskBand: calculated.risk_band,
    scoreConfidence: calculated.score_confidence ?? null,
    scoredAt: details.scored_at,
    platform: details.platform ?? null,
    traits: (calculated.traits ?? []).map((t) => ({ key: t.key, riskBand: t.risk_band ?? null })),
    // Device permission field names are undocumented: accept any list whose name says granted/denied.
    permissionsGranted: stringListsNamed(/granted/i, details, calculated),
    permissionsDenied: stringListsNamed(/denied/i, details, calculated),
  };
}

function stringListsNamed(pattern: RegExp, ...sources: Record<string, unknown>[]): string[] {
  const found = new Set<string>();
  for (const source of sources) {
    for (const [key, value] of Object.entries(source)) {
      if (pattern.test(key) && Array.isArray(value)) {
        for (const item of value) if (typeof item === 'string') found.add(item);
      }
      // e.g. { permissions: { granted: [...], denied: [...] } }
      if (/permission/i.test(key) && isPlainObject(value)) {
        for (const item of stringListsNamed(pattern, value)) found.add(item);
      }
    }
  }
  return [...found];
}

function eventTimestamps(details: Record<string, unknown>): Record<string, number> {
  const timestamps: Record<string, number> = {};
  for (const key of Object.keys(details).sort()) {
    const value = details[key];
    if (key.endsWith('_at') && typeof value === 'number' && Number.isInteger(value)) timestamps[key] = value;
  }
  return timestamps;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
