/**
 * The workflow code as prebuilt bundles, made by `npm run build`: the production worker loads one
 * instead of bundling at every start; the replay test bundles the same code in memory. The traced bundle
 * is the same code with Temporal's OpenTelemetry workflow interceptors, for a worker with tracing
 * on (src/telemetry.ts); without them a workflow reports no spans, so tracing off costs nothing.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/** Beside the compiled code: dist/workflow-bundle.js. */
export const WORKFLOW_BUNDLE_PATH = resolve(__dirname, '..', '..', 'workflow-bundle.js');
/** dist/workflow-bundle-traced.js. */
export const TRACED_WORKFLOW_BUNDLE_PATH = resolve(__dirname, '..', '..', 'workflow-bundle-traced.js');

/** The module `OpenTelemetryPlugin` registers when it bundles: the workflow inbound, outbound and internals interceptors. */
const OTEL_WORKFLOW_INTERCEPTORS = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/**
 * The workflow code bundled in memory, as `npm run build` writes it: the replay test bundles
 * today's source this way, so it needs no build and never replays a stale file.
 */
export async function workflowBundleCode({ traced = false } = {}): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
    ...(traced ? { workflowInterceptorModules: [OTEL_WORKFLOW_INTERCEPTORS] } : {}),
    // Webpack's progress is noise here; its warnings and errors are not.
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: console.warn,
      error: console.error,
    },
  });
  return code;
}

export async function buildWorkflowBundle(outFile = WORKFLOW_BUNDLE_PATH, { traced = false } = {}): Promise<void> {
  writeFileSync(outFile, await workflowBundleCode({ traced }));
}

if (require.main === module) {
  (async () => {
    await buildWorkflowBundle();
    await buildWorkflowBundle(TRACED_WORKFLOW_BUNDLE_PATH, { traced: true });
  })().catch((err: unknown) => {
    console.error(`could not bundle the workflows: ${(err as Error).message}`);
    process.exit(1);
  });
}
