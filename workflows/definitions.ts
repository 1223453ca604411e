/**
 * The one place where the journey's wire contract is declared: the signal payload, the query and
 * its view, the update, the search-attribute keys, the stages and the task queue. A leaf: it imports
 * nothing of ours, and the receiver, the worker, the activities, the tests and the dev stack all
 * import it; nothing re-declares these.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export const DEFAULT_TASK_QUEUE = 'begini-journeys';

/**
 * The ApplicationFailure types of a failed hand-off (the LOS's HTTP status rides in the details).
 * Only `rejected` is for good, and the journey acts on it; the others can clear, and are retried.
 */
export const HANDOFF_FAILURE = {
  /** The LOS answered a 4xx other than 408 or 429: this request will never be accepted as it is. */
  rejected: 'HandoffRejected',
  /** No answer: connection refused or reset, DNS, TLS, or the timeout. */
  unreachable: 'HandoffUnreachable',
  /** A 3xx, not followed: the cure is LOS_CALLBACK_URL, after which delivery resumes by itself. */
  redirected: 'HandoffRedirected',
  /** A 5xx, 408 or 429. */
  failed: 'HandoffFailed',
} as const;

const SCORE_EVENT_SUFFIX = '_score.complete';

/** `psychometric_score.complete`, `android_score.complete`, …: a score, whatever its platform. */
export function isScoreEvent(type: string): boolean {
  return type.endsWith(SCORE_EVENT_SUFFIX);
}

/** `psychometric` of `psychometric_score.complete`: the `kind` its ScoreFacts carry. */
export function scoreKindOf(scoreEventType: string): string {
  return scoreEventType.slice(0, -SCORE_EVENT_SUFFIX.length);
}

/**
 * Whether an event whose newest own timestamp is `eventTime` (epoch seconds; null: it carries none)
 * is older, at `now`, than a deployment's maximum event age (undefined: no limit). The receiver and
 * the journey both ask, so they must agree.
 */
export function isTooOld(eventTime: number | null | undefined, now: Date, maxEventAgeMs: number | undefined): boolean {
  return (
    maxEventAgeMs !== undefined && typeof eventTime === 'number' && now.getTime() - eventTime * 1000 > maxEventAgeMs
  );
}

