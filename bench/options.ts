/** What one `npm run bench [-- --quick] [-- --memory-only | --floors-only | --latency-only]` measures, and how much of it. */
import { parseArgs } from 'node:util';

/** Calls or journeys per phase: `ack` per ack-path round, `journeys` end to end, `storm`, `open`. */
export interface Size {
  ack: number;
  journeys: number;
  storm: number;
  open: number;
  /** New applicants created beside the open loop's lowest level (bench/openLoop.ts, underFlood). */
  flood: number;
  /** Seconds of arrivals at each open-loop load level (bench/openLoop.ts). */
  openLoopSeconds: number;
}

export interface BenchOptions {
  quick: boolean;
  /** Only the in-memory server's phases (its ack path, journey costs, cost model, chart): a shorter run. */
  memoryOnly: boolean;
  /** Only phase F, the worker and the receiver against their floors (bench/floors.ts). */
  floorsOnly: boolean;
  /** Only the latency at a steady load: phase B for the capacity, then the open loop (bench/openLoop.ts). */
  latencyOnly: boolean;
  size: Size;
}

/** The SQLite ack path's concurrencies, and the in-memory ones the targets are checked at. */
export const CONCURRENCIES = [16, 64];
/** The in-memory ack path, the chart's x axis: where Temporal is fastest, the receiver's share shows. */
export const MEMORY_CONCURRENCIES = [1, 4, 16, 64];

export function benchOptions(args = process.argv.slice(2)): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      'memory-only': { type: 'boolean', default: false },
      'floors-only': { type: 'boolean', default: false },
      'latency-only': { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  return {
    quick,
    memoryOnly: values['memory-only'],
    floorsOnly: values['floors-only'],
    latencyOnly: values['latency-only'],
    size: quick
      ? { ack: 400, journeys: 150, storm: 100, open: 1_000, flood: 10_000, openLoopSeconds: 20 }
      : { ack: 3_000, journeys: 1_000, storm: 500, open: 10_000, flood: 10_000, openLoopSeconds: 60 },
  };
}

/** 'quick' or 'full', the run's name in the console, the chart's caption and the report. */
export const runKind = (options: BenchOptions) => (options.quick ? 'quick' : 'full');
