/**
 * `npx tsx bench/profileWorker.ts [--journeys N]` (after `npm run build`): the worker under
 * `--cpu-prof` on the in-memory stack, N happy journeys (600 by default; the receiver's
 * signalWithStart with its payloads, 32 in flight), then the profile summarised by part
 * (bench/profileSummary.ts). Its start-up (loading modules and the bundle) is in the profile too.
 */
import { parseArgs } from 'node:util';
import { WORKFLOW_TYPES } from '../workflows/definitions';
import { signalWithStartOf } from './deliveries';
import { decided } from './floors';
import { sendScoredJourneys } from './load';
import { profileScript } from './profileSummary';
import { TASK_QUEUE, withStack } from './stack';

const { values } = parseArgs({ options: { journeys: { type: 'string', default: '600' } } });
const journeys = Number(values.journeys);

profileScript('worker', () =>
  withStack('memory', {}, async (stack) => {
    const uids = Array.from({ length: journeys }, (_, i) => `P-${i}`);
    await sendScoredJourneys(signalWithStartOf(stack.client, WORKFLOW_TYPES.journey, TASK_QUEUE), uids);
    await decided(stack, 'P-', journeys);
  }),
);
