/**
 * `npx tsx bench/clientCpu.ts`: CPU per `signalWithStart` of the two Temporal client connections,
 * grpc-js `Connection` and Rust-core `NativeConnection`, in alternating rounds in one process
 * against an in-memory dev server (no worker: the calls only start journeys). Prints, asserts
 * nothing. The receiver uses `NativeConnection` (src/temporal/connection.ts) on these figures.
 */
import { Client, Connection, WorkflowIdConflictPolicy, type ConnectionLike } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { freePort } from '../src/freePort';
import { startDevServer } from '../dev/devServer';

const CALLS = 3_000;
const CONCURRENCY = 64;
const ROUNDS = 3;

async function round(label: string, connection: ConnectionLike): Promise<void> {
  const client = new Client({ connection });
  const stamp = Date.now();
  let next = 0;
  const cpu = process.cpuUsage();
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < CALLS) {
        const i = next++;
        await client.workflow.signalWithStart('clientCpu', {
          taskQueue: 'client-cpu',
          workflowId: `${label}-${stamp}-${i}`,
          args: [{ input: 'x'.repeat(300) }],
          signal: 'event',
          signalArgs: [{ delivery: 'y'.repeat(800) }],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        });
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `${label.padEnd(8)} ${(CALLS / seconds).toFixed(1)}/s  ${((used.user + used.system) / 1000 / CALLS).toFixed(3)} ms CPU per call`,
  );
}

async function main(): Promise<void> {
  const server = await startDevServer({ port: await freePort(), uiPort: null, dbFile: null });
  const grpcJs = await Connection.connect({ address: server.address });
  const native = await NativeConnection.connect({ address: server.address });
  try {
    for (let r = 0; r < ROUNDS; r++) {
      await round('grpc-js', grpcJs);
      await round('native', native);
    }
  } finally {
    await grpcJs.close();
    await native.close();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
