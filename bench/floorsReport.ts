/** Phase F on the console (bench/floors.ts), and its chart's caption. */
import type { Floors } from './floors';
import type { Machine } from './machine';

export function floorsSummary(floors: Floors): string[] {
  const lines = ['\nF. against the floors (process CPU, medians of alternating rounds, in-memory dev server):'];
  for (const [scenario, w] of Object.entries({ happy: floors.worker.happy, 'duplicate storm': floors.worker.storm })) {
    lines.push(
      `  worker ${scenario.padEnd(15)} journey ${w.workerCpuMsPerDecision} ms/decision, floor ${w.workerFloorCpuMsPerDecision} ms/decision, ratio ${w.ratio} (${w.journeysPerRound} per round)`,
    );
  }
  const shape = floors.worker.historyShape;
  lines.push(
    `  happy histories (mean of ${shape.sample}): journey ${shape.journey.events} events ${shape.journey.historyBytes} bytes, floor ${shape.floor.events} events ${shape.floor.historyBytes} bytes; ${shape.sameEventTypes} of ${shape.sample} pairs with the same event types in order`,
  );
  for (const [c, r] of Object.entries(floors.receiver)) {
    lines.push(
      `  receiver c=${c.padStart(2)} ${r.receiverCpuMsPerDelivery} ms/delivery, floor ${r.receiverFloorCpuMsPerDelivery} (bare HMAC ${r.bareHmacCpuMsPerDelivery} + client ${r.clientCpuMsPerSignalWithStart}), ratio ${r.ratio}`,
    );
  }
  lines.push(`  targets: ${JSON.stringify(floors.targets)}`);
  return lines;
}

/** The chart's caption: what, how many, when, on what. */
export function floorCaption(floors: Floors, when: string, kind: string, machine: Machine): string {
  return `Process CPU against the floors: worker per decision (${floors.worker.happy.journeysPerRound} journeys per round), receiver per delivery, ${when.slice(0, 10)} (${kind} run, ${machine.cpus} cores shared)`;
}
