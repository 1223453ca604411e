/**
 * Hands a verified, validated event to the applicant's journey with signalWithStart, and reports
 * whether Temporal durably took it. Only `accepted` may become an HTTP 200.
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { ParsedEvent } from '../begini/events';
import type { Deployment } from '../config';
import { afterCloseWorkflowId, beginiEventSignal, type BeginiDelivery, type JourneyInput } from '../../workflows/definitions';

export interface DeliveryTarget {
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

export function toDelivery(v: Verified): BeginiDelivery {
  const fingerprint = createHash('sha256').update(v.rawBody).digest('hex');
  const stamps = Object.entries(v.event.timestamps);
  return {
    type: v.event.type,
    recognised: v.event.recognised,
    malformed: v.event.malformed,
    issues: v.event.issues,
    details: v.event.details,
    reasons: v.event.reasons,
    score: v.event.score,
    integrationId: v.integrationId,
    environment: v.deployment.environment,
    keyId: v.keyId,
    receivedAt: v.receivedAt.toISOString(),
    fingerprint,
    // Without timestamps of its own, an event is only known by its bytes.
    semanticKey: stamps.length ? `${v.event.type}|${stamps.map(([k, t]) => `${k}=${t}`).join(',')}` : `${v.event.type}|sha256=${fingerprint}`,
  };
}

/**
 * Journeys use REJECT_DUPLICATE: once a uid's journey has closed, no second journey (and so no
 * second decision) can start under that ID while the namespace retains it. A delivery for a closed
 * journey goes to its after-close sibling instead, so it is still durably recorded.
 * Returns where it landed.
 */
export async function deliver(target: DeliveryTarget, v: Verified): Promise<'journey' | 'after_close'> {
  const workflowId = `${target.workflowIdPrefix}${v.uid}`;
  const input: JourneyInput = {
    uid: v.uid,
    integrationId: v.integrationId,
    environment: v.deployment.environment,
    settings: v.deployment.journey,
  };
  const delivery = toDelivery(v);
  const common = {
    taskQueue: target.taskQueue,
    args: [input] as [JourneyInput],
    signal: beginiEventSignal,
    signalArgs: [delivery] as [BeginiDelivery],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    staticDetails: `uid \`${v.uid}\` · integration \`${v.integrationId}\` · ${v.deployment.environment}`,
  };
  try {
    await target.client.workflow.signalWithStart('beginiJourney', {
      ...common,
      workflowId,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Begini journey ${v.uid} (${v.deployment.environment})`,
    });
    return 'journey';
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  await target.client.workflow.signalWithStart('deliveriesAfterClose', {
    ...common,
    workflowId: afterCloseWorkflowId(workflowId),
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    staticSummary: `Deliveries after journey ${v.uid} closed`,
  });
  return 'after_close';
}
