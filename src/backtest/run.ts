/** Reads, re-evaluates and writes the report: what `npm run backtest` does, callable from tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { loadPolicy } from '../../activities/policy';
import { payloadCodec } from '../codec/payloadCodec';
import type { WorkerConfig } from '../config/worker';
import { UsageError } from '../failures';
import { keyUidRefs } from '../logger';
import { connectClient, type TemporalSettings } from '../temporal/connection';
import { backtest, type BacktestReport } from './compare';
import { readOutcomesFile } from './outcomes';
import { readDecidedJourneys, type ReadResult } from './read';
import { renderHtml } from './report';

export interface BacktestOptions {
  policyFile: string;
  query?: string;
  since?: Date;
  limit: number;
  /** Histories fetched at once. */
  concurrency: number;
  /** Checkpoint file (`--resume`): continued from when it exists, written after every page. */
  resume?: string;
  /** The outcomes file (`--outcomes`) and the days past due from which a loan is bad. */
  outcomes?: { file: string; badDpd?: number };
  outDir: string;
  /** The deployment's codec keys (and plaintext allowance), as the worker has them. */
  codec: Pick<WorkerConfig, 'codecKeys' | 'acceptPlaintextUntil'>;
  temporal: TemporalSettings;
}

export interface BacktestOutcome {
  report: BacktestReport;
  skipped: number;
  truncated: boolean;
  pace: ReadResult['pace'];
  files: { html: string; json: string };
}

export async function runBacktest(options: BacktestOptions): Promise<BacktestOutcome> {
  // The candidate is validated by the worker's own schema before anything is read.
  const candidate = loadPolicy(options.policyFile);
  keyUidRefs(options.codec.codecKeys);
  // The outcomes file too is checked in full before Temporal is asked anything.
  const outcomes = options.outcomes && readOutcomesFile(options.outcomes.file, options.outcomes.badDpd);
  if (outcomes && outcomes.label === 'defaulted' && options.outcomes?.badDpd !== undefined)
    throw new UsageError(`--bad-dpd applies to a days_past_due column; ${options.outcomes.file} has defaulted`);
  const codec = payloadCodec(options.codec);
  const connection = await connectClient(options.temporal, 5_000);
  try {
    const client = new Client({ connection, namespace: options.temporal.namespace });
    const read = await readDecidedJourneys({
      client,
      codec,
      query: options.query,
      since: options.since,
      limit: options.limit,
      concurrency: options.concurrency,
      resume: options.resume,
    });
    const report = backtest(read.decisions, candidate, { filter: read.filter, outcomes });
    mkdirSync(options.outDir, { recursive: true });
    const files = { html: resolve(options.outDir, 'report.html'), json: resolve(options.outDir, 'report.json') };
    writeFileSync(
      files.json,
      `${JSON.stringify({ ...report, skipped: read.skipped, truncated: read.truncated, pace: read.pace }, null, 2)}\n`,
    );
    writeFileSync(files.html, renderHtml(report));
    return { report, skipped: read.skipped, truncated: read.truncated, pace: read.pace, files };
  } finally {
    await connection.close();
  }
}
