/**
 * The applicant journey as plain data and pure functions, so it can be reasoned about and tested
 * without Temporal. The workflow owns time and side effects; this module owns what events mean.
 */
import type { Audited } from './audit';
import {
  isScoreEvent,
  isTooOld,
  OPERATOR_ROLES,
  type ApplicationStatus,
  type BeginiDelivery,
  type Decision,
  type DecisionTrigger,
  type EventRecord,
  type Flag,
  type HandoffState,
  type JourneyCounts,
  type JourneyInput,
  type JourneySettings,
  type JourneyView,
  type PolicyExperiment,
  type ReviewState,
  type ScoreFacts,
  type Stage,
} from './definitions';

/** Where the workflow is in its own process; the operator-facing `Stage` is derived from it. */
export type Phase = 'waiting' | 'deciding' | 'in_review' | 'delivering' | 'settled' | 'closed';

/** What the LOS is told of a late score: the headline facts, so twenty notices stay small. */
export type NoticeScore = Pick<ScoreFacts, 'kind' | 'score' | 'riskBand' | 'scoreConfidence' | 'scoredAt'>;

export interface LateNotice {
  id: string;
  eventType: string;
  receivedAt: string;
  rescore: boolean;
  score: NoticeScore | null;
}

export interface JourneyState extends Audited {
  uid: string;
  integrationId: string;
  environment: string;
  settings: JourneySettings;
  startedAt: string;
  expiresAt: string;
  phase: Phase;
  application: ApplicationStatus;
  scores: Record<string, ScoreFacts>;
  firstRequiredScoreAt: string | null;
  malformedScore: boolean;
  trigger: DecisionTrigger | null;
  decision: Decision | null;
  /** The champion/challenger assignment of the policy decision; absent when no challenger ran. */
  experiment?: PolicyExperiment;
  /** How many decisions the LOS has answered for good (accepted or refused); part of each hand-off's idempotency key. */
  decisionsDelivered: number;
  /** Times a delivered decision was reopened (workflows/reopen.ts); absent until the first. */
  reopens?: number;
  /**
   * Prefixes every hand-off's idempotency source, so journeys of two deployments with the same uid
   * never share an Idempotency-Key at the LOS. Absent in journeys started before it existed, which
   * keep their keys.
   */
  idempotencyScope?: string;
  review: ReviewState | null;
  handoff: HandoffState;
  /** An operator asked a failing hand-off to retry without waiting out its pause. */
  retryHandoffNow?: boolean;
  settleUntil: string | null;
  events: EventRecord[];
  eventsOmitted: number;
  counts: JourneyCounts;
  flags: Flag[];
  lastEventType: string | null;
  pendingNotices: LateNotice[];
  noticesSent: number;
  seen: { fingerprints: string[]; semanticKeys: string[] };
}

/** Bounds that keep a journey's state, and so its history, small under a flood. */
export const MAX_EVENTS_RECORDED = 100;
export const MAX_KEYS_REMEMBERED = 500;
/** Late-event notices waiting for the LOS; beyond this the oldest are dropped (and counted). */
export const MAX_PENDING_NOTICES = 20;
const FINGERPRINT_PREFIX = 12;

export function startJourney(input: JourneyInput, now: Date, phase: Phase = 'waiting'): JourneyState {
  return {
    uid: input.uid,
    integrationId: input.integrationId,
    environment: input.environment,
    settings: input.settings,
    startedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + input.settings.expiryMs).toISOString(),
    phase,
    application: 'pending',
    scores: {},
    firstRequiredScoreAt: null,
    malformedScore: false,
    trigger: null,
    decision: null,
    decisionsDelivered: 0,
    idempotencyScope: `${input.integrationId}:${input.environment}:${input.uid}`,
    review: null,
    handoff: { status: 'not_started', failedRounds: 0, lastError: null },
    settleUntil: null,
    events: [],
    eventsOmitted: 0,
    counts: { deliveries: 0, duplicates: 0, late: 0, rescores: 0, quarantined: 0, noticesDropped: 0 },
    flags: phase === 'closed' ? ['after_close'] : [],
    lastEventType: null,
    pendingNotices: [],
    noticesSent: 0,
    seen: { fingerprints: [], semanticKeys: [] },
    audit: [],
  };
}

