/**
 * What a failed signalWithStart means for Begini, decided without a server: the gRPC status or
 * error the SDK gives is mapped to a 4xx (it can never succeed), a 503 (it can clear: Begini or the
 * spool retries) or a 500 (a programming error of ours, never presented as an outage).
 */
import { temporalRejection } from '../../src/receiver/app';

describe('what a failed hand-over to Temporal means for Begini', () => {
  const grpcError = (code: number) => Object.assign(new Error('grpc'), { code, metadata: {}, details: '' });
  test.each([
    ['Temporal calls the event invalid: it can never succeed', grpcError(3), 400, 'rejected_by_temporal'],
    ['Temporal unavailable: it can clear', grpcError(14), 503, 'temporal_unavailable'],
    ['no answer before the deadline', new Error('Failed to connect before the deadline'), 503, 'temporal_timeout'],
    ['a programming error of ours is not an outage', new TypeError('x is undefined'), 500, 'internal_error'],
  ])('%s', (_name, err, status, reason) => {
    expect(temporalRejection(err)).toMatchObject({ status, reason });
  });
});
