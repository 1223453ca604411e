/**
 * `npm run backtest -- --policy candidate.yaml [--query '<list filter>'] [--since 30d|2026-11-01] [--limit N] [--out DIR]`
 * What a candidate policy would have decided for the journeys already decided. Changes nothing.
 */
import { parseArgs } from 'node:util';
import { loadWorkerConfig } from '../config/worker';
import { durationSchema } from '../duration';
import { UsageError } from '../failures';
import { runMain } from '../startup';
import { temporalSettings } from '../temporal/connection';
import { refusedByTemporal } from '../temporal/errors';
import { renderText } from './report';
import { runBacktest } from './run';

const MAX_LIMIT = 100_000;

const usage = `usage: npm run backtest -- --policy FILE [options]

  --policy FILE     the candidate policy (YAML, the worker's POLICY_FILE format)
  --query FILTER    a Temporal list filter to narrow the journeys, e.g. "BeginiRiskBand = 'C'"
  --since WHEN      journeys started since a date (2026-11-01) or for a duration back (30d)
  --limit N         read at most N journeys (default 10000, at most ${MAX_LIMIT})
  --out DIR         where report.html and report.json go (default backtest-report)

Temporal from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (or a profile), payloads decrypted with
PAYLOAD_CODEC_KEYS, as the worker does.`;

/** A wrong command line: the problem, then how to call it. */
function usageError(problem: string): UsageError {
  return new UsageError(`${problem}\n\n${usage}`);
}

function parseSince(value: string | undefined, now = Date.now()): Date | undefined {
  if (value === undefined) return undefined;
  const duration = durationSchema.safeParse(value);
  if (duration.success) return new Date(now - duration.data);
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()))
    throw usageError(`--since: expected a date (2026-11-01) or a duration (30d), got "${value}"`);
  return date;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        policy: { type: 'string' },
        query: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string', default: '10000' },
        out: { type: 'string', default: 'backtest-report' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw usageError((err as Error).message);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  if (!values.policy) throw usageError('--policy is required');
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw usageError(`--limit: expected a whole number from 1 to ${MAX_LIMIT}, got "${values.limit}"`);
  const since = parseSince(values.since);
  const config = loadWorkerConfig(process.env);
  try {
    const outcome = await runBacktest({
      policyFile: values.policy,
      query: values.query,
      since,
      limit,
      outDir: values.out,
      codec: config,
      temporal: temporalSettings(),
    });
    console.log(renderText(outcome.report));
    if (outcome.skipped)
      console.log(`${outcome.skipped} listed runs held no policy evaluation (continued as new after deciding).`);
    if (outcome.truncated)
      console.log(`More journeys matched than --limit ${limit}: narrow the filter or raise the limit.`);
    console.log(`\nReport: ${outcome.files.html}\n        ${outcome.files.json}`);
  } catch (err) {
    // Temporal refuses a malformed list filter: the operator's to fix.
    const refused = refusedByTemporal(err);
    if (refused !== null) throw new UsageError(`--query: Temporal refused the filter: ${refused.split('\n')[0]}`);
    throw err;
  }
}

runMain('backtest', main);
