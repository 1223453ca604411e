/**
 * The receiver's two contracts as OpenAPI 3.1, generated from the zod schemas the code validates
 * with: the webhook Begini calls (public listener) and the operators' journey API (internal
 * listener). Committed as docs/openapi.json (`npm run openapi`), served at GET /openapi.json on the
 * internal listener, and checked against the code by the unit tests.
 */
import { z } from 'zod';
import { createDocument } from 'zod-openapi';
import { envelopeSchema } from '../begini/events';
import {
  AUDIT_ACTIONS,
  AUDIT_VIAS,
  DECIDED_BY,
  EXPERIMENT_MODES,
  MAX_PRINCIPAL_REASONS,
  OPERATOR_ROLES,
  OUTCOMES,
  POLICY_ARMS,
  REDRIVE_ACTIONS,
  STAGES,
} from '../../workflows/definitions';
import { erasureReceiptSchema } from '../operator/erase';
import { eraseBody } from './eraseRoute';
import { bulkRedriveBody, listQuery, redriveBody, reopenBody, reviewBody } from './journeysApi';
import { PROBLEM_CONTENT_TYPE, problemSchema, webhookRejectionSchema } from './rejection';

const outcome = z.enum(OUTCOMES);
const auditVia = z.enum(AUDIT_VIAS);
const decision = z
  .looseObject({
    outcome,
    reasons: z.array(z.string()),
    principalReasons: z
      .array(z.object({ code: z.string(), text: z.string() }))
      .max(MAX_PRINCIPAL_REASONS)
      .optional()
      .meta({
        description:
          "For the applicant's notice: at most four, most important first, in the policy's words; absent on decisions made before they existed",
      }),
    policyVersion: z.string(),
    policySha256: z
      .string()
      .optional()
      .meta({ description: "sha256 of the deciding policy's canonical content; absent on older decisions" }),
    decidedAt: z.string(),
    decidedBy: z.enum(DECIDED_BY),
    reviewer: z
      .string()
      .optional()
      .meta({ description: 'The authenticated principal, or the name typed in the Web UI' }),
    reviewedVia: auditVia.optional(),
    supersedes: z
      .string()
      .optional()
      .meta({ description: 'After a reopened review: the Idempotency-Key of the delivered decision this replaces' }),
  })
  .meta({ id: 'Decision' });

const reviewState = z
  .looseObject({
    reason: z.string(),
    since: z.string(),
    deadline: z.string().nullable(),
    fallback: outcome.nullable(),
    supersedes: z.string().optional(),
  })
  .meta({ id: 'ReviewState', description: 'A journey waiting for a human' });

const auditEntry = z
  .object({
    at: z.string(),
    action: z.enum(AUDIT_ACTIONS),
    via: auditVia,
    actor: z.string(),
    role: z.enum(OPERATOR_ROLES).nullable(),
    requestId: z.string().nullable(),
    what: z.string(),
    why: z.string().nullable(),
  })
  .meta({
    id: 'AuditEntry',
    description: 'One step of the journey: who, in what role, when, what, why, under which request',
  });

const redriveResult = z.object({ action: z.enum(REDRIVE_ACTIONS), outcome }).meta({ id: 'RedriveResult' });

const policyRef = z.object({ version: z.string(), sha256: z.string() });
const experiment = z
  .object({
    arm: z
      .enum(POLICY_ARMS)
      .meta({ description: 'Whose decision the journey acted on (always champion in shadow mode)' }),
    mode: z.enum(EXPERIMENT_MODES),
    share: z.number().int().min(0).max(100).meta({ description: "The challenger's share in percent (split mode)" }),
    bucket: z
      .number()
      .int()
      .min(0)
      .max(99)
      .meta({ description: "The uidRef's bucket: the challenger's when below the share" }),
    champion: policyRef,
    challenger: policyRef,
    shadow: z
      .object({
        outcome,
        reasons: z.array(z.string()),
        principalReasons: z.array(z.object({ code: z.string(), text: z.string() })),
        policyVersion: z.string(),
        policySha256: z.string(),
      })
      .optional()
      .meta({ description: "Shadow mode: the challenger's verdict, recorded and never sent to the LOS" }),
  })
  .meta({
    id: 'PolicyExperiment',
    description: 'The champion/challenger assignment, when the worker ran a challenger',
  });

const journeyView = z
  .looseObject({
    stage: z.enum(STAGES),
    decision: decision.nullable(),
    scores: z.record(z.string(), z.looseObject({})),
    events: z.array(z.looseObject({ type: z.string(), receivedAt: z.string() })),
    flags: z.array(z.string()),
    integrationId: z.string(),
    environment: z.string(),
    experiment: experiment.optional(),
    audit: z.array(auditEntry).optional(),
    auditOmitted: z.number().int().optional(),
  })
  .meta({ id: 'JourneyView', description: 'The `journey` query of workflows/definitions.ts' });

const afterCloseRun = z
  .object({
    runId: z.string(),
    status: z.string(),
    startedAt: z.string(),
    closedAt: z.string().nullable(),
    deliveries: z.number().int(),
    events: z.array(z.looseObject({ type: z.string(), receivedAt: z.string() })),
    eventsOmitted: z.number().int(),
  })
  .meta({ id: 'AfterCloseRun', description: 'A `deliveriesAfterClose` run: deliveries after the journey closed' });

