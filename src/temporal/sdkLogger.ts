/**
 * Routes the Temporal SDK's own logs into pino. The SDK attaches the workflow ID, which here is
 * Begini's uid, to many lines; it is replaced by a `uidRef` so the logs stay free of uids.
 */
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import { uidRef, type Logger } from '../logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};
const RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
// Fields that can carry a uid (as or inside a workflow ID, or encoded in a task token) or payload data.
const IDENTIFYING = [
  'workflowId',
  'parentWorkflowId',
  'rootWorkflowId',
  'workflow_id',
  'task_token',
  'taskToken',
  'args',
  'result',
  'payload',
];

export function sdkLogger(logger: Logger, minimum: LogLevel = 'WARN'): SdkLogger {
  const log = (level: LogLevel, message: string, meta: LogMetadata = {}) => {
    if (RANK[level] < RANK[minimum]) return;
    const safe: Record<string, unknown> = { ...meta };
    for (const key of IDENTIFYING) {
      if (!(key in safe)) continue;
      const value = safe[key];
      delete safe[key];
      if (/orkflow_?[Ii]d$/.test(key) && typeof value === 'string')
        safe[key.replace(/_?[Ii]d$/, 'Ref')] = uidRef(value);
    }
    const failure = safe.failure as { message?: string; name?: string } | undefined;
    if (failure && typeof failure === 'object') safe.failure = { name: failure.name, message: failure.message };
    logger[LEVELS[level]](safe, message);
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
