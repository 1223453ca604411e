/** Awaits a condition (no fixed sleeps): polled every 100 ms, an error once `ms` has passed. */
export async function waitForAsync(condition: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition never held');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitFor(condition: () => boolean, ms = 30_000): Promise<void> {
  return waitForAsync(async () => condition(), ms);
}
