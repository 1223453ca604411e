/**
 * The journey's audit trail: who did what to it, when and why, kept in its own state so the trail
 * travels with the (encrypted) history and survives continue-as-new. Bounded, like everything else
 * the journey holds: an operator could otherwise grow it without limit.
 */
import type { AuditAction, AuditEntry, AuditVia, OperatorActor } from './definitions';
import { markdownText } from './markdown';

export const MAX_AUDIT_ENTRIES = 50;
const MAX_ACTOR_CHARS = 200;
const MAX_WHAT_CHARS = 120;
const MAX_WHY_CHARS = 500;
const MAX_REQUEST_ID_CHARS = 128;

export interface Audited {
  audit?: AuditEntry[];
  auditOmitted?: number;
}

export interface AuditStep {
  at: Date;
  action: AuditAction;
  what: string;
  why?: string | null;
}

/** Who acted on an operator update: the principal the API authenticated, else the Web UI or CLI caller. */
export interface ActingOperator {
  via: AuditVia;
  actor: string;
  role: AuditEntry['role'];
  requestId: string | null;
}

export function operatorOf(
  actor: OperatorActor | undefined,
  typedName: string | undefined,
  updateId: string | null,
): ActingOperator {
  if (actor) return { via: 'journey-api', actor: actor.name, role: actor.role, requestId: actor.requestId };
  return { via: 'temporal-ui', actor: typedName?.trim() || 'unnamed', role: null, requestId: updateId };
}

export const SYSTEM = {
  policy: { via: 'system', actor: 'policy', role: null, requestId: null },
  deadline: { via: 'system', actor: 'review_deadline', role: null, requestId: null },
  los: { via: 'system', actor: 'los', role: null, requestId: null },
} as const satisfies Record<string, ActingOperator>;

/**
 * Appends a step. Past the cap the oldest entry but the first (how the journey was decided) makes
 * room, and is counted; the receiver's audit log keeps every operator action in full.
 */
export function recordAudit(state: Audited, who: ActingOperator, step: AuditStep): AuditEntry {
  const entry: AuditEntry = {
    at: step.at.toISOString(),
    action: step.action,
    via: who.via,
    actor: clip(who.actor, MAX_ACTOR_CHARS),
    role: who.role,
    requestId: who.requestId === null ? null : clip(who.requestId, MAX_REQUEST_ID_CHARS),
    what: clip(step.what, MAX_WHAT_CHARS),
    why: step.why == null ? null : clip(step.why, MAX_WHY_CHARS),
  };
  const trail = (state.audit ??= []);
  if (trail.length >= MAX_AUDIT_ENTRIES) {
    trail.splice(1, 1);
    state.auditOmitted = (state.auditOmitted ?? 0) + 1;
  }
  trail.push(entry);
  return entry;
}

/** The latest steps, one line each, for the Web UI's current details. */
export function auditLines(state: Audited, last = 5): string[] {
  const trail = state.audit ?? [];
  return trail
    .slice(-last)
    .map(
      (e) =>
        `${e.at} ${e.action} by ${markdownText(e.actor)}${e.role ? ` (${e.role})` : ''} via ${e.via}: ${markdownText(e.what)}${e.why ? ` (${markdownText(e.why)})` : ''}`,
    );
}

/** Line breaks and invisible characters would let a note forge lines in what operators read. */
const CONTROL = /[\p{Cc}\p{Cf}]/gu;

function clip(value: string, max: number): string {
  const text = value.replace(CONTROL, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
