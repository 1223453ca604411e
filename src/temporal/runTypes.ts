/**
 * The workflow type of runs this process has reached, by run ID (a run's type never changes, and run
 * IDs are unique across namespaces): a bounded, least-recently-used memory, so that a delivery to a
 * run it already knows costs no describe.
 */
const runTypes = new Map<string, string>();
export const RUN_TYPES_REMEMBERED = 10_000;

export function rememberRunType(runId: string, type: string): void {
  runTypes.delete(runId);
  runTypes.set(runId, type);
  if (runTypes.size > RUN_TYPES_REMEMBERED) runTypes.delete(runTypes.keys().next().value!);
}

export function knownRunType(runId: string): string | undefined {
  return runTypes.get(runId);
}

type WorkflowService = {
  signalWithStartWorkflowExecution(req: SignalWithStartRequest): Promise<SignalWithStartResponse>;
};
interface SignalWithStartRequest {
  workflowType?: { name?: string | null } | null;
}
interface SignalWithStartResponse {
  runId?: string | null;
  started?: boolean | null;
}

/**
 * `service` with every signalWithStart that *started* a run remembered with the type it started: the
 * SDK's signalWithStart returns only the run ID, but the response says whether it started that run.
 * A server that does not say so (older than the field) leaves the run unknown, so it is described.
 */
export function rememberingStarts<S extends object>(service: S): S {
  const starts = service as unknown as WorkflowService;
  return new Proxy(service, {
    get(target, method, receiver) {
      if (method === 'signalWithStartWorkflowExecution') {
        return async (req: SignalWithStartRequest) => {
          const res = await starts.signalWithStartWorkflowExecution(req);
          if (res.started && res.runId && req.workflowType?.name) rememberRunType(res.runId, req.workflowType.name);
          return res;
        };
      }
      const value = Reflect.get(target, method, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
