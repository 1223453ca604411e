import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TEST_LOG_DIR } from './paths';

/** Everything this test process has logged so far: receivers, workers and the Temporal SDK. */
export function allLogs(): string {
  return readdirSync(TEST_LOG_DIR)
    .map((file) => readFileSync(resolve(TEST_LOG_DIR, file), 'utf8'))
    .join('\n');
}

/** Returns which of `needles` appear in the logs; the caller expects none. */
export function leakedInLogs(needles: readonly string[]): string[] {
  const logs = allLogs();
  return needles.filter((needle) => logs.includes(needle));
}
