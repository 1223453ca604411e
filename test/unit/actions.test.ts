/**
 * Billable actions counted from a history by Temporal Cloud's published rules (bench/actions.ts),
 * on small histories built here, and on the happy path recorded before issue #16.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { costOf, reduction } from '../../bench/actions';

const T = temporal.api.enums.v1.EventType;
type Event = Record<string, unknown>;

const history = (...events: Event[]) =>
  temporal.api.history.v1.History.fromObject({ events: events.map((e, i) => ({ eventId: i + 1, ...e })) });
const of = (eventType: temporal.api.enums.v1.EventType, extra: Event = {}): Event => ({ eventType, ...extra });
const upsert = (...fields: string[]) =>
  of(T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, {
    upsertWorkflowSearchAttributesEventAttributes: {
      searchAttributes: { indexedFields: Object.fromEntries(fields.map((f) => [f, { data: 'MQ==' }])) },
    },
  });
const marker = (task: number) =>
  of(T.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { workflowTaskCompletedEventId: task } });

test('signal-with-start is one action for the start and its signal; a later signal is another', () => {
  const cost = costOf(
    history(
      of(T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
      of(T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
      of(T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED),
      of(T.EVENT_TYPE_WORKFLOW_TASK_STARTED),
      of(T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
      of(T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
    ),
  );
  expect(cost.actions).toEqual({ 'workflow started': 1, signal: 1 });
  expect(cost.billableActions).toBe(2);
  expect(cost.events).toBe(6);
  expect(cost.workflowTasks).toBe(1);
});

test('every activity attempt counts; timers count when started, not when cancelled', () => {
  const cost = costOf(
    history(
      of(T.EVENT_TYPE_TIMER_STARTED),
      of(T.EVENT_TYPE_TIMER_CANCELED),
      of(T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      of(T.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { attempt: 6 } }),
      of(T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
    ),
  );
  expect(cost.actions).toEqual({ 'timer started': 1, 'activity attempt': 6 });
});

test('markers of one workflow task are one action; the patch’s TemporalChangeVersion upsert is exempt', () => {
  const cost = costOf(
    history(marker(5), upsert('TemporalChangeVersion'), marker(5), marker(5), upsert('BeginiStage'), marker(9)),
  );
  expect(cost.actions).toEqual({ 'markers (per workflow task)': 2, 'search attribute upsert': 1 });
  expect(cost.billableActions).toBe(3);
});

test('the happy path recorded before issue #16: 30 events, 12 actions (6 upserts, 2 timers, 2 activities)', () => {
  const recorded = historyFromJSON(
    JSON.parse(readFileSync(resolve(__dirname, '..', 'fixtures/histories/happy-path.json'), 'utf8')),
  );
  const cost = costOf(recorded);
  expect(cost).toMatchObject({ events: 30, workflowTasks: 4, billableActions: 12 });
  expect(cost.actions).toEqual({
    'workflow started': 1,
    signal: 1,
    'search attribute upsert': 6,
    'timer started': 2,
    'activity attempt': 2,
  });
  expect(cost.historyBytes).toBeGreaterThan(1_000);
});

test('reduction is the fraction saved per measure', () => {
  const cost = (n: number) => ({ events: n, workflowTasks: n, billableActions: n, historyBytes: n, actions: {} });
  expect(reduction(cost(30), cost(18))).toEqual({
    events: 0.4,
    workflowTasks: 0.4,
    billableActions: 0.4,
    historyBytes: 0.4,
  });
});
