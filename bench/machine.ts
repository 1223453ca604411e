/** The machine a run measured on, recorded with its figures (they mean little without it). */
import os from 'node:os';

export type Machine = ReturnType<typeof describeMachine>;

export function describeMachine() {
  return {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}
