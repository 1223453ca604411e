/** Durations in configuration and policy files read like `500ms`, `30s`, `15m`, `48h` or `30d`. */
import { msToNumber } from '@temporalio/common';
import { z } from 'zod';

export const durationSchema = z.string().transform((value, ctx) => {
  let ms = Number.NaN;
  try {
    ms = msToNumber(value as Parameters<typeof msToNumber>[0]);
  } catch {
    // reported below
  }
  if (!Number.isFinite(ms) || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration such as 500ms, 30s, 15m, 48h or 30d` });
    return z.NEVER;
  }
  return ms;
});
