/**
 * Recorded histories (test/fixtures/histories, written by `RECORD_HISTORIES=1 npm test`) replayed
 * against today's workflow code. A change that is not deterministic, or not behind `patched()`,
 * fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { AesGcmCodec, parseCodecKeys } from '../src/codec/aesGcm';
import { TEST_CODEC_KEYS } from './support/begini';
import { WORKFLOW_BUNDLE } from './support/paths';
import { HISTORY_FIXTURES } from './support/stack';

// Encrypted histories, and ones recorded before payload encryption was on: both must replay.
const files = ['.', 'before-encryption']
  .flatMap((dir) => readdirSync(resolve(HISTORY_FIXTURES, dir)).filter((f) => f.endsWith('.json')).map((f) => `${dir}/${f}`))
  .sort();

test('there are enough recorded histories to mean something', () => {
  expect(files.filter((f) => f.startsWith('./')).length).toBeGreaterThanOrEqual(5);
  expect(files.filter((f) => f.startsWith('before-encryption/')).length).toBeGreaterThanOrEqual(5);
});

test('every recorded history replays without non-determinism', async () => {
  async function* histories() {
    for (const file of files) {
      yield { workflowId: file, history: historyFromJSON(JSON.parse(readFileSync(resolve(HISTORY_FIXTURES, file), 'utf8'))) };
    }
  }
  const failures: string[] = [];
  let replayed = 0;
  const dataConverter = { payloadCodecs: [new AesGcmCodec(parseCodecKeys(TEST_CODEC_KEYS))] };
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: WORKFLOW_BUNDLE }, dataConverter }, histories())) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(files.length);
});
