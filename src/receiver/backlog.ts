/**
 * Admission by backlog: a flood of new applications must not starve decisions.
 *
 * A namespace's journeys share one task queue, and its workflow tasks are served first in, first
 * out. Each new journey's first task waits behind every task already waiting, so 10,000 new
 * applications arriving faster than the workers start them would put a scored applicant's decision
 * behind all of them (BENCHMARKS.md measured 121.8 s at p99).
 *
 * The oldest waiting workflow task's age tells how far behind the workers are. While it is over
 * `WEBHOOK_DEFER_BACKLOG` and a worker is polling, an `application.complete` waits outside Temporal:
 * in the spool if it is on (200, drained once the backlog is under the bound again), else 503 and
 * Begini retries it. Only that event: it marks the application complete and never triggers a
 * decision, nor changes one whichever order it arrives in (workflows/journeyState.ts), so a journey
 * started by its score decides the same without it. Scores, cancellations and everything else go
 * straight in. With no worker polling, nothing is deferred: the workers are down, not behind, and
 * Temporal holding the event is better than Begini's retries.
 *
 * One read per namespace per READ_EVERY_MS, shared by every delivery and the drainer, and never
 * waited for: a delivery is judged by the last read. A read that fails counts as no backlog: if
 * Temporal is down, the delivery's own call fails and takes the outage path.
 */
import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { optionalTsToMs } from '@temporalio/common/lib/time';

const READ_EVERY_MS = 500;
const READ_TIMEOUT_MS = 1_000;

/** True while the namespace's journeys are behind by more than the bound. */
export type Backlogged = (namespace: string) => Promise<boolean>;

/**
 * A journey its score starts (its application deferred, or late) has its tasks served ahead of the
 * waiting ones of lower priority, on a server whose matcher honours priority (Temporal's
 * `matching.useNewMatcher`). Neither the dev server here nor deploy/temporal enables it: elsewhere
 * the field is ignored and the deferral alone bounds the backlog a score waits behind.
 * 1 is the highest; unset is the default, 3.
 */
export const SCORE_START_PRIORITY = { priorityKey: 1 } as const;

/** The one event that waits while the journeys are behind (why: above). */
export const isDeferrable = (eventType: string) => eventType === 'application.complete';

export function backlogGate(
  connection: Pick<ConnectionLike, 'workflowService' | 'withDeadline'>,
  taskQueue: string,
  boundMs: number,
  /** Each age read, for the metrics. */
  onRead: (namespace: string, ageMs: number) => void = () => {},
): Backlogged {
  const read = async (namespace: string): Promise<boolean> => {
    try {
      const { stats, pollers } = await connection.withDeadline(Date.now() + READ_TIMEOUT_MS, () =>
        connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
          reportStats: true,
        }),
      );
      const age = optionalTsToMs(stats?.approximateBacklogAge) ?? 0;
      onRead(namespace, age);
      return age > boundMs && (pollers?.length ?? 0) > 0;
    } catch {
      return false;
    }
  };
  // Never awaited by a delivery: it is answered by the last read, and a stale one starts the next.
  // A delivery must not wait on a read (Temporal down, the read would cost it its ack timeout).
  const state = new Map<string, { behind: boolean; at: number; reading?: Promise<void> }>();
  return async (namespace) => {
    let entry = state.get(namespace);
    if (!entry) state.set(namespace, (entry = { behind: false, at: -Infinity }));
    const current = entry;
    if (!current.reading && Date.now() - current.at >= READ_EVERY_MS) {
      current.reading = read(namespace).then((behind) => {
        current.behind = behind;
        current.at = Date.now();
        current.reading = undefined;
      });
    }
    return current.behind;
  };
}
