/**
 * What an error from a Temporal call means, in one place for every caller (the webhook, the
 * journey API, the backtest): Temporal refusing the request itself can never clear (a 4xx or a
 * usage error); a fault of this code is not an outage (a 500); anything else may clear (a 503).
 */
import { isGrpcServiceError, ServiceError } from '@temporalio/client';

const GRPC_INVALID_ARGUMENT = 3;

/** The gRPC status behind `err`: the error itself, or the one the client's ServiceError wraps. */
function grpcStatusOf(err: unknown): { code: number; details: string } | undefined {
  if (isGrpcServiceError(err)) return err;
  if (err instanceof ServiceError && isGrpcServiceError(err.cause)) return err.cause;
  return undefined;
}

/** Temporal's reason when it calls the request itself invalid (INVALID_ARGUMENT), else null. */
export function refusedByTemporal(err: unknown): string | null {
  const grpc = grpcStatusOf(err);
  return grpc?.code === GRPC_INVALID_ARGUMENT ? grpc.details : null;
}

/** A programming error of ours (or data that cannot be read as written): retrying cannot clear it. */
export function isProgrammingError(err: unknown): boolean {
  return (
    err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError
  );
}

const GRPC_NOT_FOUND = 5;

/** Temporal has no such execution (NOT_FOUND): for a raw workflowService call, which has no typed error. */
export function notFoundInTemporal(err: unknown): boolean {
  return grpcStatusOf(err)?.code === GRPC_NOT_FOUND;
}
