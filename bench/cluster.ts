/**
 * The benchmark's cluster section: the same measures as on the dev server, on the production
 * topology (a Temporal cluster on PostgreSQL, its services as separate processes; two receivers and
 * two workers installed as the image installs them). `npm run bench` calls it; alone:
 * `tsx bench/cluster.ts [--quick] [--shards N] [--workers N] [--receivers N]`.
 *   ack path     receivers round-robin, against the same signalWithStart made directly;
 *   end to end   score received to decision delivered to the LOS, in decisions per second.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { parseCodecKeys } from '../src/codec/aesGcm';
import { payloadCodec } from '../src/codec/payloadCodec';
import { LOS_SECRET, startLos } from '../dev/losStandIn';
import { startTemporalCluster } from '../dev/cluster';
import { installLikeImage, startClusterApps } from '../dev/clusterApps';
import { BENCH_CODEC_KEYS as CODEC_KEYS, BENCH_KEY as KEY, load, poster, sendScoredJourneys, summarise } from './load';
import { cpuMs } from './proc';
import { deliveryBody as body, directDelivery } from './deliveries';

const TASK_QUEUE = 'bench-cluster';

export interface ClusterBenchOptions {
  quick: boolean;
  historyShards?: number;
  workers?: number;
  receivers?: number;
}

export async function clusterBench(options: ClusterBenchOptions): Promise<Record<string, unknown>> {
  const size = options.quick ? { ack: 400, journeys: 150 } : { ack: 2_000, journeys: 600 };
  const topology = {
    historyShards: options.historyShards ?? 4,
    receivers: options.receivers ?? 2,
    workers: options.workers ?? 2,
    temporalServices: 'frontend, history, matching, worker: one process each',
  };
  // What the image holds: the compiled code and the prebuilt workflow bundle.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: resolve(__dirname, '..'), stdio: 'inherit' });
  const work = mkdtempSync(resolve(tmpdir(), 'begini-bench-cluster-'));
  const cluster = await startTemporalCluster({ logDir: resolve(work, 'logs'), historyShards: topology.historyShards });
  const los = await startLos();
  let apps: Awaited<ReturnType<typeof startClusterApps>> | undefined;
  let connection: Connection | undefined;
  try {
    installLikeImage(resolve(work, 'image'));
    apps = await startClusterApps({
      imageDir: resolve(work, 'image'),
      logDir: resolve(work, 'logs'),
      temporalAddress: cluster.address,
      receivers: topology.receivers,
      workers: topology.workers,
      env: {
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_TASK_QUEUE: TASK_QUEUE,
        PAYLOAD_CODEC_KEYS: CODEC_KEYS,
        BEGINI_API_KEY: KEY,
        LOS_CALLBACK_URL: los.url,
        LOS_CALLBACK_SECRET: LOS_SECRET,
        CODEC_AUTH_TOKEN: 'bench-codec-token-0123456789',
        LOG_LEVEL: 'warn',
      },
    });
    connection = await Connection.connect({ address: cluster.address });
    const client = new Client({
      connection,
      dataConverter: { payloadCodecs: [payloadCodec({ codecKeys: parseCodecKeys(CODEC_KEYS) })] },
    });

    const ackPath: Record<string, unknown> = {};
    for (const concurrency of [16, 64]) {
      const viaReceivers = poster(apps.receiverUrls, concurrency);
      const receiver = await load(size.ack, concurrency, (i) =>
        viaReceivers(body('application.complete', `CA-r-${concurrency}-${i}`)),
      );
      const signalWithStart = directDelivery(client, TASK_QUEUE);
      const directRow = await load(size.ack, concurrency, (i) =>
        signalWithStart(body('application.complete', `CA-d-${concurrency}-${i}`)),
      );
      ackPath[String(concurrency)] = {
        receiver,
        direct: directRow,
        throughputRatio: Number((receiver.throughput / directRow.throughput).toFixed(3)),
        p99Ratio: Number((receiver.p99 / directRow.p99).toFixed(3)),
      };
      console.log(
        `  cluster ack c=${concurrency}: receivers ${receiver.throughput}/s p99 ${receiver.p99} ms, direct ${directRow.throughput}/s p99 ${directRow.p99} ms`,
      );
    }

    // The ack phase started journeys; let the workers catch up so end to end measures decisions,
    // not that backlog.
    const drainStarted = Date.now();
    const acked = size.ack * 2 * 2;
    while (
      Number((await client.workflow.count(`WorkflowId STARTS_WITH 'CA-' AND BeginiStage = 'awaiting_scores'`)).count) <
        acked &&
      Date.now() - drainStarted < 600_000
    )
      await new Promise((r) => setTimeout(r, 500));
    const drainSeconds = Number(((Date.now() - drainStarted) / 1000).toFixed(1));
    console.log(`  cluster: workers drained the ack phase's ${acked} journeys in ${drainSeconds} s`);

    // End to end: complete then score per journey; decisions counted as they reach the LOS.
    const uids = Array.from({ length: size.journeys }, (_, i) => `CB-${i}-${Date.now().toString(36)}`);
    const post = poster(apps.receiverUrls, 32);
    const arrivals = new Map<string, number>();
    los.respond = (request) => {
      if (request.body.kind === 'decision' && !arrivals.has(request.body.uid))
        arrivals.set(request.body.uid, Date.now());
      return 200;
    };
    // CPU time per part over the whole phase: where a decision's cost goes.
    const parts = (): Record<string, number[]> => ({ ...cluster.pids(), ...apps!.pids(), load: [process.pid] });
    const cpu = () =>
      Object.fromEntries(
        Object.entries(parts()).map(([part, pids]) => [
          part,
          pids.reduce((sum, pid) => {
            try {
              return sum + cpuMs(pid);
            } catch {
              return sum; // a backend that exited meanwhile
            }
          }, 0),
        ]),
      );
    const cpuBefore = cpu();
    const started = Date.now();
    const scoreSentAt = await sendScoredJourneys(post, uids);
    while (arrivals.size < uids.length && Date.now() - started < 300_000) await new Promise((r) => setTimeout(r, 50));
    const latencies = uids.filter((u) => arrivals.has(u)).map((u) => arrivals.get(u)! - scoreSentAt.get(u)!);
    const last = Math.max(...arrivals.values());
    const summary = summarise(latencies, (last - started) / 1000, uids.length - arrivals.size);
    const endToEnd = {
      journeys: uids.length,
      decided: arrivals.size,
      decisionsPerSecond: Number((arrivals.size / ((last - started) / 1000)).toFixed(1)),
      scoreToDecisionMs: { p50: summary.p50, p99: summary.p99 },
    };
    const cpuAfter = cpu();
    const cpuMsPerDecision = Object.fromEntries(
      Object.keys(cpuAfter).map((part) => [
        part,
        Number((((cpuAfter[part] ?? 0) - (cpuBefore[part] ?? 0)) / Math.max(1, arrivals.size)).toFixed(2)),
      ]),
    );
    console.log(`  cluster end to end: ${JSON.stringify(endToEnd)}`);
    console.log(`  cluster CPU ms per decision: ${JSON.stringify(cpuMsPerDecision)}`);
    return { topology, ackPath, workerDrainSeconds: drainSeconds, endToEnd: { ...endToEnd, cpuMsPerDecision } };
  } finally {
    await apps?.stop();
    await connection?.close();
    await los.close();
    await cluster.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      shards: { type: 'string' },
      workers: { type: 'string' },
      receivers: { type: 'string' },
    },
  });
  const number = (v?: string) => (v === undefined ? undefined : Number(v));
  clusterBench({
    quick: values.quick!,
    historyShards: number(values.shards),
    workers: number(values.workers),
    receivers: number(values.receivers),
  }).then(
    (result) => {
      const file = resolve(__dirname, 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}-cluster.json`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify({ mode: values.quick ? 'quick' : 'full', cluster: result }, null, 2)}\n`);
      console.log(`${JSON.stringify(result, null, 2)}\nwrote ${file}`);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
