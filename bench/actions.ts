/**
 * What one workflow history costs: events, workflow tasks, bytes, and Temporal Cloud billable
 * actions counted by Temporal's published definition of an action
 * (https://docs.temporal.io/cloud/actions, read 2026-11-28; docs source
 * temporalio/documentation docs/evaluate/temporal-cloud/actions.mdx). Only what a history shows is
 * counted: queries (the journey API's GET, the Web UI's stack view), heartbeats and rejected
 * updates are actions too but leave no event, as the page itself says of its own estimate.
 */
import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
type Event = temporal.api.history.v1.IHistoryEvent;
const T = temporal.api.enums.v1.EventType;

/** Core upserts it alongside every `patched()` marker; the page exempts it from billing. */
const CHANGE_VERSION = 'TemporalChangeVersion';

export interface HistoryCost {
  events: number;
  workflowTasks: number;
  billableActions: number;
  historyBytes: number;
  /** Billable actions by kind, so a change shows where it saved. */
  actions: Record<string, number>;
}

function add(actions: Record<string, number>, kind: string, n = 1): void {
  if (n > 0) actions[kind] = (actions[kind] ?? 0) + n;
}

/** Signal-With-Start writes the signal straight after the start: one action for both. */
function signalWithStart(events: Event[], i: number): boolean {
  return i === 1 && events[0]?.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED;
}

export function costOf(history: History): HistoryCost {
  const events = history.events ?? [];
  const actions: Record<string, number> = {};
  const tasksWithMarkers = new Set<string>();
  let workflowTasks = 0;
  events.forEach((event, i) => {
    switch (event.eventType) {
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        add(actions, 'workflow started');
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
        // The next run's start, which its own history does not show again.
        add(actions, 'workflow started');
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        if (!signalWithStart(events, i)) add(actions, 'signal');
        break;
      case T.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        add(actions, 'signal');
        break;
      case T.EVENT_TYPE_TIMER_STARTED:
        add(actions, 'timer started');
        break;
      case T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const fields = Object.keys(
          event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
        );
        if (fields.some((f) => f !== CHANGE_VERSION)) add(actions, 'search attribute upsert');
        break;
      }
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        // Written once, when the activity closes, with the attempt it closed on: each attempt is an action.
        add(actions, 'activity attempt', event.activityTaskStartedEventAttributes?.attempt ?? 1);
        break;
      case T.EVENT_TYPE_MARKER_RECORDED:
        // Local activities, side effects, patches: all markers of one workflow task are one action.
        tasksWithMarkers.add(String(event.markerRecordedEventAttributes?.workflowTaskCompletedEventId ?? i));
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add(actions, 'update');
        break;
      case T.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        add(actions, 'child workflow', 2);
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
        add(actions, 'workflow options updated');
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        workflowTasks++;
        break;
    }
  });
  add(actions, 'markers (per workflow task)', tasksWithMarkers.size);
  return {
    events: events.length,
    workflowTasks,
    billableActions: Object.values(actions).reduce((a, b) => a + b, 0),
    historyBytes: temporal.api.history.v1.History.encode(history).finish().length,
    actions,
  };
}

/** Fraction saved from `before` to `after`, per measure, to three places. */
export function reduction(before: HistoryCost, after: HistoryCost) {
  const cut = (a: number, b: number) => (a === 0 ? 0 : Number((1 - b / a).toFixed(3)));
  return {
    events: cut(before.events, after.events),
    workflowTasks: cut(before.workflowTasks, after.workflowTasks),
    billableActions: cut(before.billableActions, after.billableActions),
    historyBytes: cut(before.historyBytes, after.historyBytes),
  };
}