const journeyApiView = journeyView
  .extend({
    afterClose: z
      .array(afterCloseRun)
      .meta({ description: 'The latest recorder runs under the uid, newest first (at most 5); empty while none' }),
  })
  .meta({ id: 'JourneyApiView', description: "The journey run's view, with deliveries after its close beside it" });

const journeyList = z.object({
  query: z.string().meta({ description: 'The visibility query that was run' }),
  journeys: z.array(
    z.object({
      uid: z.string(),
      status: z.string(),
      stage: z.string().nullable(),
      decision: z.string().nullable(),
      handoff: z.string().nullable(),
      flags: z.array(z.string()),
      startTime: z.string(),
      closeTime: z.string().nullable(),
    }),
  ),
});

const uidPath = z.object({ uid: envelopeSchema.shape.uid });
const integrationQuery = z.object({
  integration: z.string().max(128).optional().meta({ description: 'With several deployments: whose journeys' }),
});

const webhookError = (description: string) => ({
  description,
  content: { 'application/json': { schema: webhookRejectionSchema } },
});
const problems = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema } },
});
const operatorErrors = {
  '400': problems(
    'Invalid parameters or body (`invalid_query`, `invalid_uid`, `invalid_review`, `unknown_reason_code`, `invalid_reopen`, `invalid_json`, `integration_required`, `bad_request`)',
  ),
  '401': problems(
    'No usable credential (`missing_credentials`, `invalid_token`, `expired_token`); WWW-Authenticate: Bearer',
  ),
  '403': problems('The principal’s role does not allow this (`insufficient_role`)'),
  '404': problems('No such journey or integration (`unknown_journey`, `unknown_integration`)'),
  '503': problems('Temporal unreachable, or the identity provider’s keys out of reach (`jwks_unavailable`)'),
};

const bulkResult = z.object({
  query: z.string(),
  dryRun: z.boolean(),
  matched: z.number().int(),
  journeys: z.array(
    z.object({
      uid: z.string(),
      result: z.enum(['would_redrive', 'resend', 'redeliver', 'retry_now', 'refused']),
      reason: z.string().optional(),
    }),
  ),
});

