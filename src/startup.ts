/**
 * How entry points start and refuse to: every failure to start is one line that says what and what
 * to do, with its own exit status (sysexits.h), never a stack trace.
 */
import { ConfigError } from './config/errors';
import { EXIT, firstLine, StartupError } from './failures';
import type { Logger } from './logger';

/** Loads configuration, or logs every problem and exits: an entry point never half-starts. */
export function configOrExit<T>(load: () => T, logger: Logger): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ problems: err.problems }, 'refusing to start: invalid configuration');
      process.exit(EXIT.config);
    }
    throw err;
  }
}

/** Runs an entry point's main; a failure to start becomes one line on stderr and its exit status. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    const known = err instanceof StartupError;
    if (err instanceof ConfigError) {
      console.error(`${name}: invalid configuration: ${err.problems.join('; ')}`);
      process.exit(EXIT.config);
    }
    console.error(`${name}: ${known ? err.message : `failed: ${firstLine(err)}`}`);
    process.exit(known ? err.exitCode : EXIT.software);
  });
}
