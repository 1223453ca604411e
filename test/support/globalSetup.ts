/**
 * One real Temporal dev server for the whole run (from the CLI scripts/ensure-temporal provides),
 * its search attributes registered, and the project built as it ships (`npm run build`): every
 * test's worker loads the prebuilt workflow bundle the production worker loads.
 * Once per run, whichever tier asks first.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { startDevServer } from '../../dev/devServer';
import { registerSearchAttributes } from '../../src/temporal/namespace';
import { ISOLATION_NAMESPACE, TEST_DATA_DIR, TEST_LOG_DIR } from './paths';
import { freePort } from '../../src/freePort';

export default async function globalSetup(): Promise<void> {
  if ((globalThis as Record<string, unknown>).__temporalDevServer) return;
  mkdirSync(TEST_DATA_DIR, { recursive: true });
  rmSync(TEST_LOG_DIR, { recursive: true, force: true });
  rmSync(resolve(TEST_LOG_DIR, '..', 'property-cases.log'), { force: true });
  mkdirSync(TEST_LOG_DIR, { recursive: true });
  // A second namespace, for a second deployment's journeys (integration isolation).
  const server = await startDevServer({
    port: await freePort(),
    uiPort: null,
    dbFile: null,
    extraArgs: ['--namespace', ISOLATION_NAMESPACE],
  });
  (globalThis as Record<string, unknown>).__temporalDevServer = server;
  process.env.TEST_TEMPORAL_ADDRESS = server.address;

  const connection = await Connection.connect({ address: server.address });
  for (const namespace of ['default', ISOLATION_NAMESPACE]) await registerSearchAttributes(connection, namespace);
  await connection.close();

  execFileSync('npm', ['run', '--silent', 'build'], { cwd: resolve(__dirname, '..', '..'), stdio: 'inherit' });
}
