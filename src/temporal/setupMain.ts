/**
 * `npm run setup-temporal`: creates the namespace if needed, registers the journey search
 * attributes and sets the namespace retention on whatever cluster the TEMPORAL_* settings point at
 * (run it once per deployment namespace). Idempotent; waits for the
 * cluster to come up, so it can run as a one-shot service beside a starting server.
 */
import { Connection } from '@temporalio/client';
import { createLogger } from '../logger';
import { temporalSettings } from './connection';
import { ensureNamespace, registerSearchAttributes, setRetention } from './namespace';

const RETENTION_DAYS = Number(process.env.TEMPORAL_RETENTION_DAYS ?? 30);
const WAIT_MS = 180_000;

async function main(): Promise<void> {
  const logger = createLogger('setup-temporal');
  if (!Number.isInteger(RETENTION_DAYS) || RETENTION_DAYS < 1) throw new Error('TEMPORAL_RETENTION_DAYS must be a whole number of days');
  const temporal = temporalSettings();
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      const connection = await Connection.connect({ ...temporal.connectionOptions, connectTimeout: 5_000 });
      try {
        await ensureNamespace(connection, temporal.namespace, RETENTION_DAYS);
        await registerSearchAttributes(connection, temporal.namespace);
        await setRetention(connection, temporal.namespace, RETENTION_DAYS);
      } finally {
        await connection.close();
      }
      logger.info({ address: temporal.address, namespace: temporal.namespace, retentionDays: RETENTION_DAYS }, 'search attributes registered, retention set');
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      logger.info({ address: temporal.address, err: (err as Error).message }, 'Temporal not ready yet; retrying');
      await new Promise((r) => setTimeout(r, 3_000));
    }
  }
}

main().catch((err: unknown) => {
  console.error(JSON.stringify({ level: 'fatal', msg: 'setup-temporal failed', err: (err as Error).message }));
  process.exit(1);
});
