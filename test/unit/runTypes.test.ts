import { knownRunType, rememberRunType, rememberingStarts, RUN_TYPES_REMEMBERED } from '../../src/temporal/runTypes';

test('only a signalWithStart whose response says it started the run is remembered, with the requested type', async () => {
  const responses = [
    { runId: 'run-started', started: true },
    { runId: 'run-existing', started: false },
    { runId: 'run-old-server' },
  ];
  const service = {
    calls: 0,
    async signalWithStartWorkflowExecution(_req: unknown) {
      return responses[this.calls++]!;
    },
    async describeWorkflowExecution() {
      return { thisIsBound: this === service };
    },
  };
  const observed = rememberingStarts(service);
  for (const _ of responses) await observed.signalWithStartWorkflowExecution({ workflowType: { name: 'journey' } });
  expect(knownRunType('run-started')).toBe('journey');
  expect(knownRunType('run-existing')).toBeUndefined();
  expect(knownRunType('run-old-server')).toBeUndefined();
  // Every other method is the service's own, called on it.
  expect(await observed.describeWorkflowExecution()).toEqual({ thisIsBound: true });
});

test('the memory is bounded and forgets the least recently remembered run first', () => {
  rememberRunType('oldest', 'a');
  rememberRunType('kept', 'b');
  for (let i = 0; i < RUN_TYPES_REMEMBERED - 1; i++) rememberRunType(`filler-${i}`, 'c');
  expect(knownRunType('oldest')).toBeUndefined();
  expect(knownRunType('kept')).toBe('b');
});
