/** The backlog gate's reading of DescribeTaskQueue, against a stand-in service (the real one: test/integration/backlog.test.ts). */
import type { ConnectionLike } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { backlogGate, isDeferrable } from '../../src/receiver/backlog';

function service(
  ageByNamespace: Record<string, ReturnType<typeof msToTs> | 'down' | undefined>,
  pollers: Array<{ identity: string }> = [{ identity: 'worker-1' }],
) {
  const calls: Array<{ namespace: string; taskQueue: string; reportStats: boolean }> = [];
  const connection = {
    withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
    workflowService: {
      describeTaskQueue: async (request: { namespace: string; taskQueue: { name: string }; reportStats: boolean }) => {
        calls.push({
          namespace: request.namespace,
          taskQueue: request.taskQueue.name,
          reportStats: request.reportStats,
        });
        const age = ageByNamespace[request.namespace];
        if (age === 'down') throw new Error('14 UNAVAILABLE');
        return { stats: age ? { approximateBacklogAge: age } : {}, pollers };
      },
    },
  } as unknown as Pick<ConnectionLike, 'workflowService' | 'withDeadline'>;
  return { connection, calls };
}

/** Lets the reads the gate started finish (the stand-in answers at once). */
const readsDone = () => new Promise((r) => setImmediate(r));

test('backlogged once the oldest waiting task is older than the bound, per namespace', async () => {
  const { connection, calls } = service({
    behind: msToTs(1_200),
    keeping_up: msToTs(900),
    empty: undefined,
  });
  const reads: Array<[string, number]> = [];
  const backlogged = backlogGate(connection, 'journeys', 1_000, (namespace, ms) => reads.push([namespace, ms]));
  for (const namespace of ['behind', 'keeping_up', 'empty']) await backlogged(namespace);
  await readsDone();
  expect(await backlogged('behind')).toBe(true);
  expect(await backlogged('keeping_up')).toBe(false);
  expect(await backlogged('empty')).toBe(false);
  expect(calls.map((c) => c.taskQueue)).toEqual(['journeys', 'journeys', 'journeys']);
  expect(calls.every((c) => c.reportStats)).toBe(true);
  expect(reads).toEqual([
    ['behind', 1_200],
    ['keeping_up', 900],
    ['empty', 0],
  ]);
});

test('no delivery waits on a read: it is judged by the last one, and one read serves every delivery for half a second', async () => {
  const { connection, calls } = service({ busy: msToTs(3_000) });
  const backlogged = backlogGate(connection, 'journeys', 1_000);
  // Before any read has answered: not behind, whatever the backlog.
  const answers = await Promise.all(Array.from({ length: 50 }, () => backlogged('busy')));
  expect(answers.some(Boolean)).toBe(false);
  await readsDone();
  expect(await backlogged('busy')).toBe(true);
  expect(calls).toHaveLength(1);
});

test('a read that never answers delays no delivery', async () => {
  const connection = {
    withDeadline: () => new Promise(() => undefined),
    workflowService: {},
  } as unknown as Pick<ConnectionLike, 'workflowService' | 'withDeadline'>;
  const backlogged = backlogGate(connection, 'journeys', 1_000);
  expect(await backlogged('hung')).toBe(false);
  expect(await backlogged('hung')).toBe(false);
});

test('a read that fails counts as no backlog: the delivery takes its own path to Temporal', async () => {
  const { connection } = service({ down: 'down' });
  const backlogged = backlogGate(connection, 'journeys', 1_000);
  await backlogged('down');
  await readsDone();
  expect(await backlogged('down')).toBe(false);
});

test('with no worker polling, a backlog defers nothing: the workers are down, not behind', async () => {
  const { connection } = service({ stopped: msToTs(60_000) }, []);
  const reads: number[] = [];
  const backlogged = backlogGate(connection, 'journeys', 1_000, (_ns, ms) => reads.push(ms));
  await backlogged('stopped');
  await readsDone();
  expect(await backlogged('stopped')).toBe(false);
  expect(reads).toEqual([60_000]);
});

test('only application.complete is deferrable', () => {
  expect(isDeferrable('application.complete')).toBe(true);
  for (const type of [
    'application.cancelled',
    'application.incomplete',
    'application.expired',
    'psychometric_score.complete',
    'x_score.complete',
    'something.new',
  ])
    expect(isDeferrable(type)).toBe(false);
});
