/**
 * The workflow code as one prebuilt bundle, made by `npm run build` (dist/workflow-bundle.js): the
 * production worker loads it instead of bundling at every start, and the replay tests replay it.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/** Beside the compiled code: dist/workflow-bundle.js. */
export const WORKFLOW_BUNDLE_PATH = resolve(__dirname, '..', '..', 'workflow-bundle.js');

export async function buildWorkflowBundle(outFile = WORKFLOW_BUNDLE_PATH): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../workflows'),
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
  writeFileSync(outFile, code);
}

if (require.main === module) {
  buildWorkflowBundle().catch((err: unknown) => {
    console.error(`could not bundle the workflows: ${(err as Error).message}`);
    process.exit(1);
  });
}
