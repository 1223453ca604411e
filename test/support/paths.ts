import { resolve } from 'node:path';

export const TEST_DATA_DIR = resolve(__dirname, '..', '..', '.data', 'test');
export const WORKFLOW_BUNDLE = resolve(TEST_DATA_DIR, 'workflow-bundle.js');
export const TEST_LOG_DIR = resolve(__dirname, '..', '..', 'test-results', 'logs');

/** A namespace the dev server creates beside `default`, for a second deployment. */
export const ISOLATION_NAMESPACE = 'begini-second-deployment';
