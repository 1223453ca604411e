/** Operator updates, pure: whose update a request joins, and which failures are the journey's refusals. */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Principal } from '../../src/auth/principal';
import { journeyRefusalOf, operatorUpdateId, type JourneyRefusal } from '../../src/receiver/operatorUpdate';
import { REVIEW_REJECTIONS } from '../../workflows/definitions';

const rui: Principal = { name: 'rui@lender', role: 'reviewer', method: 'token' };
const ada: Principal = { name: 'ada@lender', role: 'admin', method: 'token' };

describe('the update id', () => {
  test('the same principal and request id name the same update; another principal never does', () => {
    expect(operatorUpdateId('review', rui, 'req-1')).toBe(operatorUpdateId('review', rui, 'req-1'));
    expect(operatorUpdateId('review', ada, 'req-1')).not.toBe(operatorUpdateId('review', rui, 'req-1'));
    expect(operatorUpdateId('review', { ...rui, method: 'jwt' }, 'req-1')).not.toBe(
      operatorUpdateId('review', rui, 'req-1'),
    );
    expect(operatorUpdateId('redrive', rui, 'req-1')).not.toBe(operatorUpdateId('review', rui, 'req-1'));
  });

  test('no name and request id can be chosen to meet another pair', () => {
    const a = operatorUpdateId('review', { ...rui, name: 'a:b' }, 'c');
    const b = operatorUpdateId('review', { ...rui, name: 'a' }, 'b:c');
    expect(a).not.toBe(b);
  });
});

describe('which update failures are the journey’s refusals', () => {
  const refusals: JourneyRefusal[] = [
    { type: REVIEW_REJECTIONS.notInReview, status: 409, reason: 'not_in_review' },
    { type: REVIEW_REJECTIONS.invalid, status: 400, reason: 'invalid_review' },
  ];
  const failed = (cause: Error) => new WorkflowUpdateFailedError('Workflow Update failed', cause);

  test('the validator’s own types become their 4xx', () => {
    const conflict = journeyRefusalOf(
      failed(ApplicationFailure.nonRetryable('not in review', REVIEW_REJECTIONS.notInReview)),
      refusals,
    );
    expect(conflict).toMatchObject({ status: 409, reason: 'not_in_review', message: 'not in review' });
    expect(
      journeyRefusalOf(failed(ApplicationFailure.nonRetryable('bad', REVIEW_REJECTIONS.invalid)), refusals),
    ).toMatchObject({ status: 400, reason: 'invalid_review' });
  });

  test.each([
    [
      'the server’s rejection of an update no worker processed',
      ApplicationFailure.create({
        message:
          "Workflow Update is rejected because it wasn't processed by worker. Probably, Workflow Update is not supported by the worker.",
        nonRetryable: true,
      }),
    ],
    ['an application failure of another type', ApplicationFailure.nonRetryable('boom', 'SomethingElse')],
  ])('%s is no refusal (the caller retries)', (_name, cause) => {
    expect(journeyRefusalOf(failed(cause), refusals)).toBeUndefined();
  });

  test('an error that is not a failed update is no refusal', () => {
    expect(journeyRefusalOf(new Error('deadline exceeded'), refusals)).toBeUndefined();
  });
});
