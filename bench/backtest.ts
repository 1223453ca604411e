/**
 * How fast `npm run backtest` reads decided journeys (issue 24, item 4). Records `--journeys`
 * decided journeys into an in-memory dev server (each one psychometric score, sent as the receiver
 * sends it, with signalWithStart, and decided by the real worker under the shipped policy), then
 * times the backtest over them, with an outcomes file, at concurrency 1 (on the first `--serial`
 * journeys: one at a time, all of them would take many minutes) and at the default concurrency.
 * Not part of `npm run bench`: `npx tsx bench/backtest.ts [--journeys 10000] [--serial 1000]
 * [--concurrencies 1,16] [--store memory|sqlite]`,
 * JSON to bench/results/<time>-backtest.json.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCodecKeys } from '../src/codec/aesGcm';
import { DEFAULT_CONCURRENCY } from '../src/backtest/read';
import { runBacktest } from '../src/backtest/run';
import { delivery } from '../src/simulator/fixtures';
import { temporalSettings } from '../src/temporal/connection';
import { directDelivery } from './deliveries';
import { BENCH_CODEC_KEYS, load } from './load';
import { describeMachine } from './machine';
import { runScript, writeResult } from './script';
import { buildEntryPoints, withStack, type Stack } from './stack';

const CANDIDATE = resolve(__dirname, '..', 'test', 'fixtures', 'backtest', 'candidate-policy.yaml');
const BANDS = ['A', 'B', 'C', 'D', 'E', 'F'];
/** Journeys signalled at once while recording. */
const RECORDING_CONCURRENCY = 64;

/** A score per journey, bands and scores spread so the candidate changes some of the decisions. */
const scoreBody = (uid: string, i: number) =>
  JSON.stringify(
    delivery('psychometric_score.complete', uid, {
      details: { calculated: { risk_band: BANDS[i % BANDS.length], score: 20 + (i % 50), score_confidence: 'HIGH' } },
    }),
  );

async function record(stack: Stack, prefix: string, journeys: number) {
  const send = directDelivery(stack.client, 'bench');
  const started = performance.now();
  const sent = await load(journeys, RECORDING_CONCURRENCY, (i) => send(scoreBody(`${prefix}${i}`, i)));
  if (sent.failures) throw new Error(`${sent.failures} deliveries failed`);
  const decided = `WorkflowId STARTS_WITH '${prefix}' AND BeginiDecision IN ('APPROVE', 'DECLINE', 'REFER')`;
  for (;;) {
    const count = Number((await stack.client.workflow.count(decided)).count);
    process.stderr.write(`\rdecided ${count}/${journeys} `);
    if (count >= journeys) break;
    if (performance.now() - started > 1_800_000) throw new Error(`only ${count} of ${journeys} decided in 30 minutes`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
  process.stderr.write('\n');
  return { sendSeconds: sent.seconds, decidedSeconds: Number(((performance.now() - started) / 1000).toFixed(1)) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      journeys: { type: 'string', default: '10000' },
      serial: { type: 'string', default: '1000' },
      // The order the runs go in: alternating shows whether the order (a warmer server) moves the figures.
      concurrencies: { type: 'string', default: `1,${DEFAULT_CONCURRENCY}` },
      store: { type: 'string', default: 'memory' },
    },
  });
  const concurrencies = values.concurrencies.split(',').map(Number);
  const store = values.store === 'sqlite' ? 'sqlite' : 'memory';
  const journeys = Number(values.journeys);
  const serial = Math.min(journeys, Number(values.serial));
  const work = mkdtempSync(resolve(tmpdir(), 'bench-backtest-'));
  buildEntryPoints();
  try {
    const report = await withStack(store, {}, async (stack) => {
      const prefix = `BT-${Date.now()}-`;
      console.log(`recording ${journeys} decided journeys …`);
      const recording = await record(stack, prefix, journeys);
      console.log(`recorded in ${recording.decidedSeconds} s`);
      // Every other journey has a known outcome, every third of those went bad.
      const outcomes = resolve(work, 'outcomes.csv');
      const rows = Array.from({ length: journeys }, (_, i) => i)
        .filter((i) => i % 2 === 0)
        .map((i) => `${prefix}${i},${i % 3 === 0}`);
      writeFileSync(outcomes, `uid,defaulted\n${rows.join('\n')}\n`);
      const run = async (concurrency: number, limit: number) => {
        const started = performance.now();
        const cpu = process.cpuUsage();
        const outcome = await runBacktest({
          policyFile: CANDIDATE,
          query: `WorkflowId STARTS_WITH '${prefix}'`,
          limit,
          concurrency,
          outcomes: { file: outcomes },
          outDir: resolve(work, `c${concurrency}`),
          codec: { codecKeys: parseCodecKeys(BENCH_CODEC_KEYS), acceptPlaintextUntil: null },
          temporal: temporalSettings({ TEMPORAL_ADDRESS: stack.server.address, TEMPORAL_NAMESPACE: 'default' }),
        });
        const wall = (performance.now() - started) / 1000;
        // The backtest runs in this process: its CPU per journey says whether one core is the ceiling.
        const used = process.cpuUsage(cpu);
        const cpuMsPerJourney = Number(((used.user + used.system) / 1000 / limit).toFixed(2));
        const cpuShare = Number(((used.user + used.system) / 1e6 / wall).toFixed(2));
        if (outcome.report.journeys !== limit) throw new Error(`read ${outcome.report.journeys} of ${limit}`);
        console.log(
          `concurrency ${concurrency}: ${outcome.report.journeys} journeys in ${wall.toFixed(1)} s wall, ${outcome.pace.journeysPerSecond} journeys/s reading, ${cpuMsPerJourney} ms CPU per journey (${cpuShare} of a core)`,
        );
        return {
          concurrency,
          journeys: outcome.report.journeys,
          wallSeconds: Number(wall.toFixed(2)),
          cpuMsPerJourney,
          cpuShare,
          pace: outcome.pace,
        };
      };
      const runs: Array<Awaited<ReturnType<typeof run>>> = [];
      for (const c of concurrencies) runs.push(await run(c, c === 1 ? serial : journeys));
      const best = (c: number) =>
        Math.max(...runs.filter((r) => r.concurrency === c).map((r) => r.pace.journeysPerSecond ?? 0));
      const ratio = Number((best(DEFAULT_CONCURRENCY) / best(1)).toFixed(2));
      console.log(`ratio ${ratio}× (concurrency ${DEFAULT_CONCURRENCY} over 1, best run of each)`);
      return { machine: describeMachine(), store, journeys, recording, runs, ratio };
    });
    writeResult('backtest', report);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

runScript(module, main);
