/**
 * What the bench sends: a signed delivery's body, and the receiver's own delivery code called
 * directly (the same signalWithStart, with no HTTP), the ceiling the receiver is measured against.
 */
import type { Client } from '@temporalio/client';
import { parseDelivery } from '../src/begini/events';
import { deliver } from '../src/receiver/deliver';
import { delivery } from '../src/simulator/fixtures';
import { BENCH_JOURNEY_SETTINGS as SETTINGS } from './load';

export const deliveryBody = (type: string, uid: string) => JSON.stringify(delivery(type, uid));

/** A sender for `load`: each raw body parsed and delivered as the receiver would, on `taskQueue`. */
export function directDelivery(client: Client, taskQueue: string) {
  return (raw: string) => {
    const parsed = parseDelivery(JSON.parse(raw));
    if (!parsed.ok) throw new Error(parsed.message);
    const deployment = {
      integrationId: parsed.integrationId,
      environment: 'test' as const,
      namespace: 'default',
      keys: [],
      journey: SETTINGS,
    };
    return deliver(
      { client, taskQueue, workflowIdPrefix: '' },
      {
        uid: parsed.uid,
        integrationId: parsed.integrationId,
        deployment,
        keyId: 'bench',
        event: parsed.event,
        rawBody: Buffer.from(raw),
        receivedAt: new Date(),
      },
    ).then(() => true);
  };
}
