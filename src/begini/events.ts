/**
 * Begini webhook payloads, after ../shared/begini-webhooks.md.
 *
 * Lenient on purpose: Begini publishes no enumerations and several shapes are undocumented, so
 * unknown fields pass through, enums are open strings, and a known type whose details do not fit
 * is still delivered (marked malformed) rather than rejected. Only the envelope is strict, because
 * without it the event cannot be routed to a journey.
 */
import { z } from 'zod';
import { isScoreEvent, scoreKindOf, type BeginiEvent, type ScoreFacts } from '../../workflows/definitions';

export const MAX_UID_LENGTH = 128;
/** Begini's payloads nest about five deep; anything far deeper is not theirs and costs every parser. */
export const MAX_NESTING_DEPTH = 32;
/** Open-string enumerations (risk band, confidence, platform, trait key): real values are short. */
export const MAX_LABEL_LENGTH = 64;
export const MAX_TRAITS = 100;
/** Per list (granted, denied), each name at most MAX_LABEL_LENGTH characters. */
export const MAX_PERMISSIONS = 100;
const MAX_ISSUES = 10;
const MAX_ISSUE_LENGTH = 120;
/** Begini's clock and ours may differ a little; a score from further in the future is not real. */
const MAX_FUTURE_SECONDS = 86_400;
const MAX_TIMESTAMPS = 16;

// Control characters would corrupt workflow IDs, logs and the Web UI.
// eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Characters that render as nothing (or reorder what follows: U+202E) in a log line or the Web UI:
 * two uids differing only by them would be two journeys that look like one.
 */
export const INVISIBLE_CHARS = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/**
 * An identifier that reaches Temporal: bounded, printable, and well-formed Unicode (a lone
 * surrogate is replaced on the wire, so two different uids would collapse into one workflow ID),
 * with no invisible characters and in NFC. A non-NFC identifier is refused, never normalised: the
 * journey's ID would then differ from the uid Begini signed and keeps sending.
 */
const identifier = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL_CHARS.test(value), 'must not contain control characters')
    .refine((value) => value.isWellFormed(), 'must be well-formed Unicode')
    .refine((value) => !INVISIBLE_CHARS.test(value), 'must not contain invisible or format characters')
    .refine((value) => value === value.normalize('NFC'), 'must be in Unicode normalisation form NFC');

export const envelopeSchema = z.object({
  uid: identifier(MAX_UID_LENGTH),
  integration_id: identifier(128),
  event: z.looseObject({
    type: identifier(128),
    details: z.unknown().optional(),
    reasons: z.unknown().optional(),
  }),
});

const epochSeconds = z.number().int().nonnegative();
const reasons = z.array(z.unknown());
const label = z
  .string()
  .max(MAX_LABEL_LENGTH)
  .refine((value) => !CONTROL_CHARS.test(value), 'must not contain control characters');

const trait = z.looseObject({
  key: label,
  value: z.unknown().optional(),
  risk_band: label.optional(),
});

const scoreDetails = z.looseObject({
  application_started_at: epochSeconds.optional(),
  application_completed_at: epochSeconds.optional(),
  scored_at: epochSeconds,
  platform: label.optional(),
  calculated: z.looseObject({
    score: z.number().int(),
    risk_band: label,
    score_confidence: label.optional(),
    traits: z.array(trait).max(MAX_TRAITS).optional(),
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

/** The journey's event (BeginiEvent) plus what the receiver alone needs to key it. */
export interface ParsedEvent extends BeginiEvent {
  /** The event's own timestamps (`*_at`, epoch seconds), the basis of its semantic key. */
  timestamps: Record<string, number>;
  /** The newest of `timestamps`, or null. */
  eventTime: number | null;
}

export type ParseFailure = {
  ok: false;
  reason: 'invalid_json' | 'invalid_envelope' | 'nesting_too_deep';
  message: string;
};
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
  if (nestedDeeperThan(json, MAX_NESTING_DEPTH)) {
    return { ok: false, reason: 'nesting_too_deep', message: `body nests deeper than ${MAX_NESTING_DEPTH} levels` };
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
      if (isScoreEvent(type)) score = scoreFacts(type, result.data as z.infer<typeof scoreDetails>);
    } else {
      for (const issue of result.error.issues) issues.push(`details.${issue.path.join('.')}: ${issue.message}`);
    }
  }

  const timestamps = eventTimestamps(details);
  const times = Object.values(timestamps);
  // A timestamp from the future would make every later real re-score look stale.
  if (recognised && times.some((t) => t > Date.now() / 1000 + MAX_FUTURE_SECONDS)) {
    issues.push('details: a timestamp is more than a day in the future');
    score = null;
  }
  return {
    type,
    recognised,
    malformed: recognised && issues.length > 0,
    issues: issues.slice(0, MAX_ISSUES).map((issue) => issue.slice(0, MAX_ISSUE_LENGTH)),
    details,
    reasons: reasonsFound,
    score,
    timestamps,
    eventTime: times.length ? Math.max(...times) : null,
  };
}

function scoreFacts(type: string, details: z.infer<typeof scoreDetails>): ScoreFacts {
  const { calculated } = details;
  return {
    kind: scoreKindOf(type),
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

/** Bounded: at most one level of `permissions: { granted, denied }`, short names, a capped count. */
function stringListsNamed(pattern: RegExp, ...sources: Record<string, unknown>[]): string[] {
  const found = new Set<string>();
  const collect = (source: Record<string, unknown>, nested: boolean) => {
    for (const [key, value] of Object.entries(source)) {
      if (pattern.test(key) && Array.isArray(value)) {
        for (const item of value) {
          if (found.size >= MAX_PERMISSIONS) return;
          if (typeof item === 'string' && item.length <= MAX_LABEL_LENGTH && !CONTROL_CHARS.test(item)) found.add(item);
        }
      }
      // e.g. { permissions: { granted: [...], denied: [...] } }
      if (!nested && /permission/i.test(key) && isPlainObject(value)) collect(value, true);
    }
  };
  for (const source of sources) collect(source, false);
  return [...found];
}

function eventTimestamps(details: Record<string, unknown>): Record<string, number> {
  const timestamps: Record<string, number> = {};
  for (const key of Object.keys(details).sort()) {
    if (Object.keys(timestamps).length >= MAX_TIMESTAMPS) break;
    const value = details[key];
    if (
      key.endsWith('_at') &&
      key.length <= MAX_LABEL_LENGTH &&
      typeof value === 'number' &&
      Number.isSafeInteger(value)
    )
      timestamps[key] = value;
  }
  return timestamps;
}

/** Iterative, so a hostile depth cannot overflow the stack while it is being measured. */
function nestedDeeperThan(root: object, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (depth > limit) return true;
    if (value !== null && typeof value === 'object') {
      for (const child of Object.values(value))
        if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
