/**
 * The workflow tier's one-time setup: Temporal's time-skipping test server (scripts/ensure-test-server
 * provides it, Java from Maven Central) and the workflow code bundled once from source, so each
 * test file's worker loads it instead of bundling again.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { buildWorkflowBundle } from '../../src/worker/bundle';
import { WORKFLOW_TIER_BUNDLE } from './paths';

export default async function workflowTierSetup(): Promise<void> {
  process.env.TEMPORAL_TEST_SERVER_PATH = execFileSync(
    'bash',
    [resolve(__dirname, '../../scripts/ensure-test-server')],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  ).trim();
  await buildWorkflowBundle(WORKFLOW_TIER_BUNDLE);
}
