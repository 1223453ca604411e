/**
 * The floor's activities (bench/floor/workflow.ts): the policy's local activity answers at once, and
 * the hand-off posts a body of the decision's size to the LOS with `fetch`, as the real one does,
 * without signatures, schema or tracing. Inputs and results carry padding of the journey's sizes.
 */
import { ApplicationFailure } from '@temporalio/common';

export interface Padded {
  uid: string;
  padding: string;
  /** The size of the padding the answer carries back. */
  answerBytes: number;
}

export function floorActivities(los: { url: string; timeoutMs: number }) {
  return {
    async decide(request: Padded) {
      return { outcome: 'APPROVE', reasons: ['score_ok'], padding: 'x'.repeat(request.answerBytes) };
    },
    async handOff(request: Padded) {
      const idempotencyKey = `floor:${request.uid}`;
      const response = await fetch(los.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ kind: 'decision', uid: request.uid, idempotencyKey, padding: request.padding }),
        signal: AbortSignal.timeout(los.timeoutMs),
      });
      await response.arrayBuffer();
      if (!response.ok) throw ApplicationFailure.retryable(`LOS answered HTTP ${response.status}`);
      return { delivered: true, status: response.status, idempotencyKey, padding: 'x'.repeat(request.answerBytes) };
    },
  };
}

export type FloorActivities = ReturnType<typeof floorActivities>;
