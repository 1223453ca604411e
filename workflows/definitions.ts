/**
 * The one place where the journey's wire contract is declared: the signal payload, the query,
 * the update and the search-attribute keys. The receiver, the worker, the tests and the dev stack
 * all import these; nothing re-declares them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ScoreFacts } from '../src/begini/events';
import type { JourneyView } from './journeyState';

export type { ScoreFacts } from '../src/begini/events';
export type { JourneyView } from './journeyState';

export const DEFAULT_TASK_QUEUE = 'begini-journeys';

/** ApplicationFailure type of a hand-off the loan origination system refused for good. */
export const HANDOFF_REJECTED = 'HandoffRejected';

/** One verified webhook delivery, as the receiver hands it to the applicant's journey. */
export interface BeginiDelivery {
  type: string;
  /** One of the 7 documented event types. */
  recognised: boolean;
  /** A documented type whose details did not fit its schema; decisioning refers it. */
  malformed: boolean;
  issues: string[];
  details: Record<string, unknown>;
  reasons: unknown[] | null;
  score: ScoreFacts | null;
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
  /** The newest of the event's own timestamps (epoch seconds), or null when it carries none. */
  eventTime?: number | null;
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

export interface JourneyInput {
  /** Begini's uid; the workflow ID is this with the deployment's optional prefix. */
  uid: string;
  integrationId: string;
  environment: string;
  settings: JourneySettings;
}

export type Outcome = 'APPROVE' | 'DECLINE' | 'REFER';

export interface Decision {
  outcome: Outcome;
  reasons: string[];
  policyVersion: string;
  decidedAt: string;
  decidedBy: 'policy' | 'review' | 'review_deadline';
  reviewer?: string;
}

export interface ReviewRequest {
  outcome: 'APPROVE' | 'DECLINE';
  reviewer: string;
  note?: string;
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

/**
 * Coarse, non-identifying facts only: search attributes are stored unencrypted and indexed, and no
 * payload codec ever sees them. So a risk band, never a score.
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
} as const;
