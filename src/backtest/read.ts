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
import { UsageError } from '../failures';
import { uidRef } from '../logger';
import { mapBounded } from './bounded';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint';
import type { RecordedDecision } from './compare';
import { progressBar } from './progress';

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
  /** Histories fetched at once. */
  concurrency: number;
  /** Checkpoint file: continued from when it exists, written after every page. */
  resume?: string;
  /** Journeys listed per visibility page (one checkpoint each). */
  pageSize?: number;
}

export interface ReadResult {
  filter: string;
  decisions: RecordedDecision[];
  /** Listed but holding no completed policy evaluation in this run (continued-as-new after deciding). */
  skipped: number;
  /** More journeys matched than `limit`. */
  truncated: boolean;
  /** This invocation's reading: journeys read by it (not those a checkpoint brought), in how long. */
  pace: { journeys: number; seconds: number; journeysPerSecond: number | null; concurrency: number; resumed: boolean };
}

export const DEFAULT_CONCURRENCY = 16;
const PAGE_SIZE = 500;

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
  const started = performance.now();
  const { client, codec } = options;
  const resumed = options.resume ? await readCheckpoint(options.resume, options.codec) : null;
  const filter = decidedJourneysFilter(options.query, options.since);
  // A --since duration moves with the clock: a resumed run keeps the instant its first run listed from.
  if (resumed && resumed.filter !== filter && !sameBesidesSince(resumed.filter, filter))
    throw new UsageError(`--resume: ${options.resume} continues another listing (${resumed.filter})`);
  const state: Checkpoint = resumed ?? {
    filter,
    limit: options.limit,
    nextPageToken: '',
    decisions: [],
    skipped: 0,
    truncated: false,
  };
  const alreadyRead = state.decisions.length;
  const seen = new Set(state.decisions.map((d) => d.uidRef));
  const total = Math.min(state.limit, Number((await client.workflow.count(state.filter)).count));
  const bar = progressBar(total);
  bar.advance(alreadyRead);
  while (state.nextPageToken !== null && !state.truncated) {
    const page = await client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query: state.filter,
      // One more than the limit still needs, so the limit's truncation shows without reading a page too many.
      pageSize: Math.min(options.pageSize ?? PAGE_SIZE, state.limit - seen.size + 1),
      nextPageToken: state.nextPageToken ? Buffer.from(state.nextPageToken, 'base64') : undefined,
    });
    // Runs of one journey are listed newest first; its decision is recorded once.
    // An operator's filter can OR its way past the journey clause: read journeys only.
    const runs = (page.executions ?? [])
      .filter((e) => e.type?.name === WORKFLOW_TYPES.journey && e.execution?.workflowId && e.execution.runId)
      .map((e) => ({ workflowId: e.execution!.workflowId!, runId: e.execution!.runId! }))
      .filter((run) => !seen.has(uidRef(run.workflowId)));
    const recorded = await mapBounded(runs, options.concurrency, async (run) => {
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      bar.advance();
      return policyEvaluation(history, codec);
    });
    for (const [i, run] of runs.entries()) {
      const ref = uidRef(run.workflowId);
      if (seen.has(ref)) continue;
      if (seen.size >= state.limit) {
        state.truncated = true;
        break;
      }
      if (!recorded[i]) {
        state.skipped += 1;
        continue;
      }
      seen.add(ref);
      state.decisions.push({ uidRef: ref, runId: run.runId, ...recorded[i] });
    }
    const token = page.nextPageToken?.length ? Buffer.from(page.nextPageToken).toString('base64') : null;
    state.nextPageToken = token;
    if (options.resume) await writeCheckpoint(options.resume, state, codec);
  }
  bar.done();
  const seconds = (performance.now() - started) / 1000;
  const journeys = state.decisions.length - alreadyRead;
  return {
    filter: state.filter,
    decisions: state.decisions,
    skipped: state.skipped,
    truncated: state.truncated,
    pace: {
      journeys,
      seconds: Number(seconds.toFixed(3)),
      journeysPerSecond: seconds > 0 && journeys > 0 ? Number((journeys / seconds).toFixed(1)) : null,
      concurrency: options.concurrency,
      resumed: resumed !== null,
    },
  };
}

/** Two filters that differ only in their StartTime bound (a --since duration, resolved at another moment). */
function sameBesidesSince(a: string, b: string): boolean {
  const strip = (f: string) => f.replace(/ AND StartTime >= '[^']*'/, '');
  return strip(a) === strip(b);
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
