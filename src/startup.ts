import { PolicyConfigError } from '../activities/policy';
import { ConfigError } from './config';
import type { Logger } from './logger';

/** EX_CONFIG: the process refuses to start because of its configuration. */
export const EXIT_CONFIG = 78;

/** Loads configuration, or logs every problem and exits: an entry point never half-starts. */
export function configOrExit<T>(load: () => T, logger: Logger): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PolicyConfigError) {
      logger.fatal({ problems: err.problems }, 'refusing to start: invalid configuration');
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}
