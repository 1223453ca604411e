/**
 * `--resume FILE`: where an interrupted backtest left off. After every visibility page the reader
 * writes the page token to continue from and the decisions read so far; a run given the same file
 * continues from there. The file holds policy inputs (scores) and the listing's page token, so it
 * is written as one payload encrypted with the deployment's codec keys, as Temporal holds them:
 * only someone who could read the histories can read it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { defaultPayloadConverter, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { UsageError } from '../failures';
import type { RecordedDecision } from './compare';

const FORMAT = 'begini-backtest-checkpoint/v1';

export interface Checkpoint {
  /** The listing this file continues; a run with another filter may not continue it. */
  filter: string;
  limit: number;
  /** Where the listing continues (base64); null once it has ended. */
  nextPageToken: string | null;
  decisions: RecordedDecision[];
  skipped: number;
  truncated: boolean;
}

export async function writeCheckpoint(file: string, checkpoint: Checkpoint, codec: PayloadCodec): Promise<void> {
  const [sealed] = await codec.encode([defaultPayloadConverter.toPayload(checkpoint)]);
  const bytes = temporal.api.common.v1.Payload.encode(sealed!).finish();
  // Written beside and renamed over: an interruption mid-write leaves the previous page's file.
  writeFileSync(
    `${file}.tmp`,
    `${JSON.stringify({ format: FORMAT, sealed: Buffer.from(bytes).toString('base64') })}\n`,
  );
  renameSync(`${file}.tmp`, file);
}

/** The checkpoint in `file`, or null when there is none yet (the first run). */
export async function readCheckpoint(file: string, codec: PayloadCodec): Promise<Checkpoint | null> {
  if (!existsSync(file)) return null;
  let sealed: string;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; sealed?: unknown };
    if (parsed.format !== FORMAT || typeof parsed.sealed !== 'string') throw new Error('not a checkpoint');
    sealed = parsed.sealed;
  } catch {
    throw new UsageError(`--resume: ${file} is not a backtest checkpoint (delete it to start afresh)`);
  }
  const payload = temporal.api.common.v1.Payload.decode(Buffer.from(sealed, 'base64'));
  let opened;
  try {
    [opened] = await codec.decode([payload]);
  } catch (err) {
    throw new UsageError(
      `--resume: ${file} cannot be opened with these PAYLOAD_CODEC_KEYS (${(err as Error).message})`,
    );
  }
  return defaultPayloadConverter.fromPayload<Checkpoint>(opened!);
}
