/**
 * Wraps an expensive read so that callers within `ttlMs` of the last answer share it, and
 * concurrent callers share one call in flight: unauthenticated or frequent callers (probes,
 * scrapes) then cost Temporal a bounded rate of calls, however often they ask.
 */
export function cached<T>(ttlMs: number, read: () => Promise<T>): () => Promise<T> {
  let last: { value: T; at: number } | undefined;
  let pending: Promise<T> | undefined;
  return () => {
    if (last && Date.now() - last.at < ttlMs) return Promise.resolve(last.value);
    pending ??= read()
      .then((value) => {
        last = { value, at: Date.now() };
        return value;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}
