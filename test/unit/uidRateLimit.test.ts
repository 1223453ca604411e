/** The per-uid rate limit alone, on a clock the test moves. */
import { uidRateLimiter } from '../../src/receiver/uidRateLimit';

function limiterAt(settings = { limit: 3, windowMs: 10_000, maxTracked: 100 }) {
  let now = 1_000_000;
  const limiter = uidRateLimiter(settings, () => now);
  return { limiter, advance: (ms: number) => (now += ms) };
}

describe('per-uid rate limit', () => {
  test('admits `limit` deliveries per uid per window, then refuses with the seconds left', () => {
    const { limiter, advance } = limiterAt();
    expect([1, 2, 3].map(() => limiter.admit('A').admitted)).toEqual([true, true, true]);
    advance(2_500);
    expect(limiter.admit('A')).toEqual({ admitted: false, retryAfterSeconds: 8 });
    // Refusals do not extend the window, and other uids have their own.
    expect(limiter.admit('B').admitted).toBe(true);
    advance(7_499);
    expect(limiter.admit('A')).toEqual({ admitted: false, retryAfterSeconds: 1 });
    advance(2);
    expect(limiter.admit('A').admitted).toBe(true);
  });

  test('a window starts at the first delivery and does not slide with later ones', () => {
    const { limiter, advance } = limiterAt({ limit: 2, windowMs: 10_000, maxTracked: 100 });
    limiter.admit('A');
    advance(9_000);
    limiter.admit('A');
    expect(limiter.admit('A').admitted).toBe(false);
    advance(1_001);
    expect(limiter.admit('A').admitted).toBe(true);
  });

  test('memory is bounded: beyond maxTracked uids the least recently seen window is forgotten', () => {
    const { limiter } = limiterAt({ limit: 1, windowMs: 60_000, maxTracked: 2 });
    limiter.admit('A');
    expect(limiter.admit('A').admitted).toBe(false);
    limiter.admit('B');
    limiter.admit('C');
    // A's window was evicted: at most one more `limit` for A, after maxTracked other uids.
    expect(limiter.admit('A').admitted).toBe(true);
    expect(limiter.admit('A').admitted).toBe(false);
  });
});
