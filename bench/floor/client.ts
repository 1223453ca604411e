/**
 * The receiver's Temporal floor as a process of its own (`node --import tsx bench/floor/client.ts`,
 * started by bench/floors.ts): the receiver's connection (`LazyNativeConnection`) and codec, making
 * the receiver's signalWithStart with its payloads, built before the clock starts, `CALLS` measured
 * after `WARM_UP` unmeasured, `CONCURRENCY` in flight. Prints one JSON line: its process CPU per call
 * (every thread, the Rust core's included) and its throughput.
 */
import { Client } from '@temporalio/client';
import { parseCodecKeys } from '../../src/codec/aesGcm';
import { payloadCodec } from '../../src/codec/payloadCodec';
import { LazyNativeConnection, temporalSettings } from '../../src/temporal/connection';
import { WORKFLOW_TYPES } from '../../workflows/definitions';
import { deliveryBody, signalWithStartOptions } from '../deliveries';
import { load } from '../load';

process.setSourceMapsEnabled(false);

async function main(): Promise<void> {
  const [calls, warmUp, concurrency] = ['CALLS', 'WARM_UP', 'CONCURRENCY'].map((name) => Number(process.env[name]));
  const connection = new LazyNativeConnection(temporalSettings());
  const client = new Client({
    connection,
    dataConverter: { payloadCodecs: [payloadCodec({ codecKeys: parseCodecKeys(process.env.PAYLOAD_CODEC_KEYS!) })] },
  });
  const options = Array.from({ length: warmUp! + calls! }, (_, i) =>
    signalWithStartOptions(
      deliveryBody('application.complete', `${process.env.PREFIX}${i}`),
      process.env.TEMPORAL_TASK_QUEUE!,
    ),
  );
  const call = (i: number) => client.workflow.signalWithStart(WORKFLOW_TYPES.journey, options[i]!).then(() => true);
  await load(warmUp!, concurrency!, call);
  const before = process.cpuUsage();
  const result = await load(calls!, concurrency!, (i) => call(warmUp! + i));
  const used = process.cpuUsage(before);
  console.log(JSON.stringify({ ...result, cpuMsPerCall: (used.user + used.system) / 1000 / calls! }));
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
