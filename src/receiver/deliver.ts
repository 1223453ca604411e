/**
 * Hands a verified, validated event to the applicant's journey with signalWithStart, and reports
 * whether Temporal durably took it. Only `journey` and `after_close` may become an HTTP 200.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { ParsedEvent } from '../begini/events';
import type { Deployment } from '../config/deployments';
import {
  beginiEventSignal,
  isScoreEvent,
  isTooOld,
  workflowIdFor,
  WORKFLOW_TYPES,
  type BeginiDelivery,
  type JourneyInput,
} from '../../workflows/definitions';
import { markdownText } from '../../workflows/markdown';
import { knownRunType, rememberRunType } from '../temporal/runTypes';
import { SCORE_START_PRIORITY } from './backlog';

export interface DeliveryTarget {
  /** A client of the deployment's own namespace. */
  client: Client;
  taskQueue: string;
  workflowIdPrefix: string;
}

export interface Verified {
  uid: string;
  integrationId: string;
  deployment: Deployment;
  keyId: string;
  event: ParsedEvent;
  rawBody: Uint8Array;
  receivedAt: Date;
}

/**
 * Raw details and reasons bigger than these are left out of the signal (the parsed, bounded facts
 * and the body's fingerprint stay): every delivery is a history event, and a journey's history is
 * capped by the server.
 */
export const MAX_DETAILS_BYTES = 16 * 1024;
export const MAX_REASONS_BYTES = 4 * 1024;

function bounded<T>(value: T, maxBytes: number, what: string): T | { omitted: string } {
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
  return bytes <= maxBytes ? value : { omitted: `${bytes} bytes of ${what}, over ${maxBytes}` };
}

export function toDelivery(v: Verified): BeginiDelivery {
  const fingerprint = sha256(v.rawBody);
  const { timestamps, ...event } = v.event;
  const stamps = Object.entries(timestamps);
  const reasons = event.reasons && bounded(event.reasons, MAX_REASONS_BYTES, 'reasons');
  return {
    ...event,
    details: bounded(event.details, MAX_DETAILS_BYTES, 'details'),
    reasons: Array.isArray(reasons) ? reasons : reasons && [reasons],
    uid: v.uid,
    integrationId: v.integrationId,
    environment: v.deployment.environment,
    keyId: v.keyId,
    receivedAt: v.receivedAt.toISOString(),
    fingerprint,
    // Hashed so that a key of any size costs the journey's dedupe memory the same.
    semanticKey: sha256(
      stamps.length
        ? `${event.type}|${stamps.map(([k, t]) => `${k}=${t}`).join(',')}`
        : `${event.type}|sha256=${fingerprint}`,
    ),
  };
}

/**
 * The signalWithStart of `v`'s journey, but for its ID-reuse policy and summary: the workflow's
 * input, the delivery as its signal, and the options (the bench's floors send the same).
 */
export function journeyStart(target: Omit<DeliveryTarget, 'client'>, v: Verified, delivery: BeginiDelivery) {
  const input: JourneyInput = {
    uid: v.uid,
    integrationId: v.integrationId,
    environment: v.deployment.environment,
    settings: v.deployment.journey,
  };
  return {
    taskQueue: target.taskQueue,
    workflowId: workflowIdFor(target.workflowIdPrefix, v.uid),
    args: [input] as [JourneyInput],
    signal: beginiEventSignal,
    signalArgs: [delivery] as [BeginiDelivery],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // Taken only when this call starts the run: scores first, even behind a flood of applications.
    ...(isScoreEvent(v.event.type) && { priority: SCORE_START_PRIORITY }),
    // Signed text, rendered as markdown by the Web UI: escaped, so it can only ever read as itself.
    staticDetails: `uid ${markdownText(v.uid)} · integration ${markdownText(v.integrationId)} · ${v.deployment.environment}`,
  };
}

export type Landed = 'journey' | 'after_close' | 'too_old';

/**
 * Journeys use REJECT_DUPLICATE: once a uid's journey has closed, no second journey (and so no
 * second decision) can start under that ID while the namespace retains it. A delivery for a closed
 * journey starts (or joins) a recorder run under the same ID instead, so it is still durably recorded.
 *
 * An event older than the deployment's maximum event age never starts anything: it can only join a
 * run that is already open (which records it, unapplied). `too_old` means it reached none.
 */
export async function deliver(target: DeliveryTarget, v: Verified): Promise<Landed> {
  const workflowId = workflowIdFor(target.workflowIdPrefix, v.uid);
  const delivery = toDelivery(v);
  if (isTooOld(delivery.eventTime, v.receivedAt, v.deployment.journey.maxEventAgeMs)) {
    try {
      // The open run is named, so what is counted is what was signalled.
      const { runId, type } = await target.client.workflow.getHandle(workflowId).describe();
      await target.client.workflow.getHandle(workflowId, runId).signal(beginiEventSignal, delivery);
      rememberRunType(runId, type);
      return landedIn(type);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'too_old';
      throw err;
    }
  }

  const common = journeyStart(target, v, delivery);
  let signalled: string;
  try {
    const handle = await target.client.workflow.signalWithStart(WORKFLOW_TYPES.journey, {
      ...common,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Begini journey (${v.deployment.environment})`,
    });
    signalled = handle.signaledRunId;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const recorder = await target.client.workflow.signalWithStart(WORKFLOW_TYPES.afterClose, {
      ...common,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: `Deliveries after the journey closed (${v.deployment.environment})`,
    });
    rememberRunType(recorder.signaledRunId, WORKFLOW_TYPES.afterClose);
    return 'after_close';
  }
  // USE_EXISTING signals whatever run is open under the ID: a recorder still in its settle period too.
  return landedIn(await runType(target.client, workflowId, signalled));
}

async function runType(client: Client, workflowId: string, runId: string): Promise<string> {
  const known = knownRunType(runId);
  if (known) return known;
  const { type } = await client.workflow.getHandle(workflowId, runId).describe();
  rememberRunType(runId, type);
  return type;
}

function landedIn(type: string): Landed {
  return type === WORKFLOW_TYPES.afterClose ? 'after_close' : 'journey';
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
