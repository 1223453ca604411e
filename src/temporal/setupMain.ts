/**
 * `npm run setup-temporal`: creates the namespace if needed, registers the journey search
 * attributes and sets the namespace retention on whatever cluster the TEMPORAL_* settings point at
 * (run it once per deployment namespace). Idempotent; waits for the cluster to come up, so it can
 * run as a one-shot service beside a starting server. On Temporal Cloud, which refuses those calls,
 * it checks the same three things and prints the `tcld` commands for what is missing (cloudPlan.ts).
 */
import { searchAttributes } from '../../workflows/definitions';
import { loadSetupConfig } from '../config/setup';
import { StartupError, TemporalUnreachableError } from '../failures';
import { createLogger } from '../logger';
import { configOrExit, runMain } from '../startup';
import { inspectNamespace } from './cloudCheck';
import { cloudSetupPlan, isTemporalCloud } from './cloudPlan';
import { connectClient, temporalSettings } from './connection';
import { ensureNamespace, registerSearchAttributes, setRetention } from './namespace';
import type { Connection } from '@temporalio/client';

const WAIT_MS = 180_000;

async function main(): Promise<void> {
  const logger = createLogger('setup-temporal');
  const { retentionDays, mode } = configOrExit(() => loadSetupConfig(), logger);
  const temporal = temporalSettings();
  const hasApiKey = Boolean(temporal.connectionOptions.apiKey);
  const cloud = isTemporalCloud({ address: temporal.address, hasApiKey }, mode);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const connection = await connectClient(temporal, 5_000);
      try {
        if (cloud) return await checkCloud(connection, temporal.namespace, retentionDays, hasApiKey);
        await ensureNamespace(connection, temporal.namespace, retentionDays);
        await registerSearchAttributes(connection, temporal.namespace);
        await setRetention(connection, temporal.namespace, retentionDays);
      } finally {
        await connection.close();
      }
      logger.info(
        { address: temporal.address, namespace: temporal.namespace, retentionDays },
        'search attributes registered, retention set',
      );
      return;
    } catch (err) {
      if (Date.now() > deadline || !(err instanceof TemporalUnreachableError)) throw err;
      logger.info({ address: temporal.address, err: err.message }, 'Temporal not ready yet; retrying');
      await new Promise((r) => setTimeout(r, 3_000));
    }
  }
}

/** Prints what the namespace lacks and the commands that add it; fails with EX_CONFIG if anything does. */
async function checkCloud(connection: Connection, namespace: string, retentionDays: number, hasApiKey: boolean) {
  const found = await inspectNamespace(connection, namespace);
  const plan = cloudSetupPlan(
    {
      namespace,
      retentionDays,
      searchAttributes: Object.values(searchAttributes),
      auth: hasApiKey ? 'api_key' : 'mtls',
    },
    found,
  );
  if (plan.findings.length === 0) {
    console.log(
      `Temporal Cloud namespace ${namespace}: exists, retention ${found.retentionDays} days, search attributes registered`,
    );
    return;
  }
  console.log(`Temporal Cloud namespace ${namespace} is not ready for the journeys:`);
  for (const finding of plan.findings) console.log(`  - ${finding}`);
  console.log('\nRun (tcld login, or tcld --api-key <key>), or apply deploy/temporal-cloud/main.tf:\n');
  for (const command of plan.commands) console.log(command);
  throw new StartupError(
    'namespace_incomplete',
    `namespace ${namespace} is missing what the journeys need (plan above)`,
  );
}

runMain('setup-temporal', main);
