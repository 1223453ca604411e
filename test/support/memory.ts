/**
 * Memory a test can bound without flaking: what the process still holds after full collections.
 * RSS is not that: V8 and malloc keep freed pages for reuse, so RSS after a burst depends on what
 * else ran in the same jest worker, not on whether anything leaked.
 */
import { setImmediate } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** JS heap plus off-heap buffers still reachable once garbage has been collected. */
export async function retainedBytes(): Promise<number> {
  // Objects held only weakly survive until the current job ends, and freeing some objects makes
  // others unreachable: collect, let the turn end, and collect again.
  for (let i = 0; i < 3; i++) {
    collect();
    await setImmediate();
  }
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}
