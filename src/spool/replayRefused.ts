/**
 * `npm run replay-refused -- --integration ID [--since T] [--dry-run]`: after a signing-key fix,
 * re-verify the integration's vaulted deliveries (src/spool/vault.ts), oldest first, against the
 * keys configured now (the receiver's own configuration and verifySignature), and replay those that
 * verify the way the spool drains a row (rebuild, then signalWithStart; the spool when Temporal
 * refuses for a reason that can clear), keeping each one's receivedAt. A row leaves the vault only
 * once Temporal or the spool holds it. Prints counts, never bodies, uids or keys.
 *
 * Exit codes: 0 nothing failed; 75 (EX_TEMPFAIL) a verified delivery could not be accepted, or the
 * vault could not be read (run again later); 64 a wrong command line; 78 an invalid configuration
 * or no SPOOL_DATABASE_URL.
 */
import { parseArgs } from 'node:util';
import { peekIntegrationId } from '../begini/events';
import { verifySignature } from '../begini/verifier';
import type { ReceiverConfig } from '../config/receiver';
import { deploymentFor } from '../config/deployments';
import { EXIT } from '../failures';
import { temporalRejection } from '../receiver/app';
import { rebuild, signal, type DrainDeps } from './drain';
import { spoolInstead } from './intake';
import { openOfflineStores } from './offline';
import type { SpoolStore } from './store';
import { FALLBACK_VAULT, type RefusedVault } from './vault';

export interface ReplaySummary {
  replayed: number;
  unverifiable: number;
  invalid: number;
  unreadable: number;
  failed: number;
}

export interface ReplayDeps extends Pick<DrainDeps, 'config' | 'connection' | 'clients'> {
  vault: RefusedVault;
  spool: SpoolStore;
}

export interface ReplayOptions {
  integrationId: string;
  since?: Date;
  dryRun: boolean;
  print?: (line: string) => void;
}

export async function replayRefused(deps: ReplayDeps, options: ReplayOptions): Promise<ReplaySummary> {
  const { config, vault } = deps;
  const print = options.print ?? console.log;
  const summary: ReplaySummary = { replayed: 0, unverifiable: 0, invalid: 0, unreadable: 0, failed: 0 };
  const toSpool = spoolInstead(deps.spool, () => undefined);
  const rows = await vault.rows(options.integrationId, options.since);
  print(`${rows.length} vaulted deliveries for this integration${options.dryRun ? ' (dry run)' : ''}`);
  for (const [i, row] of rows.entries()) {
    const outcome = await (async (): Promise<keyof ReplaySummary> => {
      if ('unreadable' in row) return 'unreadable';
      const deployment = deploymentFor(config, peekIntegrationId(safeJson(row.rawBody)));
      const verdict = verifySignature(row.rawBody, row.signature, deployment?.keys ?? []);
      if (!verdict.ok) return 'unverifiable';
      const verified = rebuild(config, { ...row, signingKeyId: verdict.keyId });
      if ('dead' in verified) return 'invalid';
      if (options.dryRun) return 'replayed';
      try {
        await signal(deps, verified);
      } catch (err) {
        const refusal = temporalRejection(err);
        if (refusal.status !== 503) return 'invalid';
        // The spool holds it, or the run failed for a reason that can clear.
        if (
          !(await toSpool(verified, refusal).then(
            () => true,
            () => false,
          ))
        )
          return 'failed';
      }
      await vault.remove(row.id);
      return 'replayed';
    })();
    summary[outcome]++;
    if ((i + 1) % 100 === 0) print(`${i + 1}/${rows.length} done`);
  }
  const verb = options.dryRun ? 'would replay (verified)' : 'verified and replayed';
  print(
    `${verb}: ${summary.replayed}; still unverifiable: ${summary.unverifiable}; invalid: ${summary.invalid}; ` +
      `unreadable: ${summary.unreadable}; failed: ${summary.failed}`,
  );
  return summary;
}

function safeJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return undefined;
  }
}

const USAGE = 'usage: npm run replay-refused -- --integration <id> [--since <ISO time>] [--dry-run]';

/** The vault's name for an integration: the id, or with BEGINI_API_KEY the one partition. */
export function vaultName(config: ReceiverConfig, integrationId: string): string {
  return config.fallback ? FALLBACK_VAULT : integrationId;
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        integration: { type: 'string' },
        since: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(EXIT.usage);
  }
  const since = values.since === undefined ? undefined : new Date(values.since);
  if (!values.integration || (since && Number.isNaN(since.getTime()))) {
    console.error(USAGE);
    process.exit(EXIT.usage);
  }
  const stores = openOfflineStores(process.env, 'SPOOL_DATABASE_URL is not set: there is no vault');
  if ('refused' in stores) {
    console.error(`replay-refused: ${stores.refused}`);
    process.exit(stores.exitCode);
  }
  try {
    const summary = await replayRefused(stores, {
      integrationId: vaultName(stores.config, values.integration),
      since,
      dryRun: values['dry-run'],
    });
    process.exitCode = summary.failed > 0 ? EXIT.tempfail : 0;
  } finally {
    await stores.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`replay-refused: ${(err as Error).name}: ${(err as Error).message}`);
    process.exit(EXIT.tempfail);
  });
}