export function openApiDocument() {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Begini × Temporal receiver',
      version: '2026-11',
      description:
        'The webhook Begini calls (public listener, PORT) and the journey API for operators (internal listener, INTERNAL_PORT).',
    },
    components: {
      securitySchemes: {
        operatorToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A named operator token (OPERATOR_TOKENS_FILE) or a JWT of the identity provider (OPERATOR_JWKS_URL); roles viewer < reviewer < admin',
        },
      },
    },
    paths: {
      '/webhooks/begini': {
        post: {
          summary: 'A Begini webhook delivery',
          description:
            'X-Signature is HMAC-SHA512 (hex) of the raw body, keyed with the API key of the deployment the body names. 200 only once Temporal has durably accepted the event.',
          requestParams: {
            header: z.object({ 'x-signature': z.string().meta({ description: '128 hex characters' }) }),
          },
          requestBody: { required: true, content: { 'application/json': { schema: envelopeSchema } } },
          responses: {
            '200': {
              description:
                'Durably accepted; or `erased`: the uid was erased (POST /journeys/{uid}/erase), so nothing was started and nothing is kept',
              content: { 'application/json': { schema: z.object({ status: z.enum(['accepted', 'erased']) }) } },
            },
            '400': webhookError('Not JSON, a bad envelope, too deeply nested, or refused by Temporal'),
            '403': webhookError('Missing, malformed or mismatched signature'),
            '405': webhookError('Not POST'),
            '413': webhookError('Body over the limit'),
            '415': webhookError('Not application/json, or compressed'),
            '422': webhookError(
              'An event older than the deployment accepts, whose journey is closed (`event_too_old`)',
            ),
            '429': webhookError(
              'More deliveries for this uid than the per-uid limit allows in its window (`uid_rate_limited`); retry after Retry-After',
            ),
            '503': webhookError(
              'Temporal unreachable or overloaded, the journeys behind and the event carries no score (`journeys_backlogged`), or whether the uid was erased cannot be checked (`erasure_check_unavailable`); retry (Retry-After)',
            ),
          },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness',
          responses: {
            '200': {
              description: 'Up',
              content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
            },
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: Temporal answers, or with the spool on, its database does',
          responses: {
            '200': {
              description: 'Ready',
              content: { 'application/json': { schema: z.object({ status: z.literal('ready') }) } },
            },
            '503': {
              description:
                'Temporal unreachable (`temporal_unreachable`), or with the spool on its database (`database_unreachable`)',
              content: {
                'application/json': { schema: z.object({ status: z.literal('unavailable'), reason: z.string() }) },
              },
            },
          },
        },
      },
      '/journeys': {
        get: {
          summary: 'Journeys from visibility (internal listener; viewer)',
          security: [{ operatorToken: [] }],
          requestParams: { query: listQuery },
          responses: {
            '200': { description: 'Matching journeys', content: { 'application/json': { schema: journeyList } } },
            ...operatorErrors,
          },
        },
      },
      '/journeys/{uid}': {
        get: {
          summary:
            "One journey: the journey run's `journey` query, with its audit trail and the deliveries after its close (internal listener; viewer)",
          security: [{ operatorToken: [] }],
          requestParams: { path: uidPath, query: integrationQuery },
          responses: {
            '200': { description: 'The journey', content: { 'application/json': { schema: journeyApiView } } },
            ...operatorErrors,
            '404': problems(
              'No such journey or integration, or only deliveries after the close of a journey no longer retained (`unknown_journey`, `unknown_integration`, `journey_not_retained`)',
            ),
          },
        },
      },
      '/journeys/{uid}/review': {
        post: {
          summary:
            'Review a referred journey: the `review` update, recorded as the principal (internal listener; reviewer)',
          security: [{ operatorToken: [] }],
          requestParams: { path: uidPath, query: integrationQuery },
          requestBody: { required: true, content: { 'application/json': { schema: reviewBody } } },
          responses: {
            '200': { description: 'The decision', content: { 'application/json': { schema: z.object({ decision }) } } },
            '409': problems(
              'The journey is not in review, its review deadline has passed (the fallback decides), or it has closed (`not_in_review`, `review_deadline_passed`, `journey_closed`)',
            ),
            '413': problems('A body over 16 KiB (`payload_too_large`)'),
            ...operatorErrors,
          },
        },
      },
      '/journeys/{uid}/reopen': {
        post: {
          summary:
            'Put a delivered decision the applicant contests back in review: the `reopen` update (internal listener; reviewer). The next review decides anew, sent under a new Idempotency-Key with `supersedes`; past `reviewWithin` the delivered decision stands',
          security: [{ operatorToken: [] }],
          requestParams: { path: uidPath, query: integrationQuery },
          requestBody: { required: true, content: { 'application/json': { schema: reopenBody } } },
          responses: {
            '200': {
              description: 'The review it opened',
              content: { 'application/json': { schema: z.object({ review: reviewState }) } },
            },
            '409': problems(
              'The journey has no delivered decision to reopen (undecided, in review, delivering, or delivered before reopening existed), or it has closed (`not_reopenable`, `journey_closed`)',
            ),
            '413': problems('A body over 16 KiB (`payload_too_large`)'),
            ...operatorErrors,
          },
        },
      },
      '/journeys/{uid}/redrive': {
        post: {
          summary: 'Hand the current decision to the LOS again: the `redrive` update (internal listener; admin)',
          security: [{ operatorToken: [] }],
          requestParams: { path: uidPath, query: integrationQuery },
          requestBody: { required: true, content: { 'application/json': { schema: redriveBody } } },
          responses: {
            '200': {
              description: 'What the journey will do',
              content: { 'application/json': { schema: z.object({ redrive: redriveResult }) } },
            },
            '409': problems(
              'Nothing to hand off again, or the journey has closed (`not_redrivable`, `journey_closed`)',
            ),
            '413': problems('A body over 16 KiB (`payload_too_large`)'),
            ...operatorErrors,
          },
        },
      },
      '/journeys/{uid}/erase': {
        post: {
          summary:
            "Erase the applicant from this integration: a tombstone, then every run under the uid's workflow ID, its spool and vault rows; the LOS keeps its own record (internal listener; admin)",
          security: [{ operatorToken: [] }],
          requestParams: { path: uidPath, query: integrationQuery },
          requestBody: { required: true, content: { 'application/json': { schema: eraseBody } } },
          responses: {
            '200': {
              description: 'Erased, or nothing was held (`found: false`); idempotent',
              content: { 'application/json': { schema: z.object({ erasure: erasureReceiptSchema }) } },
            },
            ...operatorErrors,
            '400': problems('No reason, or another field (`invalid_erase`), or a bad uid or integration'),
            '409': problems(
              'No SPOOL_DATABASE_URL: nowhere to keep the tombstone (`erasure_needs_database`); retrying cannot clear it',
            ),
            '413': problems('A body over 16 KiB (`payload_too_large`)'),
            '503': problems(
              'Runs still found past the bound (`erasure_incomplete`), or the database or Temporal did not answer (`erasure_unavailable`); erase again',
            ),
          },
        },
      },
      '/journeys/redrive': {
        post: {
          summary:
            'Redrive every open journey a filter selects, paced, or list them (dryRun) (internal listener; admin)',
          security: [{ operatorToken: [] }],
          requestParams: { query: integrationQuery },
          requestBody: { required: true, content: { 'application/json': { schema: bulkRedriveBody } } },
          responses: {
            '200': {
              description: 'Each journey and its result',
              content: { 'application/json': { schema: bulkResult } },
            },
            '413': problems('A body over 16 KiB (`payload_too_large`)'),
            ...operatorErrors,
          },
        },
      },
    },
  });
}

if (require.main === module) {
  process.stdout.write(`${JSON.stringify(openApiDocument(), null, 2)}\n`);
}
