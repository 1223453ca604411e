/** The receiver's visibility gauges: however often Prometheus (or anyone) scrapes, Temporal is asked boundedly. */
import { createReceiverMetrics } from '../../src/receiver/metrics';

test('scrapes within the refresh period share one round of visibility counts', async () => {
  const calls: string[] = [];
  const metrics = createReceiverMetrics({
    count: async (namespace, query) => {
      calls.push(`${namespace}:${query}`);
      return 2;
    },
    namespaces: ['default', 'second'],
    refreshMs: 60_000,
  });
  const scrapes = await Promise.all(Array.from({ length: 20 }, () => metrics.registry.metrics()));
  for (let i = 0; i < 5; i++) scrapes.push(await metrics.registry.metrics());
  // Three conditions in each of two namespaces, once.
  expect(calls).toHaveLength(6);
  expect(scrapes.at(-1)).toContain(
    'begini_journeys_needing_attention{namespace="second",condition="handoff_rejected"} 2',
  );
});

test('after the refresh period the counts are asked again', async () => {
  let calls = 0;
  const metrics = createReceiverMetrics({ count: async () => ++calls, namespaces: ['default'], refreshMs: 50 });
  const now = jest.spyOn(Date, 'now');
  try {
    now.mockReturnValue(1_000_000);
    await metrics.registry.metrics();
    now.mockReturnValue(1_000_049);
    await metrics.registry.metrics();
    expect(calls).toBe(3);
    now.mockReturnValue(1_000_050);
    await metrics.registry.metrics();
    expect(calls).toBe(6);
  } finally {
    now.mockRestore();
  }
});
