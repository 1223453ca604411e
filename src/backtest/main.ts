/**
 * `npm run backtest -- --policy candidate.yaml [--query '<list filter>'] [--since 30d|2026-11-01] [--limit N]
 *   [--outcomes FILE [--bad-dpd N]] [--concurrency N] [--resume FILE] [--out DIR]`
 * What a candidate policy would have decided for the journeys already decided, and with the loans'
 * outcomes how the loans it approves performed. Changes nothing.
 */
import { parseArgs } from 'node:util';
import { loadWorkerConfig } from '../config/worker';
import { durationSchema } from '../duration';
import { UsageError } from '../failures';
import { runMain } from '../startup';
import { temporalSettings } from '../temporal/connection';
import { refusedByTemporal } from '../temporal/errors';
import { DEFAULT_BAD_DPD } from './outcomes';
import { DEFAULT_CONCURRENCY } from './read';
import { renderText } from './report';
import { runBacktest } from './run';

const MAX_LIMIT = 100_000;
const MAX_CONCURRENCY = 256;

const usage = `usage: npm run backtest -- --policy FILE [options]

  --policy FILE     the candidate policy (YAML, the worker's POLICY_FILE format)
  --query FILTER    a Temporal list filter to narrow the journeys, e.g. "BeginiRiskBand = 'C'"
  --since WHEN      journeys started since a date (2026-11-01) or for a duration back (30d)
  --limit N         read at most N journeys (default 10000, at most ${MAX_LIMIT})
  --outcomes FILE   CSV of the loans' outcomes: a uid or uidRef column and a defaulted (true/false)
                    or days_past_due column; adds approval and bad rates per policy to the report
  --bad-dpd N       with days_past_due: a loan N or more days past due is bad (default ${DEFAULT_BAD_DPD})
  --concurrency N   histories read at once (default ${DEFAULT_CONCURRENCY}, at most ${MAX_CONCURRENCY})
  --resume FILE     checkpoint after every page of journeys to FILE, and continue from it when it exists
  --out DIR         where report.html and report.json go (default backtest-report)

Temporal from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (or a profile), payloads decrypted with
PAYLOAD_CODEC_KEYS, as the worker does.`;

/** A wrong command line: the problem, then how to call it. */
function usageError(problem: string): UsageError {
  return new UsageError(`${problem}\n\n${usage}`);
}

/** A whole number from 1 to `max`, or a usage error naming the option. */
function wholeNumber(option: string, value: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max)
    throw usageError(`--${option}: expected a whole number from 1 to ${max}, got "${value}"`);
  return n;
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
        outcomes: { type: 'string' },
        'bad-dpd': { type: 'string' },
        concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
        resume: { type: 'string' },
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
  const limit = wholeNumber('limit', values.limit, MAX_LIMIT);
  const concurrency = wholeNumber('concurrency', values.concurrency, MAX_CONCURRENCY);
  const badDpd = values['bad-dpd'] === undefined ? undefined : wholeNumber('bad-dpd', values['bad-dpd'], 100_000);
  if (badDpd !== undefined && !values.outcomes) throw usageError('--bad-dpd needs --outcomes');
  const since = parseSince(values.since);
  const config = loadWorkerConfig(process.env);
  try {
    const outcome = await runBacktest({
      policyFile: values.policy,
      query: values.query,
      since,
      limit,
      concurrency,
      resume: values.resume,
      outcomes: values.outcomes ? { file: values.outcomes, badDpd } : undefined,
      outDir: values.out,
      codec: config,
      temporal: temporalSettings(),
    });
    console.log(renderText(outcome.report));
    if (outcome.skipped)
      console.log(`${outcome.skipped} listed runs held no policy evaluation (continued as new after deciding).`);
    if (outcome.truncated)
      console.log(`More journeys matched than --limit ${limit}: narrow the filter or raise the limit.`);
    const { pace } = outcome;
    console.log(
      `\nRead ${pace.journeys} journeys in ${pace.seconds.toFixed(1)} s (${pace.journeysPerSecond ?? 'n/a'} journeys/s, concurrency ${pace.concurrency}${pace.resumed ? ', after those the checkpoint held' : ''}).`,
    );
    console.log(`\nReport: ${outcome.files.html}\n        ${outcome.files.json}`);
  } catch (err) {
    // Temporal refuses a malformed list filter: the operator's to fix.
    const refused = refusedByTemporal(err);
    if (refused !== null) throw new UsageError(`--query: Temporal refused the filter: ${refused.split('\n')[0]}`);
    throw err;
  }
}

runMain('backtest', main);
