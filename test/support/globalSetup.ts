/**
 * One real Temporal dev server for the whole run (from the CLI scripts/ensure-temporal provides),
 * its search attributes registered, and the workflow code bundled once for every test's worker.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer } from '../../src/temporal/devServer';
import { registerSearchAttributes } from '../../src/temporal/namespace';
import { ISOLATION_NAMESPACE, TEST_DATA_DIR, TEST_LOG_DIR, WORKFLOW_BUNDLE } from './paths';
import { freePort } from '../../src/dev/ports';

export default async function globalSetup(): Promise<void> {
  mkdirSync(TEST_DATA_DIR, { recursive: true });
  rmSync(TEST_LOG_DIR, { recursive: true, force: true });
  rmSync(resolve(TEST_LOG_DIR, '..', 'property-cases.log'), { force: true });
  mkdirSync(TEST_LOG_DIR, { recursive: true });
  // A second namespace, for a second deployment's journeys (integration isolation).
  const server = await startDevServer({ port: await freePort(), uiPort: null, dbFile: null, extraArgs: ['--namespace', ISOLATION_NAMESPACE] });
  (globalThis as Record<string, unknown>).__temporalDevServer = server;
  process.env.TEST_TEMPORAL_ADDRESS = server.address;

  const connection = await Connection.connect({ address: server.address });
  for (const namespace of ['default', ISOLATION_NAMESPACE]) await registerSearchAttributes(connection, namespace);
  await connection.close();

  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: silentLogger });
  writeFileSync(WORKFLOW_BUNDLE, code);
}

const silentLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
