/**
 * What a run leaves under bench/results/: the whole report as JSON, the in-memory ack path as an SVG
 * chart, phase F (CPU against the floors) as another, `<time>…-floors.svg`, and the open loop's
 * latency by offered load as a third, `<time>…-latency.svg`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AckPath } from './ackPath';
import { ackPathChart, type Series } from './chart';
import type { Floors } from './floors';
import { floorCaption } from './floorsReport';
import { floorChart } from './floorChart';
import { latencyChart } from './latencyChart';
import type { Latency } from './openLoop';
import type { Machine } from './machine';
import { runKind, type BenchOptions, type Size } from './options';
import type { runCostModel } from './runCostModel';
import type { SpoolBenchResult } from './spool';
import type { InMemoryPhases, SqlitePhases } from './stackPhases';
import type { targets } from './targets';

/** The SQLite phases, spool and cluster are missing on a --memory-only run. */
export type BenchResults = Partial<SqlitePhases> & {
  spool?: SpoolBenchResult;
  cluster?: Record<string, unknown>;
} & InMemoryPhases & { costModel: ReturnType<typeof runCostModel>; floors: Floors };

export interface BenchReport {
  when: string;
  mode: string;
  machine: Machine;
  size: Size;
  results: BenchResults;
  targets: ReturnType<typeof targets>;
}

const DIR = resolve(__dirname, 'results');

/** Writes both files, named by the run's time and kind; the JSON file's path. */
export function writeResultFiles(report: BenchReport, options: BenchOptions): string {
  mkdirSync(DIR, { recursive: true });
  const stem = resolve(
    DIR,
    `${report.when.replace(/[:.]/g, '-')}${options.quick ? '-quick' : ''}${options.memoryOnly ? '-memory' : ''}`,
  );
  const file = `${stem}.json`;
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(
    `${stem}.svg`,
    ackPathChart(
      chartSeries(report.results.inMemoryServer.ackPath),
      `Ack path, in-memory dev server, ${report.size.ack} deliveries per point, ${report.when.slice(0, 10)} (${runKind(options)} run, ${report.machine.cpus} cores shared)`,
    ),
  );
  const floors = report.results.floors;
  writeFileSync(
    `${stem}-floors.svg`,
    floorChart(floors, floorCaption(floors, report.when, runKind(options), report.machine)),
  );
  writeFileSync(`${stem}-latency.svg`, latencyChart(report.results.latency, latencyCaption(report, runKind(options))));
  return file;
}

/** One phase run alone (`-- --floors-only`, `-- --latency-only`): its JSON, and F's chart; the JSON's path. */
export function writePhaseFiles(
  report: { when: string; mode: string; machine: Machine; results: object },
  name: 'floors' | 'latency',
): string {
  mkdirSync(DIR, { recursive: true });
  const stem = resolve(DIR, `${report.when.replace(/[:.]/g, '-')}-${report.mode.split(',')[0]}-${name}`);
  writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
  if (name === 'floors') {
    const floors = report.results as Floors;
    writeFileSync(`${stem}.svg`, floorChart(floors, floorCaption(floors, report.when, report.mode, report.machine)));
  } else {
    const { latency } = report.results as { latency: Latency };
    writeFileSync(`${stem}.svg`, latencyChart(latency, latencyCaption(report, report.mode)));
  }
  return `${stem}.json`;
}

function latencyCaption(report: { when: string; machine: Machine }, kind: string): string {
  return `In-memory dev server, receiver and worker from dist/, ${report.when.slice(0, 10)} (${kind} run, ${report.machine.cpus} cores shared)`;
}

/** Throughput and p99 by concurrency, one line per target. */
function chartSeries(memoryAck: AckPath): Series {
  const series: Series = {};
  for (const [name, target] of [
    ['receiver', 'receiver'],
    ['direct signalWithStart', 'direct'],
    ['bare HTTP + HMAC', 'bare'],
  ] as const) {
    series[name] = Object.entries(memoryAck).map(([c, row]) => ({
      concurrency: Number(c),
      throughput: row[target].throughput,
      p99: row[target].p99,
    }));
  }
  return series;
}
