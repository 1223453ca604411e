/** Reading settings from the environment: one parse per process, and the value schemas several share. */
import { z } from 'zod';
import { CONTROL_CHARS } from '../begini/events';
import { LOG_LEVELS } from '../logger';
import { ConfigError, issuesOf } from './errors';

export type Env = Record<string, string | undefined>;

/** `NAME=` in an env file means "not set", not "set to nothing". */
export function withoutEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
}

/** The environment's settings as `schema` reads them, or a ConfigError listing every problem. */
export function parseEnv<Schema extends z.ZodType>(schema: Schema, rawEnv: Env): z.output<Schema> {
  const parsed = schema.safeParse(withoutEmpty(rawEnv));
  if (!parsed.success) throw new ConfigError(issuesOf(parsed.error));
  return parsed.data;
}

export const environmentLabel = z.enum(['test', 'production']);

/** Text that reaches workflow IDs and logs. */
export const printable = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !CONTROL_CHARS.test(value), 'must not contain control characters');

export const intFrom = (fallback: number, min = 1) => z.coerce.number().int().min(min).default(fallback);
export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
export const logLevel = z.enum(LOG_LEVELS).default('info');

/** `a, b,c` read as ['a', 'b', 'c']. */
export const commaList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s) =>
      s
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );
