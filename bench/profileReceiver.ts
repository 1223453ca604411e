/**
 * `npx tsx bench/profileReceiver.ts [--deliveries N] [--concurrency C]` (after `npm run build`): the
 * receiver under `--cpu-prof` on the in-memory stack, N signed `application.complete` deliveries for
 * new applicants (2,000 by default, 16 in flight, as phase F's receiver cells), then the profile
 * summarised by part (bench/profileSummary.ts). Its start-up is in the profile too.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureCell } from './ackPath';
import { summarise } from './profileSummary';
import { withStack } from './stack';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { deliveries: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '16' } },
  });
  const dir = mkdtempSync(join(tmpdir(), 'receiver-profile-'));
  process.env.BENCH_PROFILE_DIR = dir;
  process.env.BENCH_PROFILE_PROCESS = 'receiver';
  await withStack('memory', {}, async (stack) => {
    const cell = await measureCell(stack, 'R-', 'receiver', Number(values.concurrency), Number(values.deliveries));
    console.log(`receiver: ${cell.cpuMsPerDelivery} ms CPU per delivery`);
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
