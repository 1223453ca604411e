/**
 * The receiver learns a run's type from its own signalWithStart when that call started the run, so
 * a new applicant's first delivery costs one call to Temporal, not a signalWithStart and a describe;
 * a run it did not start stays unknown (and is described), so an open after-close recorder is never
 * mistaken for a journey.
 */
import { Client, Connection } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { LazyNativeConnection, temporalSettings } from '../../src/temporal/connection';
import { knownRunType } from '../../src/temporal/runTypes';

const address = process.env.TEST_TEMPORAL_ADDRESS!;
const taskQueue = `run-types-${process.pid}`;
let lazy: LazyNativeConnection;
let plain: Connection;
let viaLazy: Client;
let viaPlain: Client;

beforeAll(async () => {
  lazy = new LazyNativeConnection(temporalSettings({ TEMPORAL_ADDRESS: address }));
  plain = await Connection.connect({ address });
  viaLazy = new Client({ connection: lazy });
  viaPlain = new Client({ connection: plain });
});
afterAll(async () => {
  await lazy.close();
  await plain.close();
});

const signalWithStart = (client: Client, type: string, workflowId: string) =>
  client.workflow.signalWithStart(type, {
    taskQueue,
    workflowId,
    signal: 'poke',
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });

async function terminate(workflowId: string): Promise<void> {
  await viaPlain.workflow.getHandle(workflowId).terminate('test done');
}

test('a run its signalWithStart started is known with the type it started, from the first call', async () => {
  const workflowId = `started-${randomUUID()}`;
  // The first call through a lazy connection connects it: that call must be remembered too.
  const { signaledRunId } = await signalWithStart(viaLazy, 'someType', workflowId);
  expect(knownRunType(signaledRunId)).toBe('someType');
  // Signalled again (not started): still the same, known run.
  expect((await signalWithStart(viaLazy, 'otherType', workflowId)).signaledRunId).toBe(signaledRunId);
  expect(knownRunType(signaledRunId)).toBe('someType');
  await terminate(workflowId);
});

test('a run started elsewhere and only signalled here stays unknown, whatever type the call named', async () => {
  const workflowId = `elsewhere-${randomUUID()}`;
  const started = await viaPlain.workflow.start('recorderType', { taskQueue, workflowId });
  const { signaledRunId } = await signalWithStart(viaLazy, 'journeyType', workflowId);
  expect(signaledRunId).toBe(started.firstExecutionRunId);
  expect(knownRunType(signaledRunId)).toBeUndefined();
  await terminate(workflowId);
});
