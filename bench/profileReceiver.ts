/**
 * `npx tsx bench/profileReceiver.ts [--deliveries N] [--concurrency C]` (after `npm run build`): the
 * receiver under `--cpu-prof` on the in-memory stack, N signed `application.complete` deliveries for
 * new applicants (2,000 by default, 16 in flight, as phase F's receiver cells), then the profile
 * summarised by part (bench/profileSummary.ts). Its start-up is in the profile too.
 */
import { parseArgs } from 'node:util';
import { measureCell } from './ackPath';
import { profileScript } from './profileSummary';
import { withStack } from './stack';

const { values } = parseArgs({
  options: { deliveries: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '16' } },
});

profileScript('receiver', () =>
  withStack('memory', {}, async (stack) => {
    const cell = await measureCell(stack, 'R-', 'receiver', Number(values.concurrency), Number(values.deliveries));
    console.log(`receiver: ${cell.cpuMsPerDelivery} ms CPU per delivery`);
  }),
);
