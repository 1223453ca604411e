/**
 * Every receiver drains the spool: it takes the earliest waiting row of each uid (rows another
 * receiver holds are skipped), rebuilds the delivery exactly as it was verified (same body, so the
 * same fingerprint; the original receivedAt and signing key id), signals it the way a live delivery
 * is signalled, and deletes the row only in the transaction that held it while Temporal accepted.
 * A receiver killed mid-batch leaves its rows to be taken again: the journey's dedupe absorbs a
 * second copy of a delivery that had landed. Paced, so a backlog cannot knock Temporal over again,
 * and a deferrable row (an application) waits while any deployment's journeys are behind
 * (src/receiver/backlog.ts): drained as fast as the workers keep up, never into the backlog it waited
 * out. It holds nothing behind it, so scores and the rest keep draining.
 */
import type { Client, ConnectionLike } from '@temporalio/client';
import { parseDelivery, peekIntegrationId } from '../begini/events';
import type { ReceiverConfig } from '../config/receiver';
import { allDeployments, deploymentFor } from '../config/deployments';
import type { Logger } from '../logger';
import type { Backlogged } from '../receiver/backlog';
import { temporalRejection, withTimeout } from '../receiver/app';
import { deliver, type Landed, type Verified } from '../receiver/deliver';
import type { ReceiverMetrics } from '../receiver/metrics';
import type { SpooledRow, SpoolStore } from './store';
import type { IsErased } from './tombstones';

export interface DrainDeps {
  store: SpoolStore;
  config: ReceiverConfig;
  connection: ConnectionLike;
  clients: ReadonlyMap<string, Client>;
  logger: Logger;
  metrics: ReceiverMetrics;
  /** The receiver's backlog gate: a deferrable row waits while the journeys are behind. */
  backlogged: Backlogged;
  /** The tombstone lookup: a row of an erased uid is deleted, never signalled. */
  isErased?: IsErased;
}

/** How long an idle or backed-off drainer waits before looking again. */
const IDLE_MS = 1_000;
const MAX_BATCH = 100;

type Outcome =
  { kind: 'landed'; landed: Landed } | { kind: 'dead'; reason: string } | { kind: 'erased' } | { kind: 'retry' };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The delivery as the receiver verified it, or why it can no longer be one (its deployment was
 * removed from the configuration, or the envelope rules changed under it).
 */
export function rebuild(
  config: ReceiverConfig,
  row: Pick<SpooledRow, 'rawBody' | 'signingKeyId' | 'receivedAt'>,
): Verified | { dead: string } {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(row.rawBody));
  } catch {
    return { dead: 'invalid_json' };
  }
  const deployment = deploymentFor(config, peekIntegrationId(json));
  if (!deployment) return { dead: 'unknown_integration' };
  const parsed = parseDelivery(json);
  if (!parsed.ok) return { dead: parsed.reason };
  return {
    uid: parsed.uid,
    integrationId: parsed.integrationId,
    deployment,
    keyId: row.signingKeyId,
    event: parsed.event,
    rawBody: row.rawBody,
    receivedAt: row.receivedAt,
  };
}

/** signalWithStart as the receiver does it, within its ack timeout: what a verified delivery takes next. */
export function signal(
  deps: Pick<DrainDeps, 'config' | 'connection' | 'clients'>,
  verified: Verified,
): Promise<Landed> {
  const { config } = deps;
  return withTimeout(
    deps.connection.withDeadline(Date.now() + config.ackTimeoutMs, () =>
      deliver(
        {
          client: deps.clients.get(verified.deployment.namespace)!,
          taskQueue: config.taskQueue,
          workflowIdPrefix: config.workflowIdPrefix,
        },
        verified,
      ),
    ),
    config.ackTimeoutMs,
  );
}

export interface Drainer {
  stop(): Promise<void>;
}

export function startDrainer(deps: DrainDeps): Drainer {
  const { store, config, logger, metrics } = deps;
  const interval = 1_000 / config.spool!.drainPerSecond;
  const batchSize = Math.min(MAX_BATCH, config.spool!.drainPerSecond);
  let nextSlot = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  // After a failure that can clear, one row at a time until one lands: a probe, not a burst.
  let probing = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const paced = async () => {
    const now = Date.now();
    nextSlot = Math.max(now, nextSlot);
    const wait = nextSlot - now;
    nextSlot += interval;
    if (wait > 0) await sleep(wait);
  };

  const drainRow = async (row: SpooledRow): Promise<Outcome> => {
    const verified = rebuild(config, row);
    if ('dead' in verified) return { kind: 'dead', reason: verified.dead };
    try {
      // The erasure deletes the rows it finds; a row it raced past is checked here. Unknowable: retried later.
      if (await deps.isErased?.(verified)) return { kind: 'erased' };
    } catch {
      return { kind: 'retry' };
    }
    try {
      const landed = await signal(deps, verified);
      return { kind: 'landed', landed };
    } catch (err) {
      const rejection = temporalRejection(err);
      return rejection.status === 503 ? { kind: 'retry' } : { kind: 'dead', reason: rejection.reason };
    }
  };

  /** One batch; false when nothing waited or Temporal could not take a row. */
  const namespaces = [...new Set(allDeployments(config).map((d) => d.namespace))];
  const anyBehind = async () => (await Promise.all(namespaces.map(deps.backlogged))).some(Boolean);

  const drainBatch = async () => {
    const holdDeferrable = await anyBehind();
    return store.withBatch(
      probing ? 1 : batchSize,
      async (rows, tx, unreadable) => {
        if (unreadable) metrics.spoolFailed.inc({ reason: 'unreadable' }, unreadable);
        let halted = false;
        const started: Array<Promise<{ row: SpooledRow; outcome: Outcome }>> = [];
        for (const row of rows) {
          if (halted || stopped) break;
          await paced();
          started.push(
            drainRow(row).then((outcome) => {
              if (outcome.kind === 'retry') halted = true;
              return { row, outcome };
            }),
          );
        }
        for (const { row, outcome } of await Promise.all(started)) {
          if (outcome.kind === 'landed') {
            await tx.remove(row.id);
            metrics.spoolDrained.inc({ outcome: outcome.landed });
          } else if (outcome.kind === 'erased') {
            await tx.remove(row.id);
            metrics.erasedDeliveries.inc({ path: 'spool' });
            logger.info({ spoolRow: row.id, uidRef: row.uidRef }, 'spooled delivery of an erased uid deleted');
          } else if (outcome.kind === 'dead') {
            await tx.deadLetter(row.id, outcome.reason);
            metrics.spoolFailed.inc({ reason: outcome.reason });
            logger.error(
              { spoolRow: row.id, uidRef: row.uidRef, reason: outcome.reason },
              'spooled delivery dead-lettered',
            );
          }
        }
        probing = halted;
        return rows.length > 0 && !halted;
      },
      holdDeferrable,
    );
  };

  const loop = (async () => {
    while (!stopped) {
      let more = false;
      try {
        more = await drainBatch();
      } catch (err) {
        logger.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'spool drain failed');
      }
      if (!more && !stopped) await sleep(IDLE_MS);
    }
  })();

  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
