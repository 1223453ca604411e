/**
 * `fn` over every item with at most `concurrency` calls in flight; the results in the items' order.
 * The backtest's history reads: one at a time is far too slow for 10,000 journeys, all at once
 * would hand Temporal's frontend thousands of concurrent reads.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  return results;
}
