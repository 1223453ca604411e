import http from 'node:http';
import { sign } from '../src/begini/verifier';
import { delivery } from '../src/simulator/fixtures';

/** The Begini API key every bench stack is configured with. */
export const BENCH_KEY = 'bench-begini-api-key-3c9f1a';
/** The payload codec key every bench stack encrypts with. */
export const BENCH_CODEC_KEYS = `bench:${Buffer.alloc(32, 3).toString('base64')}`;
/** The journey settings of the bench's deployment, as a deployment's defaults would give them. */
export const BENCH_JOURNEY_SETTINGS = {
  requiredScores: ['psychometric'],
  scoreGraceMs: 900_000,
  expiryMs: 172_800_000,
  settleMs: 2_592_000_000,
  handoffRetryInitialMs: 1_000,
};

/** Closed-loop load with a fixed number of calls in flight, and its latency summary (ms). */
export interface Latencies {
  requests: number;
  seconds: number;
  throughput: number;
  p50: number;
  p95: number;
  p99: number;
  failures: number;
}

export function summarise(samples: number[], seconds: number, failures: number): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN).toFixed(2));
  return {
    requests: samples.length,
    seconds: Number(seconds.toFixed(2)),
    throughput: Number((samples.length / seconds).toFixed(1)),
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    failures,
  };
}

/** Runs `count` calls of `call(i)` with `concurrency` in flight; latency in ms per call. */
export async function load(
  count: number,
  concurrency: number,
  call: (i: number) => Promise<boolean>,
): Promise<Latencies> {
  const samples: number[] = [];
  let failures = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = process.hrtime.bigint();
        const ok = await call(i).catch(() => false);
        samples.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (!ok) failures++;
      }
    }),
  );
  return summarise(samples, Number(process.hrtime.bigint() - started) / 1e9, failures);
}

/** Posts deliveries signed with the bench's key, round-robin over `urls`; true on a 200. */
export function poster(urls: string[], concurrency: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency * urls.length });
  let next = 0;
  return (body: string) =>
    new Promise<boolean>((resolvePost) => {
      const req = http.request(
        urls[next++ % urls.length]!,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'x-signature': sign(body, BENCH_KEY),
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolvePost(res.statusCode === 200));
        },
      );
      req.on('error', () => resolvePost(false));
      req.end(body);
    });
}

/** Each uid's application, then its psychometric score, 32 journeys in flight; when each score was sent. */
export async function sendScoredJourneys(
  post: (body: string) => Promise<boolean>,
  uids: string[],
): Promise<Map<string, number>> {
  const scoreSentAt = new Map<string, number>();
  await load(uids.length, 32, async (i) => {
    const uid = uids[i]!;
    await post(JSON.stringify(delivery('application.complete', uid)));
    scoreSentAt.set(uid, Date.now());
    return post(JSON.stringify(delivery('psychometric_score.complete', uid)));
  });
  return scoreSentAt;
}
