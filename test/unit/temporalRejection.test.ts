/**
 * What a failed signalWithStart means for Begini, decided without a server: the gRPC status or
 * error the SDK gives is mapped to a 4xx (it can never succeed), a 503 (it can clear: Begini or the
 * spool retries) or a 500 (a programming error of ours, never presented as an outage).
 */
import { ServiceError } from '@temporalio/client';
import { temporalRejection } from '../../src/receiver/app';
import { isProgrammingError, refusedByTemporal } from '../../src/temporal/errors';

describe('what a failed hand-over to Temporal means for Begini', () => {
  const grpcError = (code: number) => Object.assign(new Error('grpc'), { code, metadata: {}, details: '' });
  test.each([
    ['Temporal calls the event invalid: it can never succeed', grpcError(3), 400, 'rejected_by_temporal'],
    [
      'the same, wrapped in the client’s ServiceError',
      new ServiceError('Failed to signalWithStart', { cause: grpcError(3) }),
      400,
      'rejected_by_temporal',
    ],
    ['Temporal unavailable: it can clear', grpcError(14), 503, 'temporal_unavailable'],
    ['no answer before the deadline', new Error('Failed to connect before the deadline'), 503, 'temporal_timeout'],
    ['a programming error of ours is not an outage', new TypeError('x is undefined'), 500, 'internal_error'],
    ['nor is data that cannot be read as written', new SyntaxError('Unexpected token'), 500, 'internal_error'],
  ])('%s', (_name, err, status, reason) => {
    expect(temporalRejection(err)).toMatchObject({ status, reason });
  });
});

describe('one mapping for every caller of Temporal (the webhook, the journey API, the backtest)', () => {
  const grpcError = (code: number, details: string) =>
    Object.assign(new Error('grpc'), { code, metadata: {}, details });
  test('Temporal’s own reason for refusing a request, bare or wrapped; null for anything else', () => {
    expect(refusedByTemporal(grpcError(3, 'bad filter'))).toBe('bad filter');
    expect(refusedByTemporal(new ServiceError('list failed', { cause: grpcError(3, 'bad filter') }))).toBe(
      'bad filter',
    );
    expect(refusedByTemporal(grpcError(14, 'unavailable'))).toBeNull();
    expect(refusedByTemporal(new Error('bad filter'))).toBeNull();
  });
  test('programming errors are told from everything that may clear', () => {
    for (const err of [new TypeError(), new RangeError(), new ReferenceError(), new SyntaxError()])
      expect(isProgrammingError(err)).toBe(true);
    for (const err of [new Error('deadline exceeded'), grpcError(14, ''), 'a string'])
      expect(isProgrammingError(err)).toBe(false);
  });
});
