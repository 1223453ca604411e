/** Bulk operator actions go one at a time, at most `perSecond`, so a redrive of hundreds never floods the LOS. */
export async function paced<T, R>(
  items: readonly T[],
  perSecond: number,
  act: (item: T, index: number) => Promise<R>,
  onEach: (result: R, index: number) => void = () => {},
): Promise<R[]> {
  const gapMs = 1_000 / perSecond;
  const results: R[] = [];
  let next = Date.now();
  for (const [index, item] of items.entries()) {
    const wait = next - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    next = Math.max(next, Date.now()) + gapMs;
    const result = await act(item, index);
    results.push(result);
    onEach(result, index);
  }
  return results;
}