/** Applies one delivery. Mutates `state` in place (workflow state is a single owned object). */
export function applyDelivery(state: JourneyState, delivery: BeginiDelivery, now: Date): EventRecord {
  state.counts.deliveries++;
  const quarantined = quarantineReason(state, delivery, now);
  if (quarantined) {
    // Not remembered for dedupe either: a foreign or replayed copy must not mask the real event.
    state.counts.quarantined = (state.counts.quarantined ?? 0) + 1;
    addFlag(state, quarantined === 'foreign' ? 'foreign_delivery' : 'event_too_old');
    const record = eventRecord(delivery, false, false);
    record.quarantined = quarantined;
    recordEvent(state, record);
    return record;
  }
  const duplicate =
    state.seen.fingerprints.includes(delivery.fingerprint) || state.seen.semanticKeys.includes(delivery.semanticKey);
  const decidedAlready = state.phase !== 'waiting';
  const record = eventRecord(delivery, duplicate, decidedAlready && !duplicate);

  if (duplicate) {
    state.counts.duplicates++;
    recordEvent(state, record);
    return record;
  }
  remember(state.seen.fingerprints, delivery.fingerprint);
  remember(state.seen.semanticKeys, delivery.semanticKey);
  state.lastEventType = delivery.type;
  if (record.late) {
    state.counts.late++;
    addFlag(state, 'late_event');
  }
  if (delivery.malformed) addFlag(state, 'malformed_event');
  if (!delivery.recognised) addFlag(state, 'unrecognised_event');

  if (delivery.score) applyScore(state, delivery.score, record, now);
  else if (delivery.malformed && isScoreEvent(delivery.type)) {
    if (!decidedAlready) state.malformedScore = true;
  } else applyApplicationEvent(state, delivery.type);

  if (record.late && isScoreEvent(delivery.type) && !record.stale && state.phase !== 'closed') {
    if (state.pendingNotices.length >= MAX_PENDING_NOTICES) {
      state.pendingNotices.shift();
      state.counts.noticesDropped = (state.counts.noticesDropped ?? 0) + 1;
    }
    state.pendingNotices.push({
      id: delivery.fingerprint,
      eventType: delivery.type,
      receivedAt: delivery.receivedAt,
      rescore: record.rescore,
      score: delivery.score && {
        kind: delivery.score.kind,
        score: delivery.score.score,
        riskBand: delivery.score.riskBand,
        scoreConfidence: delivery.score.scoreConfidence,
        scoredAt: delivery.score.scoredAt,
      },
    });
  }
  recordEvent(state, record);
  return record;
}

/**
 * The verified key decides which journeys a delivery may reach (each deployment has its own
 * namespace), so a delivery of another integration, or one signed for another uid, means a
 * configuration changed or someone signalled Temporal directly: keep it on record, never act on it.
 */
function quarantineReason(state: JourneyState, delivery: BeginiDelivery, now: Date): EventRecord['quarantined'] | null {
  const otherUid = delivery.uid !== undefined && delivery.uid !== state.uid;
  if (otherUid || delivery.integrationId !== state.integrationId || delivery.environment !== state.environment)
    return 'foreign';
  if (isTooOld(delivery.eventTime, now, state.settings.maxEventAgeMs)) return 'too_old';
  return null;
}

function eventRecord(delivery: BeginiDelivery, duplicate: boolean, late: boolean): EventRecord {
  return {
    type: delivery.type,
    receivedAt: delivery.receivedAt,
    fingerprint: delivery.fingerprint.slice(0, FINGERPRINT_PREFIX),
    keyId: delivery.keyId,
    duplicate,
    late,
    rescore: false,
    stale: false,
    malformed: delivery.malformed,
    recognised: delivery.recognised,
    ...(delivery.issues.length ? { issues: delivery.issues } : {}),
  };
}

function applyScore(state: JourneyState, score: ScoreFacts, record: EventRecord, now: Date): void {
  const held = state.scores[score.kind];
  if (held) {
    if (score.scoredAt <= held.scoredAt) {
      record.stale = true;
      return;
    }
    record.rescore = true;
    state.counts.rescores++;
    addFlag(state, state.decision ? 'rescored_after_decision' : 'rescored');
  }
  // After a decision, scores are recorded and notified, never silently re-decided.
  if (state.phase !== 'waiting') return;
  state.scores[score.kind] = score;
  if (state.firstRequiredScoreAt === null && state.settings.requiredScores.includes(score.kind)) {
    state.firstRequiredScoreAt = now.toISOString();
  }
}

function applyApplicationEvent(state: JourneyState, type: string): void {
  if (state.phase !== 'waiting') return;
  switch (type) {
    case 'application.complete':
      // Completion wins over expiry whichever arrives first: a re-opened session can complete.
      if (state.application === 'pending' || state.application === 'expired') state.application = 'complete';
      break;
    case 'application.expired':
      addFlag(state, 'expired_seen');
      if (state.application === 'pending') state.application = 'expired';
      break;
    case 'application.incomplete':
      if (state.application !== 'cancelled') state.application = 'incomplete';
      break;
    case 'application.cancelled':
      state.application = 'cancelled';
      break;
  }
}

/** Whether the journey should stop waiting now, and why. */
export function decisionTrigger(state: JourneyState, now: Date): DecisionTrigger | null {
  if (state.phase !== 'waiting') return null;
  if (state.application === 'cancelled') return 'cancelled';
  if (state.application === 'incomplete') return 'incomplete';
  if (state.malformedScore) return 'malformed_score';
  const { requiredScores } = state.settings;
  const held = requiredScores.filter((kind) => state.scores[kind]);
  if (held.length === requiredScores.length) return 'scores_complete';
  const graceEnds = graceDeadline(state);
  if (graceEnds !== null && now.getTime() >= graceEnds) return 'grace_elapsed';
  if (now.getTime() >= Date.parse(state.expiresAt)) {
    return held.length === 0 ? 'expired_no_score' : 'expired_partial_scores';
  }
  return null;
}

