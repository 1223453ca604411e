/**
 * What the bench sends: a signed delivery's body, and the receiver's own delivery code called
 * directly (the same signalWithStart, with no HTTP), the ceiling the receiver is measured against;
 * and the same signalWithStart for another workflow type, as the floors send it (bench/floors.ts).
 */
import type { Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { parseDelivery } from '../src/begini/events';
import { deliver, journeyStart, toDelivery, type Verified } from '../src/receiver/deliver';
import { delivery } from '../src/simulator/fixtures';
import { BENCH_JOURNEY_SETTINGS as SETTINGS } from './load';

export const deliveryBody = (type: string, uid: string) => JSON.stringify(delivery(type, uid));

/** A raw body as the receiver hands it on once verified and parsed. */
function verified(raw: string): Verified {
  const parsed = parseDelivery(JSON.parse(raw));
  if (!parsed.ok) throw new Error(parsed.message);
  const deployment = {
    integrationId: parsed.integrationId,
    environment: 'test' as const,
    namespace: 'default',
    keys: [],
    journey: SETTINGS,
  };
  return {
    uid: parsed.uid,
    integrationId: parsed.integrationId,
    deployment,
    keyId: 'bench',
    event: parsed.event,
    rawBody: Buffer.from(raw),
    receivedAt: new Date(),
  };
}

/** A sender for `load`: each raw body parsed and delivered as the receiver would, on `taskQueue`. */
export function directDelivery(client: Client, taskQueue: string) {
  return (raw: string) => deliver({ client, taskQueue, workflowIdPrefix: '' }, verified(raw)).then(() => true);
}

/** The options of the receiver's signalWithStart for `raw`, payloads included, built beforehand. */
export function signalWithStartOptions(raw: string, taskQueue: string) {
  const v = verified(raw);
  return {
    ...journeyStart({ taskQueue, workflowIdPrefix: '' }, v, toDelivery(v)),
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    staticSummary: `Begini journey (${v.deployment.environment})`,
  };
}

/** A sender for `load`: the receiver's signalWithStart, payloads and all, for `workflowType`. */
export function signalWithStartOf(client: Client, workflowType: string, taskQueue: string) {
  return (raw: string) =>
    client.workflow.signalWithStart(workflowType, signalWithStartOptions(raw, taskQueue)).then(() => true);
}
