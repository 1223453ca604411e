/**
 * The bench's spool section: the receiver's ack path with the intake spool on (a throwaway
 * PostgreSQL, as test/e2e/faults/spool.test.ts starts one), Temporal up (the direct path: the delivery
 * goes straight to Temporal) and Temporal down (the dev server SIGKILLed: every delivery is spooled
 * after its signalWithStart fails), then the drain once Temporal is back, at the default
 * SPOOL_DRAIN_PER_SECOND and at a high one. `npm run bench` calls it; alone:
 * `tsx bench/spool.ts [--quick]` (JSON to bench/results/<time>-spool.json; run `npm run build` first).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'pg';
import { delivery } from '../src/simulator/fixtures';
import { SPOOL_TABLE } from '../src/spool/store';
import { ensure } from '../dev/cluster';
import { startPostgres } from '../dev/postgres';
import { loadReceiverConfig } from '../src/config/receiver';
import { BENCH_CODEC_KEYS as CODEC_KEYS, BENCH_KEY as KEY, load, poster, type Latencies } from './load';
import { drain, startStack, type Stack } from './stack';

/** What an outage costs each delivery before it is spooled: set here, so the figures say what they depend on. */
const ACK_TIMEOUT_MS = 2_000;
/** The "high setting": well past what one receiver and this dev server can signal, so Temporal is the limit. */
const HIGH_DRAIN_PER_SECOND = 1_000;
const CONCURRENCIES = [16, 64];
const WARM_UP = 32;

type DrainRate = {
  /** SPOOL_DRAIN_PER_SECOND of the one receiver draining. */
  drainPerSecond: number;
  rows: number;
  /** From the dev server serving again to the spool empty. */
  secondsFromTemporalBack: number;
  /** Rows over the time between the first row gone and the last. */
  rowsPerSecond: number;
};

export interface SpoolBenchResult {
  ackTimeoutMs: number;
  warmUp: number;
  /** By concurrency: the receiver's acks with Temporal up (straight to Temporal) and down (spooled). */
  ackPath: Record<string, { temporal: Latencies; spooling?: Latencies }>;
  drain: DrainRate[];
}

/** The section's lines for the bench's summary. */
export function spoolSummary(result: SpoolBenchResult): string[] {
  return [
    ...Object.entries(result.ackPath).map(
      ([c, r]) =>
        `  c=${c.padStart(2)} Temporal up ${r.temporal.throughput}/s p99 ${r.temporal.p99} ms  Temporal down (spooled) ${r.spooling?.throughput}/s p99 ${r.spooling?.p99} ms`,
    ),
    ...result.drain.map(
      (d) =>
        `  drain at SPOOL_DRAIN_PER_SECOND ${d.drainPerSecond}: ${d.rows} rows, ${d.rowsPerSecond} rows/s, empty ${d.secondsFromTemporalBack} s after Temporal was back`,
    ),
  ];
}

export async function spoolBench(options: { quick: boolean }): Promise<SpoolBenchResult> {
  const size = options.quick
    ? { temporal: 400, spooling: 160, high: 400 }
    : { temporal: 2_000, spooling: 640, high: 2_000 };
  const work = mkdtempSync(resolve(tmpdir(), 'begini-bench-spool-'));
  const postgres = await startPostgres(ensure('ensure-postgres', 'PostgreSQL'), work);
  const db = new Pool({ connectionString: postgres.url });
  let stack: Stack | undefined;
  try {
    stack = await startStack('sqlite', {
      SPOOL_DATABASE_URL: postgres.url,
      TEMPORAL_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
    });
    const depth = async () =>
      Number((await db.query(`SELECT count(*) AS n FROM ${SPOOL_TABLE} WHERE dead_at IS NULL`)).rows[0].n);
    const cell = async (prefix: string, concurrency: number, count: number): Promise<Latencies> => {
      const post = poster([stack!.receiverUrl], concurrency);
      const bodies = Array.from({ length: WARM_UP + count }, (_, i) =>
        JSON.stringify(delivery('application.complete', `${prefix}${i}`)),
      );
      await load(WARM_UP, concurrency, (i) => post(bodies[i]!));
      return load(count, concurrency, (i) => post(bodies[WARM_UP + i]!));
    };
    const ackPath: SpoolBenchResult['ackPath'] = {};
    for (const c of CONCURRENCIES) {
      const temporal = await cell(`S-t-${c}-`, c, size.temporal);
      // The next cell starts with an idle worker, as in the ack-path section.
      await drain(stack, `S-t-${c}-`, WARM_UP + size.temporal - temporal.failures);
      ackPath[String(c)] = { temporal };
      console.log(`  spool c=${c} Temporal up   ${temporal.throughput}/s p50 ${temporal.p50} p99 ${temporal.p99} ms`);
    }
    await stack.killServer();
    for (const c of CONCURRENCIES) {
      const spooling = await cell(`S-s-${c}-`, c, size.spooling);
      ackPath[String(c)]!.spooling = spooling;
      console.log(
        `  spool c=${c} Temporal down ${spooling.throughput}/s p50 ${spooling.p50} p99 ${spooling.p99} ms${spooling.failures ? ` (${spooling.failures} not 200)` : ''}`,
      );
    }
    const measureDrain = async (drainPerSecond: number): Promise<DrainRate> => {
      const rows = await depth();
      await stack!.startServer();
      const back = Date.now();
      let firstGone = 0;
      let left = rows;
      for (;;) {
        const now = await depth();
        if (now < rows && !firstGone) [firstGone, left] = [Date.now(), now];
        if (now === 0 || Date.now() - back > 600_000) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const end = Date.now();
      const rate: DrainRate = {
        drainPerSecond,
        rows,
        secondsFromTemporalBack: Number(((end - back) / 1000).toFixed(1)),
        rowsPerSecond: Number((left / Math.max((end - firstGone) / 1000, 0.1)).toFixed(1)),
      };
      console.log(
        `  spool drain (SPOOL_DRAIN_PER_SECOND ${drainPerSecond}): ${rows} rows in ${rate.secondsFromTemporalBack} s from Temporal back, ${rate.rowsPerSecond} rows/s while draining`,
      );
      return rate;
    };
    // The receiver runs with the default setting: read it as the receiver reads it.
    const configured = loadReceiverConfig({
      BEGINI_API_KEY: KEY,
      PAYLOAD_CODEC_KEYS: CODEC_KEYS,
      SPOOL_DATABASE_URL: postgres.url,
    }).spool!.drainPerSecond;
    const drainAtDefault = await measureDrain(configured);
    // The high setting: a backlog spooled again, drained by a receiver configured to go fast.
    await stack.killServer();
    await stack.restartReceiver({ SPOOL_DRAIN_PER_SECOND: String(HIGH_DRAIN_PER_SECOND) });
    const post = poster([stack.receiverUrl], 64);
    await load(size.high, 64, (i) => post(JSON.stringify(delivery('application.complete', `S-h-${i}`))));
    const drainAtHigh = await measureDrain(HIGH_DRAIN_PER_SECOND);
    return {
      ackTimeoutMs: ACK_TIMEOUT_MS,
      warmUp: WARM_UP,
      ackPath,
      drain: [drainAtDefault, drainAtHigh],
    };
  } finally {
    await stack?.stop();
    await db.end();
    await postgres.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
  spoolBench({ quick: values.quick! }).then(
    (result) => {
      const file = resolve(__dirname, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}-spool.json`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify({ mode: values.quick ? 'quick' : 'full', spool: result }, null, 2)}\n`);
      console.log(`${spoolSummary(result).join('\n')}\nwrote ${file}`);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
