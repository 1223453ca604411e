/**
 * `npx tsx bench/profileWorker.ts [--journeys N]` (after `npm run build`): the worker under
 * `--cpu-prof` on the in-memory stack, N happy journeys (600 by default; the receiver's
 * signalWithStart with its payloads, 32 in flight), then the profile summarised by part
 * (bench/profileSummary.ts). Its start-up (loading modules and the bundle) is in the profile too.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WORKFLOW_TYPES } from '../workflows/definitions';
import { signalWithStartOf } from './deliveries';
import { decided } from './floors';
import { sendScoredJourneys } from './load';
import { summarise } from './profileSummary';
import { TASK_QUEUE, withStack } from './stack';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { journeys: { type: 'string', default: '600' } } });
  const journeys = Number(values.journeys);
  const dir = mkdtempSync(join(tmpdir(), 'worker-profile-'));
  process.env.BENCH_PROFILE_DIR = dir;
  await withStack('memory', {}, async (stack) => {
    const uids = Array.from({ length: journeys }, (_, i) => `P-${i}`);
    await sendScoredJourneys(signalWithStartOf(stack.client, WORKFLOW_TYPES.journey, TASK_QUEUE), uids);
    await decided(stack, 'P-', journeys);
  });
  console.log(`profiles in ${dir}`);
  for (const line of summarise(dir)) console.log(line);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
