/**
 * `npm run redrive`: hand journeys' current decisions to the LOS again, through the journey API, so
 * every redrive is authenticated, authorised (admin) and audited like any other operator action.
 *
 *   npm run redrive -- --reason "LOS lost decisions 10:00-11:00" --uid <uid> [--uid <uid> …]
 *   npm run redrive -- --reason "…" --query "BeginiHandoff = 'rejected'" [--dry-run] [--limit 100] [--per-second 2]
 *
 * OPERATOR_TOKEN (a named token or a JWT) and OPERATOR_API_URL (default http://127.0.0.1:9465).
 * Journeys go one at a time at most --per-second, each printed as it is done; --dry-run only lists.
 */
import { parseArgs } from 'node:util';
import { EXIT, StartupError, UsageError } from '../failures';
import { paced } from './pace';

export interface RedriveOutcome {
  uid: string;
  result: string;
  status: number;
}

type Print = (line: string) => void;

const USAGE =
  'usage: npm run redrive -- --reason <text> (--uid <uid>… | --query <visibility filter>) [--dry-run] [--limit N] [--per-second N] [--integration <id>]';

/** Runs the redrive; returns each journey's outcome. Throws UsageError for a wrong command line. */
export async function redrive(
  argv: string[],
  env: Record<string, string | undefined>,
  print: Print = console.log,
): Promise<RedriveOutcome[]> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        reason: { type: 'string' },
        uid: { type: 'string', multiple: true },
        query: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        limit: { type: 'string', default: '100' },
        'per-second': { type: 'string', default: '2' },
        integration: { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const reason = values.reason?.trim();
  const uids = values.uid ?? [];
  const limit = Number(values.limit);
  const perSecond = Number(values['per-second']);
  if (!reason) throw new UsageError(`--reason is required: it is recorded on every journey\n${USAGE}`);
  if (uids.length > 0 === (values.query !== undefined)) throw new UsageError(`give --uid or --query\n${USAGE}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit must be 1 to 500');
  if (!(perSecond > 0 && perSecond <= 50)) throw new UsageError('--per-second must be above 0 and at most 50');
  const token = env.OPERATOR_TOKEN;
  if (!token) throw new UsageError('OPERATOR_TOKEN is required: your operator token (admin role) or JWT');
  const base = (env.OPERATOR_API_URL ?? 'http://127.0.0.1:9465').replace(/\/+$/, '');
  const integration = values.integration ? `integration=${encodeURIComponent(values.integration)}` : '';

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    return { status: response.status, json };
  };

  let targets = uids;
  if (values.query !== undefined) {
    const params = new URLSearchParams({ query: values.query, limit: String(limit) });
    if (values.integration) params.set('integration', values.integration);
    const listed = await call('GET', `/journeys?${params}`);
    if (listed.status !== 200)
      throw new Error(
        `listing failed: HTTP ${listed.status} ${String(listed.json.reason ?? '')} ${String(listed.json.detail ?? '')}`,
      );
    const journeys = listed.json.journeys as Array<{ uid: string; status: string }>;
    targets = journeys.filter((j) => j.status === 'RUNNING').map((j) => j.uid);
    print(`${journeys.length} journeys match ${String(listed.json.query)}; ${targets.length} open`);
  }
  if (values['dry-run']) {
    for (const uid of targets) print(`would redrive ${uid}`);
    return targets.map((uid) => ({ uid, result: 'would_redrive', status: 0 }));
  }
  return paced(
    targets,
    perSecond,
    async (uid): Promise<RedriveOutcome> => {
      const path = `/journeys/${encodeURIComponent(uid)}/redrive${integration ? `?${integration}` : ''}`;
      const answer = await call('POST', path, { reason });
      const redriven = answer.json.redrive as { action: string } | undefined;
      return { uid, status: answer.status, result: redriven?.action ?? String(answer.json.reason ?? 'error') };
    },
    (outcome, index) => print(`[${index + 1}/${targets.length}] ${outcome.uid}: ${outcome.result}`),
  );
}

if (require.main === module) {
  redrive(process.argv.slice(2), process.env)
    .then((outcomes) => {
      const failed = outcomes.filter((o) => o.status !== 200 && o.status !== 0).length;
      console.log(`${outcomes.length - failed} done, ${failed} refused`);
      process.exitCode = failed ? 1 : 0;
    })
    .catch((err: unknown) => {
      console.error(`redrive: ${(err as Error).message}`);
      process.exit(err instanceof StartupError ? err.exitCode : EXIT.software);
    });
}
