/**
 * `npm run erase -- --uid <uid> --reason <text> [--integration <id>]`: the erasure of
 * POST /journeys/:uid/erase (src/operator/erase.ts) for an operator without the journey API, run
 * with the receiver's own environment (its Temporal, PAYLOAD_CODEC_KEYS, SPOOL_DATABASE_URL and
 * Begini deployments). Prints the receipt as JSON and logs one `operator action` audit line, by
 * uidRef; the principal is `cli:<the OS user>`.
 *
 * Exit codes: 0 erased (or nothing held: see `found`); 64 a wrong command line; 78 an invalid
 * configuration, or no SPOOL_DATABASE_URL (`erasure_needs_database`); 75 runs still found, or the
 * database or Temporal did not answer (erase again: it is idempotent).
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { selectDeployment } from '../config/deployments';
import { EXIT } from '../failures';
import { createLogger, type Logger } from '../logger';
import { openOfflineStores } from '../spool/offline';
import { Tombstones } from '../spool/tombstones';
import { erase, ErasureError, NEEDS_DATABASE_MESSAGE, type ErasureReceipt } from './erase';

const USAGE = 'usage: npm run erase -- --uid <uid> --reason <text> [--integration <id>]';

export interface EraseCliResult {
  exitCode: number;
  receipt?: ErasureReceipt;
}

export async function eraseCli(
  argv: string[],
  env: Record<string, string | undefined>,
  print: (line: string) => void = console.log,
  logger: Logger = createLogger('erase'),
): Promise<EraseCliResult> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { uid: { type: 'string' }, reason: { type: 'string' }, integration: { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    print(`erase: ${(err as Error).message}\n${USAGE}`);
    return { exitCode: EXIT.usage };
  }
  const reason = values.reason?.trim();
  if (!values.uid || !reason) {
    print(`erase: --uid and --reason are required (the reason is kept on the tombstone)\n${USAGE}`);
    return { exitCode: EXIT.usage };
  }
  const stores = openOfflineStores(env, `erasure_needs_database: ${NEEDS_DATABASE_MESSAGE}`);
  if ('refused' in stores) {
    print(`erase: ${stores.refused}`);
    return { exitCode: stores.exitCode };
  }
  const deployment = selectDeployment(stores.config, values.integration);
  if (typeof deployment === 'string') {
    await stores.close();
    print(
      `erase: ${deployment === 'integration_required' ? 'several deployments: give --integration' : 'no deployment with that integration id'}`,
    );
    return { exitCode: EXIT.usage };
  }
  const principal = `cli:${userInfo().username}`;
  try {
    const receipt = await erase(
      { spool: stores.spool, vault: stores.vault, tombstones: new Tombstones(stores.spool.pool) },
      {
        client: stores.clients.get(deployment.namespace)!,
        workflowIdPrefix: stores.config.workflowIdPrefix,
        integrationId: deployment.integrationId,
      },
      { uid: values.uid, reason, erasedBy: principal },
      { settleMs: stores.config.ackTimeoutMs },
    );
    const { uidRef, ...result } = receipt;
    logger.info(
      { audit: true, principal, role: 'admin', authMethod: 'cli', action: 'erase', uidRef, ...result },
      'operator action',
    );
    print(JSON.stringify({ erasure: receipt }));
    return { exitCode: 0, receipt };
  } catch (err) {
    const why = err instanceof ErasureError ? err.reason : 'erasure_unavailable';
    logger.info(
      { audit: true, principal, role: 'admin', authMethod: 'cli', action: 'erase', refused: why },
      'operator action',
    );
    print(`erase: ${why}: ${(err as Error).message}; erase again (it is idempotent)`);
    return { exitCode: EXIT.tempfail };
  } finally {
    await stores.close();
  }
}

if (require.main === module) {
  void eraseCli(process.argv.slice(2), process.env).then(({ exitCode }) => process.exit(exitCode));
}
