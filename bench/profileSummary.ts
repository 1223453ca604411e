/**
 * `npx tsx bench/profileSummary.ts <dir>`: the V8 CPU profiles a process wrote there (`--cpu-prof`,
 * one file per thread; bench/stack.ts's BENCH_PROFILE_DIR), summed and summarised as self time by
 * where the code lives: the workflow bundle (ours and the SDK's workflow runtime, inside the
 * workflow thread's V8 context), the SDK's worker, protobuf, our codec and activities, Node itself,
 * GC. Only JavaScript threads are profiled: the Rust core's own threads do not appear.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The first rule whose test matches a frame names its part. Order matters: specific before general. */
const PARTS: Array<[string, (url: string, fn: string) => boolean]> = [
  ['idle', (_, fn) => fn === '(idle)'],
  ['GC', (_, fn) => fn === '(garbage collector)'],
  ['V8 / native (program)', (_, fn) => fn === '(program)'],
  // One file holds both: the top functions (printed below) tell ours from the SDK's.
  [
    'workflow bundle (our workflows + SDK workflow runtime)',
    (url) => /workflow-bundle|webpack|@temporalio\/workflow/.test(url),
  ],
  ['protobuf (protobufjs, @temporalio/proto)', (url) => /protobufjs|@temporalio\/proto/.test(url)],
  ['our codec (src/codec)', (url) => /src\/codec\//.test(url)],
  ['our activities (activities/)', (url) => /\/activities\//.test(url)],
  ['SDK payload conversion (@temporalio/common)', (url) => /@temporalio\/common/.test(url)],
  ['SDK worker (@temporalio/worker, core bridge)', (url) => /@temporalio\/(worker|core-bridge)/.test(url)],
  ['other node_modules', (url) => /node_modules/.test(url)],
  ['our other code (src/)', (url) => /\/dist\/(src|workflows)\//.test(url)],
  ['Node built-ins', (url) => url.startsWith('node:') || url === ''],
];

export function partOf(url: string, functionName: string): string {
  return PARTS.find(([, test]) => test(url, functionName))?.[0] ?? 'elsewhere';
}

/** Self time in ms per `key` of each sample's frame, over every profile given. */
export function selfTime(
  profiles: Profile[],
  key: (frame: ProfileNode['callFrame']) => string,
): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const k = key(byId.get(id)!.callFrame);
      totals[k] = (totals[k] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000;
    });
  }
  return totals;
}

/** The summary's lines: self time by part, then the top functions. */
export function summarise(dir: string): string[] {
  const profiles = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => JSON.parse(readFileSync(resolve(dir, f), 'utf8')) as Profile);
  const totals = selfTime(profiles, (f) => partOf(f.url, f.functionName));
  const busy = Object.entries(totals).filter(([part]) => part !== 'idle');
  const sum = busy.reduce((n, [, ms]) => n + ms, 0);
  const share = (ms: number) => `${((100 * ms) / sum).toFixed(1).padStart(5)} %`;
  const lines = [`${profiles.length} profiles, ${sum.toFixed(0)} ms busy (idle ${(totals.idle ?? 0).toFixed(0)} ms)`];
  for (const [part, ms] of busy.sort((a, b) => b[1] - a[1]))
    lines.push(`${share(ms)}  ${ms.toFixed(0).padStart(7)} ms  ${part}`);
  const top = selfTime(profiles, (f) => `${f.functionName || '(anonymous)'}  ${f.url.split('/').slice(-2).join('/')}`);
  lines.push('', 'top functions by self time:');
  for (const [fn, ms] of Object.entries(top)
    .filter(([k]) => !k.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25))
    lines.push(`${share(ms)}  ${fn}`);
  return lines;
}

if (require.main === module) for (const line of summarise(process.argv[2]!)) console.log(line);

/**
 * A profiling script's whole life: `run` on a stack whose `which` process writes V8 CPU profiles to a
 * fresh directory (bench/stack.ts's BENCH_PROFILE_DIR), then the summary printed, then exit.
 */
export function profileScript(which: 'worker' | 'receiver', run: () => Promise<void>): void {
  const dir = mkdtempSync(join(tmpdir(), `${which}-profile-`));
  process.env.BENCH_PROFILE_DIR = dir;
  process.env.BENCH_PROFILE_PROCESS = which;
  run().then(
    () => {
      console.log(`profiles in ${dir}`);
      for (const line of summarise(dir)) console.log(line);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
