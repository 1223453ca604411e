/**
 * Bounds what one applicant uid can write into its journey's history per unit of time. Every
 * accepted delivery is a signal, and so a history event, in that uid's workflow; a captured signed
 * delivery replayed thousands of times would otherwise grow the history past the server's limit and
 * get the journey terminated. Begini sends a handful of events per uid and retries a 429 later.
 *
 * A fixed window per uid, held in a bounded LRU: an attacker with a valid key chooses uids, so the
 * memory is capped at `maxTracked` windows. Evicting a uid's window only ever gives it a fresh one
 * (at most `limit` more deliveries), after `maxTracked` other uids were seen in between.
 * Per receiver process: N receivers let N × `limit` through per window.
 */
import { LRUCache } from 'lru-cache';

export interface UidRateLimitSettings {
  /** Deliveries accepted per uid per window. */
  limit: number;
  windowMs: number;
  /** How many uids' windows are remembered at once. */
  maxTracked: number;
}

export type UidAdmission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

export interface UidRateLimiter {
  admit(uid: string): UidAdmission;
}

export function uidRateLimiter(settings: UidRateLimitSettings, now: () => number = performance.now.bind(performance)) {
  const windows = new LRUCache<string, { count: number }>({
    max: settings.maxTracked,
    ttl: settings.windowMs,
    // Counting mutates the entry in place and get() leaves its age alone, so a window starts at
    // the uid's first delivery and does not slide with later ones.
    updateAgeOnGet: false,
    // Expired windows go when next read or pushed out, never by timers of their own.
    ttlAutopurge: false,
    // Read the clock on every call (the default caches it for 1 ms), so a test's clock is exact.
    ttlResolution: 0,
    perf: { now },
  });
  return {
    admit(uid: string): UidAdmission {
      const window = windows.get(uid);
      if (!window) {
        windows.set(uid, { count: 1 });
        return { admitted: true };
      }
      if (window.count < settings.limit) {
        window.count++;
        return { admitted: true };
      }
      return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil(windows.getRemainingTTL(uid) / 1000)) };
    },
  } satisfies UidRateLimiter;
}
