/**
 * Reads decided journeys out of Temporal without touching them: visibility lists the journeys,
 * each one's history gives the policy activity's recorded input and result, decrypted with the
 * deployment's payload codec. Nothing is signalled, queried or started.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { PolicyEvaluation, PolicyInput } from '../../activities/policy';
import { OUTCOMES, searchAttributes as sa, WORKFLOW_TYPES } from '../../workflows/definitions';
import { uidRef } from '../logger';
import type { RecordedDecision } from './compare';

/** The worker's policy activity, by the name it is registered under. */
const POLICY_ACTIVITY = 'evaluatePolicy';
/** The marker the SDK's core records for a completed local activity. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export interface ReadOptions {
  client: Client;
  codec: PayloadCodec;
  /** An operator's extra visibility filter, ANDed with "decided journeys". */
  query?: string;
  /** Only journeys started at or after this time. */
  since?: Date;
  /** At most this many journeys are read. */
  limit: number;
}

export interface ReadResult {
  filter: string;
  decisions: RecordedDecision[];
  /** Listed but holding no completed policy evaluation in this run (continued-as-new after deciding). */
  skipped: number;
  /** More journeys matched than `limit`. */
  truncated: boolean;
}

export function decidedJourneysFilter(query?: string, since?: Date): string {
  const parts = [
    `WorkflowType = '${WORKFLOW_TYPES.journey}'`,
    `${sa.decision.name} IN (${OUTCOMES.map((outcome) => `'${outcome}'`).join(', ')})`,
  ];
  if (since) parts.push(`StartTime >= '${since.toISOString()}'`);
  if (query?.trim()) parts.push(`(${query.trim()})`);
  return parts.join(' AND ');
}

export async function readDecidedJourneys(options: ReadOptions): Promise<ReadResult> {
  const filter = decidedJourneysFilter(options.query, options.since);
  const decisions: RecordedDecision[] = [];
  const seen = new Set<string>();
  let skipped = 0;
  let truncated = false;
  for await (const execution of options.client.workflow.list({ query: filter })) {
    // Runs of one journey are listed newest first; its decision is recorded once.
    // An operator's filter can OR its way past the journey clause: read journeys only.
    if (execution.type !== WORKFLOW_TYPES.journey || seen.has(execution.workflowId)) continue;
    if (seen.size >= options.limit) {
      truncated = true;
      break;
    }
    const history = await options.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const recorded = await policyEvaluation(history, options.codec);
    if (!recorded) {
      skipped += 1;
      continue;
    }
    seen.add(execution.workflowId);
    decisions.push({ uidRef: uidRef(execution.workflowId), runId: execution.runId, ...recorded });
  }
  return { filter, decisions, skipped, truncated };
}

/**
 * The last completed policy evaluation of a run: its input, its result and when it completed. Older
 * journeys ran the policy as an activity (input in the scheduled event); newer ones run it as a
 * local activity, whose marker records the result, and the result carries its input.
 */
async function policyEvaluation(
  history: temporal.api.history.v1.IHistory,
  codec: PayloadCodec,
): Promise<Pick<RecordedDecision, 'input' | 'current' | 'decidedAt'> | null> {
  const scheduled = new Map<string, Payload[]>();
  let found: { input: Payload | null; result: Payload; at: Date } | null = null;
  for (const event of history.events ?? []) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === POLICY_ACTIVITY)
      scheduled.set(String(event.eventId), (s.input?.payloads ?? []) as Payload[]);
    const c = event.activityTaskCompletedEventAttributes;
    const input = c && scheduled.get(String(c.scheduledEventId));
    if (c && input?.length === 1 && c.result?.payloads?.length === 1)
      found = { input: input[0]!, result: c.result.payloads[0] as Payload, at: eventTime(event) };
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === LOCAL_ACTIVITY_MARKER && !marker.failure) {
      const data = marker.details?.data?.payloads?.[0];
      const result = marker.details?.result?.payloads?.[0];
      const type =
        data && defaultPayloadConverter.fromPayload<{ activity_type?: string }>(data as Payload).activity_type;
      if (type === POLICY_ACTIVITY && result) found = { input: null, result: result as Payload, at: eventTime(event) };
    }
  }
  if (!found) return null;
  const decoded = await codec.decode(found.input ? [found.input, found.result] : [found.result]);
  const evaluation = defaultPayloadConverter.fromPayload<PolicyEvaluation>(decoded.at(-1)!);
  const input = found.input ? defaultPayloadConverter.fromPayload<PolicyInput>(decoded[0]!) : evaluation.input;
  if (!input) return null;
  const { input: _echoed, ...current } = evaluation;
  return { input, current, decidedAt: found.at.toISOString() };
}

function eventTime(event: temporal.api.history.v1.IHistoryEvent): Date {
  return new Date(Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6));
}
