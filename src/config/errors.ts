/** A bad configuration fails with one error that lists every problem, so one edit fixes them all. */
import type { z } from 'zod';
import { IntegrationError } from '../errors';

/**
 * `invalid_configuration`: a process's settings or the deployments file; `invalid_policy`: the
 * lender's policy file. Either way the process refuses to start (EX_CONFIG).
 */
export class ConfigError extends IntegrationError<'invalid_configuration' | 'invalid_policy'> {
  constructor(
    readonly problems: string[],
    reason: 'invalid_configuration' | 'invalid_policy' = 'invalid_configuration',
    subject = 'configuration',
  ) {
    super(reason, `invalid ${subject}:\n  - ${problems.join('\n  - ')}`);
  }
}

/** A schema's complaints as problems: `SETTING: what is wrong`. */
export function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
}