/** The next instant at which `decisionTrigger` could change without a new event. */
export function nextWaitDeadline(state: JourneyState): number {
  const expiry = Date.parse(state.expiresAt);
  const grace = graceDeadline(state);
  return grace === null ? expiry : Math.min(expiry, grace);
}

function graceDeadline(state: JourneyState): number | null {
  return state.firstRequiredScoreAt === null
    ? null
    : Date.parse(state.firstRequiredScoreAt) + state.settings.scoreGraceMs;
}

export function stageOf(state: JourneyState): Stage {
  switch (state.phase) {
    case 'closed':
      return 'closed';
    case 'settled':
      if (state.trigger === 'cancelled') return 'cancelled';
      if (state.trigger === 'incomplete') return 'incomplete';
      if (state.trigger === 'expired_no_score') return 'expired';
      return 'decided';
    case 'in_review':
      return 'in_review';
    case 'deciding':
    case 'delivering':
      return 'deciding';
    case 'waiting':
      if (Object.keys(state.scores).length > 0 || state.application === 'complete') return 'awaiting_scores';
      if (state.application === 'expired') return 'expired';
      return 'awaiting_application';
  }
}

export function viewOf(state: JourneyState): JourneyView {
  return {
    stage: stageOf(state),
    decision: state.decision,
    scores: state.scores,
    events: state.events,
    review: state.review,
    flags: state.flags,
    application: state.application,
    trigger: state.trigger,
    handoff: state.handoff,
    counts: { ...state.counts, eventsOmitted: state.eventsOmitted, noticesSent: state.noticesSent },
    integrationId: state.integrationId,
    environment: state.environment,
    startedAt: state.startedAt,
    expiresAt: state.expiresAt,
    settleUntil: state.settleUntil,
    ...(state.experiment && { experiment: state.experiment }),
    audit: state.audit ?? [],
    auditOmitted: state.auditOmitted ?? 0,
  };
}

/** What is wrong with an update's `actor`, for a role that must be one of `allowed`; null when nothing is. */
const MAX_OPERATOR_REASON_CHARS = 1_000;

/**
 * What is wrong with an operator's request that must say why (redrive, reopen): its `reason`, and
 * who sends it, an authenticated `actor` in one of `roles` or an `operator` name typed in the Web UI.
 */
export function operatorRequestProblem(request: Record<string, unknown>, roles: readonly string[]): string | null {
  const { reason, operator, actor } = request;
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_OPERATOR_REASON_CHARS)
    return `reason must be a non-empty string of at most ${MAX_OPERATOR_REASON_CHARS} characters`;
  if (actor !== undefined) {
    const problem = actorProblem(actor, roles);
    if (problem) return problem;
  }
  if (operator !== undefined && (typeof operator !== 'string' || operator.length > 200))
    return 'operator must be a string of at most 200 characters';
  return null;
}

export function actorProblem(actor: unknown, allowed: readonly string[]): string | null {
  if (!actor || typeof actor !== 'object') return 'actor must be an object';
  const { name, role, requestId } = actor as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200)
    return 'actor.name must be a non-empty string of at most 200 characters';
  if (typeof role !== 'string' || !(OPERATOR_ROLES as readonly string[]).includes(role))
    return `actor.role must be one of ${OPERATOR_ROLES.join(', ')}`;
  if (!allowed.includes(role)) return `the ${role} role may not do this`;
  if (typeof requestId !== 'string' || requestId === '' || requestId.length > 128)
    return 'actor.requestId must be a non-empty string of at most 128 characters';
  return null;
}

export function addFlag(state: JourneyState, flag: Flag): void {
  if (!state.flags.includes(flag)) {
    state.flags.push(flag);
    state.flags.sort();
  }
}

export function removeFlag(state: JourneyState, flag: Flag): void {
  state.flags = state.flags.filter((f) => f !== flag);
}

function recordEvent(state: JourneyState, record: EventRecord): void {
  if (state.events.length < MAX_EVENTS_RECORDED) {
    state.events.push(record);
    return;
  }
  state.eventsOmitted++;
  if (record.duplicate) return;
  // Make room for a meaningful event by dropping the oldest duplicate, else the oldest event.
  const oldestDuplicate = state.events.findIndex((e) => e.duplicate);
  state.events.splice(oldestDuplicate >= 0 ? oldestDuplicate : 0, 1);
  state.events.push(record);
}

function remember(list: string[], key: string): void {
  list.push(key);
  if (list.length > MAX_KEYS_REMEMBERED) list.shift();
}
