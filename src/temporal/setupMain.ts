/**
 * `npm run setup-temporal`: creates the namespace if needed, registers the journey search
 * attributes and sets the namespace retention on whatever cluster the TEMPORAL_* settings point at
 * (run it once per deployment namespace). Idempotent; waits for the cluster to come up, so it can
 * run as a one-shot service beside a starting server.
 */
import { loadSetupConfig } from '../config/setup';
import { StartupError } from '../failures';
import { createLogger } from '../logger';
import { configOrExit, runMain } from '../startup';
import { connectClient, temporalSettings } from './connection';
import { ensureNamespace, registerSearchAttributes, setRetention } from './namespace';

const WAIT_MS = 180_000;

async function main(): Promise<void> {
  const logger = createLogger('setup-temporal');
  const { retentionDays } = configOrExit(() => loadSetupConfig(), logger);
  const temporal = temporalSettings();
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const connection = await connectClient(temporal, 5_000);
      try {
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
      if (Date.now() > deadline || !(err instanceof StartupError)) throw err;
      logger.info({ address: temporal.address, err: err.message }, 'Temporal not ready yet; retrying');
      await new Promise((r) => setTimeout(r, 3_000));
    }
  }
}

runMain('setup-temporal', main);
