/** Every non-200 answer: a stable reason code an integrator can act on, and a short message. */
import { z } from 'zod';
import { IntegrationError } from '../errors';

export class Rejection extends IntegrationError {
  constructor(
    readonly status: number,
    reason: string,
    message: string,
    readonly detail = 'Rejected',
    readonly headers: Record<string, string> = {},
  ) {
    super(reason, message);
  }
}

/**
 * The webhook's error body. Begini's own reference receiver answers `{"detail":"Validation
 * Failure"}`, and Begini echoes the body to integrators testing their endpoint, so the webhook keeps
 * that shape (with our reason and message beside it) rather than RFC 9457.
 */
export const webhookRejectionSchema = z
  .object({
    detail: z.string().meta({ example: 'Validation Failure' }),
    reason: z.string().meta({ description: 'A stable reason code', example: 'signature_mismatch' }),
    message: z.string(),
  })
  .meta({ id: 'WebhookRejection' });

export function webhookBody(rejection: Rejection): z.infer<typeof webhookRejectionSchema> {
  return { detail: rejection.detail, reason: rejection.reason, message: rejection.message };
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem details, for every API but the webhook: our reason code is the type's last segment and an extension member. */
export const problemSchema = z
  .object({
    type: z.string().meta({
      description: 'urn:begini-temporal:problem:<reason>',
      example: 'urn:begini-temporal:problem:invalid_query',
    }),
    title: z.string().meta({ example: 'Bad Request' }),
    status: z.number().int(),
    detail: z.string(),
    reason: z.string().meta({ description: 'A stable reason code', example: 'invalid_query' }),
  })
  .meta({ id: 'Problem' });

export function problem(rejection: Rejection): z.infer<typeof problemSchema> {
  return {
    type: `urn:begini-temporal:problem:${rejection.reason}`,
    title: rejection.detail,
    status: rejection.status,
    detail: rejection.message,
    reason: rejection.reason,
  };
}
