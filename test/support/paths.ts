import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export const TEST_DATA_DIR = resolve(__dirname, '..', '..', '.data', 'test');
mkdirSync(TEST_DATA_DIR, { recursive: true });
/** What `npm run build` makes and the production worker loads. */
export const WORKFLOW_BUNDLE = resolve(__dirname, '..', '..', 'dist', 'workflow-bundle.js');
/** The same workflows with Temporal's OpenTelemetry interceptors, for a worker with tracing on. */
export const TRACED_WORKFLOW_BUNDLE = resolve(__dirname, '..', '..', 'dist', 'workflow-bundle-traced.js');
/** The workflow tier's bundle, built from source once per run (workflowTierSetup.ts). */
export const WORKFLOW_TIER_BUNDLE = resolve(TEST_DATA_DIR, 'workflow-tier-bundle.js');
/** Recorded journey histories, replayed by test/unit/replay.test.ts against today's workflow code. */
export const HISTORY_FIXTURES = resolve(__dirname, '..', 'fixtures', 'histories');
export const TEST_LOG_DIR = resolve(__dirname, '..', '..', 'test-results', 'logs');

/** A namespace the dev server creates beside `default`, for a second deployment. */
export const ISOLATION_NAMESPACE = 'begini-second-deployment';
