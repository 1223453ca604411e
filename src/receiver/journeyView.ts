/**
 * What `GET /journeys/:uid` answers: the journey run's own view (its decision and audit trail),
 * with the deliveries that arrived after it closed beside it. Those are recorded by
 * `deliveriesAfterClose` runs under the same workflow ID, so the ID's latest run is not always the
 * journey.
 */
import type { Client, WorkflowExecutionDescription, WorkflowExecutionInfo } from '@temporalio/client';
import { journeyQuery, WORKFLOW_TYPES, type EventRecord, type JourneyView } from '../../workflows/definitions';
import { Rejection } from './rejection';

/** One recorder run: what arrived after the journey closed, never a decision. */
export interface AfterCloseRun {
  runId: string;
  status: string;
  startedAt: string;
  closedAt: string | null;
  deliveries: number;
  events: EventRecord[];
  eventsOmitted: number;
}

export type JourneyApiView = JourneyView & { afterClose: AfterCloseRun[] };

/** Recorder runs shown, newest first: each is a query (a replay when it has closed). */
export const AFTER_CLOSE_RUNS_SHOWN = 5;

export async function journeyView(client: Client, workflowId: string): Promise<JourneyApiView> {
  const latest = await client.workflow.getHandle(workflowId).describe();
  if (latest.type !== WORKFLOW_TYPES.afterClose) return { ...(await viewOf(client, latest)), afterClose: [] };

  // Visibility lists the ID's runs (the journey closed before any recorder started, so it is listed).
  const [journey] = await runsOf(client, workflowId, WORKFLOW_TYPES.journey, 1);
  if (!journey) {
    throw new Rejection(
      404,
      'journey_not_retained',
      'the journey is no longer retained; only deliveries after its close are',
      'Not Found',
    );
  }
  const earlier = await runsOf(client, workflowId, WORKFLOW_TYPES.afterClose, AFTER_CLOSE_RUNS_SHOWN);
  // The latest recorder may not be listed yet.
  const recorders = [latest, ...earlier.filter((run) => run.runId !== latest.runId)].slice(0, AFTER_CLOSE_RUNS_SHOWN);
  const [view, afterClose] = await Promise.all([
    viewOf(client, journey),
    Promise.all(recorders.map((run) => afterCloseRun(client, run))),
  ]);
  return { ...view, afterClose };
}

/** The ID's runs of one type, newest first. */
async function runsOf(client: Client, workflowId: string, type: string, limit: number) {
  const query = `WorkflowId = ${visibilityString(workflowId)} AND WorkflowType = '${type}'`;
  const runs: WorkflowExecutionInfo[] = [];
  for await (const run of client.workflow.list({ query, pageSize: limit })) {
    if (run.workflowId === workflowId && run.type === type) runs.push(run);
    if (runs.length >= limit) break;
  }
  return runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

async function afterCloseRun(
  client: Client,
  run: WorkflowExecutionInfo | WorkflowExecutionDescription,
): Promise<AfterCloseRun> {
  const recorded = await viewOf(client, run);
  return {
    runId: run.runId,
    status: run.status.name,
    startedAt: run.startTime.toISOString(),
    closedAt: run.closeTime?.toISOString() ?? null,
    deliveries: recorded.counts.deliveries,
    events: recorded.events,
    eventsOmitted: recorded.counts.eventsOmitted,
  };
}

function viewOf(client: Client, run: WorkflowExecutionInfo | WorkflowExecutionDescription): Promise<JourneyView> {
  return client.workflow.getHandle(run.workflowId, run.runId).query(journeyQuery);
}

/** A string literal of Temporal's list filter language (quotes and backslashes escaped). */
export function visibilityString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}
