/**
 * What the erasure tombstone lookup adds to each verified delivery (src/spool/tombstones.ts): the
 * receiver's own check (erasedCheck, on a pool configured as the receiver's spool pool) against a
 * throwaway PostgreSQL holding `--tombstones` erasures, closed-loop at several concurrencies, for
 * uids never erased (every ordinary delivery) and for erased ones. Not part of `npm run bench`:
 * `tsx bench/tombstone.ts [--tombstones N] [--lookups N]`, JSON to bench/results/<time>-tombstone.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AesGcmCodec, parseCodecKeys } from '../src/codec/aesGcm';
import { keyUidRefs, uidRef } from '../src/logger';
import type { Verified } from '../src/receiver/deliver';
import { SpoolStore } from '../src/spool/store';
import { ERASURE_TABLE, erasedCheck, Tombstones } from '../src/spool/tombstones';
import { ensure } from '../dev/cluster';
import { startPostgres } from '../dev/postgres';
import { BENCH_CODEC_KEYS, load, type Latencies } from './load';
import { describeMachine } from './machine';
import { runScript, writeResult } from './script';

const CONCURRENCIES = [1, 16, 64];

/** Only what the check reads of a verified delivery: the uid and its deployment's integration id. */
const verified = (uid: string) => ({ uid, deployment: { integrationId: '*' } }) as unknown as Verified;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { tombstones: { type: 'string', default: '100000' }, lookups: { type: 'string', default: '4000' } },
  });
  const tombstones = Number(values.tombstones);
  const lookups = Number(values.lookups);
  const codecKeys = parseCodecKeys(BENCH_CODEC_KEYS);
  keyUidRefs(codecKeys);
  const logDir = mkdtempSync(resolve(tmpdir(), 'bench-tombstone-'));
  const postgres = await startPostgres(ensure('ensure-postgres', 'PostgreSQL'), logDir);
  const store = new SpoolStore(postgres.url, new AesGcmCodec(codecKeys), { maxRows: 1, maxBytes: 1 });
  try {
    const table = new Tombstones(store.pool);
    await table.migrate();
    // Refs of uids ERASED-<i>, computed here: the database has no HMAC of ours.
    const refs = Array.from({ length: tombstones }, (_, i) => uidRef(`ERASED-${i}`));
    await store.pool.query(
      `INSERT INTO ${ERASURE_TABLE} (integration_id, uid_ref, erased_by, reason)
       SELECT '*', ref, 'bench', 'bench' FROM unnest($1::text[]) AS ref`,
      [refs],
    );
    await store.pool.query(`ANALYZE ${ERASURE_TABLE}`);
    const isErased = erasedCheck(table);
    await load(200, 8, async (i) => !(await isErased(verified(`WARM-${i}`))));
    const results: Record<string, { notErased: Latencies; erased: Latencies }> = {};
    for (const concurrency of CONCURRENCIES) {
      results[concurrency] = {
        notErased: await load(
          lookups,
          concurrency,
          async (i) => !(await isErased(verified(`APP-${concurrency}-${i}`))),
        ),
        erased: await load(lookups, concurrency, async (i) => isErased(verified(`ERASED-${i % tombstones}`))),
      };
    }
    const report = { machine: describeMachine(), tombstones, lookups, poolMax: 10, lookup: results };
    writeResult('tombstone', report);
    for (const [c, r] of Object.entries(results)) {
      console.log(
        `c=${c.padStart(2)} not erased ${r.notErased.throughput}/s p50 ${r.notErased.p50} p99 ${r.notErased.p99} ms (failures ${r.notErased.failures})  erased ${r.erased.throughput}/s p50 ${r.erased.p50} p99 ${r.erased.p99} ms (failures ${r.erased.failures})`,
      );
    }
  } finally {
    await store.close();
    await postgres.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
}

runScript(module, main);