/** The facts decisioning needs from a score event, whatever its platform. */
export interface ScoreFacts {
  /** `psychometric`, `android`, `ios`: the event type without `_score.complete` (scoreKindOf). */
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

/** What operators see: the `BeginiStage` search attribute and the `journey` query's `stage`. */
export const STAGES = [
  'awaiting_application',
  'awaiting_scores',
  'deciding',
  'in_review',
  'decided',
  'expired',
  'incomplete',
  'cancelled',
  'closed',
] as const;
export type Stage = (typeof STAGES)[number];

export type ApplicationStatus = 'pending' | 'complete' | 'expired' | 'incomplete' | 'cancelled';

/** Why the journey stopped waiting and decided. */
export type DecisionTrigger =
  | 'scores_complete'
  | 'grace_elapsed'
  | 'expired_no_score'
  | 'expired_partial_scores'
  | 'cancelled'
  | 'incomplete'
  | 'malformed_score';

export type Flag =
  | 'late_event'
  | 'malformed_event'
  | 'unrecognised_event'
  | 'rescored'
  | 'rescored_after_decision'
  | 'expired_seen'
  | 'handoff_failing'
  | 'handoff_rejected'
  | 'after_close'
  | 'foreign_delivery'
  | 'event_too_old'
  /** A shadow challenger would have decided otherwise than the policy that acted. */
  | 'shadow_disagrees';

export interface EventRecord {
  type: string;
  receivedAt: string;
  fingerprint: string;
  keyId: string;
  duplicate: boolean;
  late: boolean;
  rescore: boolean;
  /** A score older than the one already held: kept on record, not applied. */
  stale: boolean;
  malformed: boolean;
  recognised: boolean;
  /**
   * Recorded, never applied: `foreign` came from another integration or environment than the
   * journey's own; `too_old` carried event timestamps older than the journey's maximum event age.
   */
  quarantined?: 'foreign' | 'too_old';
  issues?: string[];
}

export interface ReviewState {
  /** `reopened`: a human reopened a delivered decision the applicant contests. */
  reason: 'referred' | 'handoff_rejected' | 'reopened';
  since: string;
  /** null: no deadline; a rejected hand-off waits for an operator however long it takes. */
  deadline: string | null;
  /** null: nothing decides at the deadline (a reopened review that lapses leaves the decision standing). */
  fallback: FinalOutcome | null;
  /** A reopened review: the Idempotency-Key of the delivered decision a new one would supersede. */
  supersedes?: string;
  reviewer?: string;
  note?: string;
  resolvedAt?: string;
}

/** Operator roles, each including the ones before it: read journeys, review them, redrive them. */
export const OPERATOR_ROLES = ['viewer', 'reviewer', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** The principal the journey API authenticated, passed into the update it sends on their behalf. */
export interface OperatorActor {
  name: string;
  role: OperatorRole;
  /** The API request's id, also on its audit log line. */
  requestId: string;
}

/**
 * How an action reached the journey: `journey-api`, an authenticated principal; `temporal-ui`, an
 * update sent to Temporal directly (Web UI, CLI), which carries no principal, so its name is
 * whatever was typed and its request id is the update id (the history's UpdateAccepted event names
 * the caller's Temporal identity); `system`, the journey itself (policy, deadline, the LOS's answer).
 */
export const AUDIT_VIAS = ['journey-api', 'temporal-ui', 'system'] as const;
export type AuditVia = (typeof AUDIT_VIAS)[number];

export const AUDIT_ACTIONS = [
  'decided',
  'review',
  'review_deadline',
  'handoff_delivered',
  'handoff_rejected',
  'redrive',
  'handoff_retry',
  'reopen',
  'reopen_lapsed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One step of the journey's audit trail: who, in what role, when, what, why, under which request. */
export interface AuditEntry {
  at: string;
  action: AuditAction;
  via: AuditVia;
  actor: string;
  role: OperatorRole | null;
  requestId: string | null;
  what: string;
  why: string | null;
}

export const HANDOFF_STATUSES = [
  'not_started',
  'pending',
  'delivered',
  'failing',
  'rejected',
  'not_configured',
] as const;
export type HandoffStatus = (typeof HANDOFF_STATUSES)[number];

export interface HandoffState {
  status: HandoffStatus;
  failedRounds: number;
  lastError: string | null;
  /** The key the last accepted decision went under. Absent in journeys delivered before reopening existed. */
  idempotencyKey?: string;
}

export interface JourneyCounts {
  deliveries: number;
  duplicates: number;
  late: number;
  rescores: number;
  /** Absent in journeys started before quarantine existed. */
  quarantined?: number;
  noticesDropped?: number;
}

export interface JourneyView {
  stage: Stage;
  decision: Decision | null;
  scores: Record<string, ScoreFacts>;
  events: EventRecord[];
  review: ReviewState | null;
  flags: Flag[];
  application: ApplicationStatus;
  trigger: DecisionTrigger | null;
  handoff: HandoffState;
  counts: JourneyCounts & { eventsOmitted: number; noticesSent: number };
  integrationId: string;
  environment: string;
  startedAt: string;
  expiresAt: string;
  settleUntil: string | null;
  /** The champion/challenger assignment, when the worker ran a challenger; absent otherwise. */
  experiment?: PolicyExperiment;
  /** Oldest first; absent in journeys started before the audit trail existed. */
  audit?: AuditEntry[];
  auditOmitted?: number;
}

/** The failure types a rejected review update carries. */
export const REVIEW_REJECTIONS = {
  notInReview: 'NotInReview',
  deadlinePassed: 'ReviewDeadlinePassed',
  invalid: 'InvalidReview',
  /** A reason code the worker's policy does not know. */
  unknownReason: 'UnknownReasonCode',
} as const;

/** The failure types a rejected redrive update carries. */
export const REDRIVE_REJECTIONS = { notRedrivable: 'NotRedrivable', invalid: 'InvalidRedrive' } as const;

/**
 * A webhook event as the receiver parses it, and as the journey reads it: one shape from the
 * parse (src/begini/events.ts) to the signal, so no field is copied by hand on the way.
 */
export interface BeginiEvent {
  type: string;
  /** One of the 7 documented event types. */
  recognised: boolean;
  /** A documented type whose details did not fit its schema; decisioning refers it. */
  malformed: boolean;
  /** Schema issues, as `path: message`, when malformed. */
  issues: string[];
  details: Record<string, unknown>;
  reasons: unknown[] | null;
  score: ScoreFacts | null;
  /** The newest of the event's own timestamps (epoch seconds), or null when it carries none. */
  eventTime?: number | null;
}

/** One verified webhook delivery, as the receiver hands it to the applicant's journey. */
export interface BeginiDelivery extends BeginiEvent {
  /**
   * The applicant it was signed for. A payload copied into another journey (by someone with access
   * to the Temporal frontend) is quarantined there. Absent in deliveries recorded before it existed.
   */
  uid?: string;
  integrationId: string;
  environment: string;
  /** Which configured key verified the signature (its id, never the key). */
  keyId: string;
  /** ISO-8601, the receiver's clock. */
  receivedAt: string;
  /** sha256 hex of the raw body: identical retries share it. */
  fingerprint: string;
  /** A hash of the type and the event's own timestamps: a re-serialised copy of the same event shares it. */
  semanticKey: string;
}

/** Per-deployment journey timing, fixed when the journey starts so replays see the same values. */
export interface JourneySettings {
  /** Score kinds that must arrive before deciding: `psychometric`, `android`, `ios`. */
  requiredScores: string[];
  /** Once the first required score is in, how long to wait for the others. */
  scoreGraceMs: number;
  /** From the journey's start; longer than Begini's session limit. */
  expiryMs: number;
  /** How long a decided journey stays open to absorb retries and late events. */
  settleMs: number;
  /** First retry interval of the hand-off to the loan origination system. */
  handoffRetryInitialMs: number;
  /**
   * Events whose own timestamps are older than this are recorded, never applied: a captured
   * delivery replayed long after the fact must not decide. Absent in journeys started before it existed.
   */
  maxEventAgeMs?: number;
}

/** A journey's workflow ID: Begini's uid with the deployment's optional prefix. */
export function workflowIdFor(workflowIdPrefix: string, uid: string): string {
  return `${workflowIdPrefix}${uid}`;
}

export interface JourneyInput {
  /** Begini's uid; the workflow ID is workflowIdFor(prefix, uid). */
  uid: string;
  integrationId: string;
  environment: string;
  settings: JourneySettings;
}

/** What a decision can be; the policy, the review, the search attribute and the APIs all read this list. */
export const OUTCOMES = ['APPROVE', 'DECLINE', 'REFER'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** The outcomes a human (or a review's fallback) can give: a review never refers again. */
export const FINAL_OUTCOMES = ['APPROVE', 'DECLINE'] as const satisfies readonly Outcome[];
export type FinalOutcome = (typeof FINAL_OUTCOMES)[number];

export const DECIDED_BY = ['policy', 'review', 'review_deadline'] as const;

/** Regulation B's cap on the principal reasons an adverse-action notice gives. */
export const MAX_PRINCIPAL_REASONS = 4;

/** A reason as an applicant's notice gives it: the policy rule's code and its applicant-facing text. */
export interface PrincipalReason {
  code: string;
  text: string;
}

export interface Decision {
  outcome: Outcome;
  /** Codes, for machines: the policy's rule codes, then e.g. reviewed_decline or review_deadline_passed. */
  reasons: string[];
  /**
   * For the applicant's notice: at most four, most important first, with the lender's own texts.
   * Absent on decisions made before they existed; such a decision goes to the LOS in the older
   * callback schema, so every send of one decision carries the same bytes.
   */
  principalReasons?: PrincipalReason[];
  policyVersion: string;
  /**
   * sha256 of the deciding policy's canonical content: two files under one version cannot be told
   * apart by the version alone. Absent on decisions made before it was recorded.
   */
  policySha256?: string;
  decidedAt: string;
  decidedBy: (typeof DECIDED_BY)[number];
  /** The authenticated principal (via the journey API), or the name typed in the Web UI. */
  reviewer?: string;
  /** Absent on reviews recorded before it existed. */
  reviewedVia?: AuditVia;
  /** A decision after a reopened review: the Idempotency-Key of the delivered decision it replaces. */
  supersedes?: string;
}

/**
 * Champion/challenger: a worker may run a challenger policy beside the champion. In `split` mode a
 * share of new journeys (by the uidRef's bucket, so stable across retries, replays and redeliveries)
 * is decided by the challenger; in `shadow` mode the champion decides every journey and the
 * challenger's verdict is only recorded beside it, never acted on or sent to the LOS.
 */
export const POLICY_ARMS = ['champion', 'challenger'] as const;
export type PolicyArm = (typeof POLICY_ARMS)[number];
export const EXPERIMENT_MODES = ['split', 'shadow'] as const;
export type ExperimentMode = (typeof EXPERIMENT_MODES)[number];
/** Buckets a uidRef falls into: a share is a whole percentage of them. */
export const EXPERIMENT_BUCKETS = 100;

export interface PolicyRef {
  version: string;
  sha256: string;
}

/** A policy's verdict on a journey it did not decide (the shadow challenger's). */
export interface ShadowVerdict {
  outcome: Outcome;
  reasons: string[];
  principalReasons: PrincipalReason[];
  policyVersion: string;
  policySha256: string;
}

/** What the policy evaluation recorded when the worker ran a challenger. */
export interface PolicyExperiment {
  /** Whose decision the journey acted on: always `champion` in shadow mode. */
  arm: PolicyArm;
  mode: ExperimentMode;
  /** The challenger's share in percent (0–100) at assignment; split mode acts on it. */
  share: number;
  /** The uidRef's bucket, 0 ≤ bucket < 100: the challenger's when bucket < share (split). */
  bucket: number;
  champion: PolicyRef;
  challenger: PolicyRef;
  /** Shadow mode: the challenger's verdict, beside the real decision. */
  shadow?: ShadowVerdict;
}

/** A reason code as a policy rule names it and a reviewer may cite it. */
export const REASON_CODE = /^[A-Za-z0-9_.:-]{1,100}$/;
export const MAX_REVIEW_REASONS = 20;

/**
 * The journey API sends `actor` (the authenticated principal) and never `reviewer`; an update sent
 * from the Web UI or CLI carries no principal, so it names its `reviewer` and is recorded as
 * `temporal-ui`.
 */

export interface ReviewRequest {
  outcome: FinalOutcome;
  /** Reason codes of the policy the reviewer decides for; a DECLINE names at least one. */
  reasons?: string[];
  reviewer?: string;
  note?: string;
  actor?: OperatorActor;
}

/**
 * Hand the journey's current decision to the LOS again. `reason` is required; `operator` names a
 * Web UI or CLI caller, as `reviewer` does on a review.
 */
export interface RedriveRequest {
  reason: string;
  operator?: string;
  actor?: OperatorActor;
}

/**
 * Put a delivered decision the applicant contests back in review. `reason` is required; the review
 * has `reviewWithinMs` (default 48 h, at most 30 d), after which the delivered decision stands.
 */
export interface ReopenRequest {
  reason: string;
  reviewWithinMs?: number;
  operator?: string;
  actor?: OperatorActor;
}

export const REOPEN_DEFAULT_WITHIN_MS = 48 * 3_600_000;
export const REOPEN_MAX_WITHIN_MS = 30 * 86_400_000;
/** Each reopening extends the journey's settle period (and its data's stay): a contest, not a loop. */
export const MAX_REOPENS = 3;

/** The failure types a rejected reopen update carries. */
export const REOPEN_REJECTIONS = { notReopenable: 'NotReopenable', invalid: 'InvalidReopen' } as const;

/**
 * `resend`: a delivered decision goes again under the same Idempotency-Key; `redeliver`: a decision
 * the LOS refused goes back to delivery (a new attempt, so a new key); `retry_now`: a failing
 * hand-off retries without waiting out its pause.
 */
export const REDRIVE_ACTIONS = ['resend', 'redeliver', 'retry_now'] as const;

export interface RedriveResult {
  action: (typeof REDRIVE_ACTIONS)[number];
  outcome: Outcome;
}

/**
 * Workflow types. A delivery for a closed journey starts a `deliveriesAfterClose` run under the
 * journey's own workflow ID (a later run of the same ID), so no derived ID exists that a uid could
 * collide with.
 */
export const WORKFLOW_TYPES = { journey: 'beginiJourney', afterClose: 'deliveriesAfterClose' } as const;

export const beginiEventSignal = defineSignal<[BeginiDelivery]>('beginiEvent');
export const journeyQuery = defineQuery<JourneyView>('journey');
export const reviewUpdate = defineUpdate<Decision, [ReviewRequest]>('review');
export const redriveUpdate = defineUpdate<RedriveResult, [RedriveRequest]>('redrive');
export const reopenUpdate = defineUpdate<ReviewState, [ReopenRequest]>('reopen');

/**
 * Coarse facts only: search attributes are stored unencrypted and indexed, and no payload codec
 * ever sees them. So a risk band, never a score; beside the uid (the workflow ID) even that is
 * personal credit data, which erasure deletes with the runs (docs/security.md, Data inventory).
 * Within the SQLite dev server's limits (10 Keyword, 3 of each other type).
 */
export const searchAttributes = {
  stage: defineSearchAttributeKey('BeginiStage', SearchAttributeType.KEYWORD),
  decision: defineSearchAttributeKey('BeginiDecision', SearchAttributeType.KEYWORD),
  riskBand: defineSearchAttributeKey('BeginiRiskBand', SearchAttributeType.KEYWORD),
  scoreConfidence: defineSearchAttributeKey('BeginiScoreConfidence', SearchAttributeType.KEYWORD),
  platform: defineSearchAttributeKey('BeginiPlatform', SearchAttributeType.KEYWORD),
  integrationId: defineSearchAttributeKey('BeginiIntegrationId', SearchAttributeType.KEYWORD),
  lastEventType: defineSearchAttributeKey('BeginiLastEventType', SearchAttributeType.KEYWORD),
  handoff: defineSearchAttributeKey('BeginiHandoff', SearchAttributeType.KEYWORD),
  flags: defineSearchAttributeKey('BeginiFlags', SearchAttributeType.KEYWORD_LIST),
  reviewSince: defineSearchAttributeKey('BeginiReviewSince', SearchAttributeType.DATETIME),
  /** `champion` or `challenger`: set only on journeys decided while a challenger ran. */
  policyArm: defineSearchAttributeKey('BeginiPolicyArm', SearchAttributeType.KEYWORD),
} as const;
